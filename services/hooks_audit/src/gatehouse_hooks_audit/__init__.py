"""The hooks_audit service: audit logs from the event stream (webhooks and dashboards come later)."""
