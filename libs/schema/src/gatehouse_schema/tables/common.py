"""Tables every context schema has: the transactional outbox and the consumer inbox."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = sa.MetaData()


def outbox_table(schema: str) -> sa.Table:
    """Events waiting to be published; written in the same transaction as the state change."""
    return sa.Table(
        "outbox",
        metadata,
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("headers", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False),
        schema=schema,
    )


def inbox_table(schema: str) -> sa.Table:
    """Event ids a consumer has handled; makes redelivered events no-ops."""
    return sa.Table(
        "inbox",
        metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )
