"""The audit context (hooks_audit service): audit log entries."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from gatehouse_schema.tables.common import inbox_table, metadata, outbox_table

SCHEMA = "audit"

logs = sa.Table(
    "logs",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("key", sa.String(128), nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

outbox = outbox_table(SCHEMA)
inbox = inbox_table(SCHEMA)
