"""Read-only queries a context publishes for other contexts. Every use is listed in docs/architecture.md."""
