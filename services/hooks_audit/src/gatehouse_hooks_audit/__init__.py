"""The hooks_audit service: webhooks, audit logs from the event stream, and the dashboard."""
