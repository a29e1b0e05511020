"""The audit context (hooks_audit service): audit log entries and webhooks."""

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

# Logto's `hooks` table (plus `updated_at`): `event` is the legacy single event, `events` the list (a hook
# with a non-empty `events` ignores `event`); `config` is `{url, headers?, retries?}`
hooks = sa.Table(
    "hooks",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False, server_default=""),
    sa.Column("event", sa.String(128)),
    sa.Column("events", JSONB, nullable=False, server_default="[]"),
    sa.Column("config", JSONB, nullable=False),
    sa.Column("signing_key", sa.String(64), nullable=False, server_default=""),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    schema=SCHEMA,
)

outbox = outbox_table(SCHEMA)
inbox = inbox_table(SCHEMA)
