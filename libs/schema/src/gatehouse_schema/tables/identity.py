"""The identity context: OIDC signing keys (users, grants and sessions come with the identity service)."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from gatehouse_schema.tables.common import inbox_table, metadata, outbox_table

SCHEMA = "identity"

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("algorithm", sa.String(16), nullable=False),
    sa.Column("private_jwk", JSONB, nullable=False),
    sa.Column("public_jwk", JSONB, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

outbox = outbox_table(SCHEMA)
inbox = inbox_table(SCHEMA)
