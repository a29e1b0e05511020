"""The organizations context: organizations, the organization template (roles and scopes), memberships and the
organizations users consented third-party applications to.

User and application ids and API resource scope ids point into other contexts' tables, so they carry no
foreign key: the organizations service drops the rows when it learns of a deletion (events).
"""

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
    sa.Column("color", JSONB, nullable=False),
    sa.Column("custom_css", sa.Text),
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


organization_role_scope_relations = sa.Table(
    "organization_role_scope_relations",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("organization_role_id", sa.String(21), primary_key=True),
    sa.Column("organization_scope_id", sa.String(21), primary_key=True),
    schema=SCHEMA,
)

#: an organization role's API resource scopes (management.scopes ids): organization-level API access
organization_role_resource_scope_relations = sa.Table(
    "organization_role_resource_scope_relations",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("organization_role_id", sa.String(21), primary_key=True),
    sa.Column("scope_id", sa.String(21), primary_key=True),
    schema=SCHEMA,
)

organization_user_relations = sa.Table(
    "organization_user_relations",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("organization_id", sa.String(21), primary_key=True),
    sa.Column("user_id", sa.String(21), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

organization_role_user_relations = sa.Table(
    "organization_role_user_relations",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("organization_id", sa.String(21), primary_key=True),
    sa.Column("organization_role_id", sa.String(21), primary_key=True),
    sa.Column("user_id", sa.String(21), primary_key=True),
    schema=SCHEMA,
)

organization_application_relations = sa.Table(
    "organization_application_relations",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("organization_id", sa.String(21), primary_key=True),
    sa.Column("application_id", sa.String(21), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

organization_role_application_relations = sa.Table(
    "organization_role_application_relations",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("organization_id", sa.String(21), primary_key=True),
    sa.Column("organization_role_id", sa.String(21), primary_key=True),
    sa.Column("application_id", sa.String(21), primary_key=True),
    schema=SCHEMA,
)

#: the organizations a user consented a third-party application to (Logto's `application_user_consent_organizations`);
#: each row references the user's membership (ON DELETE CASCADE): leaving the organization drops the consent
application_user_consent_organizations = sa.Table(
    "application_user_consent_organizations",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("application_id", sa.String(21), primary_key=True),
    sa.Column("user_id", sa.String(21), primary_key=True),
    sa.Column("organization_id", sa.String(21), primary_key=True),
    schema=SCHEMA,
)
