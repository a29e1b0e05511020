"""The identity context: OIDC signing keys and users (grants and sessions come with the OIDC flows)."""

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

users = sa.Table(
    "users",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("username", sa.String(128)),
    sa.Column("primary_email", sa.String(128)),
    sa.Column("primary_phone", sa.String(128)),
    sa.Column("password_encrypted", sa.String(256)),
    sa.Column("password_encryption_method", sa.String(32)),
    sa.Column("password_expired", sa.Boolean, nullable=False),
    sa.Column("name", sa.String(128)),
    sa.Column("avatar", sa.String(2048)),
    sa.Column("profile", JSONB, nullable=False),
    sa.Column("application_id", sa.String(21)),
    sa.Column("identities", JSONB, nullable=False),
    sa.Column("custom_data", JSONB, nullable=False),
    sa.Column("logto_config", JSONB, nullable=False),
    sa.Column("mfa_verifications", JSONB, nullable=False),
    sa.Column("is_suspended", sa.Boolean, nullable=False),
    sa.Column("last_sign_in_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)
