"""The organizations context: organizations, their scopes and roles (memberships come with the service)."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from gatehouse_schema.tables.common import inbox_table, metadata, outbox_table

SCHEMA = "organizations"

outbox = outbox_table(SCHEMA)
inbox = inbox_table(SCHEMA)

organizations = sa.Table(
    "organizations",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("description", sa.String(256)),
    sa.Column("custom_data", JSONB, nullable=False),
    sa.Column("is_mfa_required", sa.Boolean, nullable=False),
    sa.Column("branding", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

organization_scopes = sa.Table(
    "organization_scopes",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("description", sa.String(256)),
    schema=SCHEMA,
)

organization_roles = sa.Table(
    "organization_roles",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("description", sa.String(256)),
    sa.Column("type", sa.String(32), nullable=False),
    schema=SCHEMA,
)
