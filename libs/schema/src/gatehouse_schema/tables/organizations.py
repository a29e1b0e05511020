"""The organizations context: organizations, the organization template (roles and scopes), memberships, the
organizations users consented third-party applications to, invitations and just-in-time provisioning rules.

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

#: Logto's organization invitations (RFC 0003): `invitee` is an email; `status` Pending, Accepted, Expired or
#: Revoked (a Pending one past `expires_at` reads as Expired); inviter and accepting user are identity's users
organization_invitations = sa.Table(
    "organization_invitations",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("inviter_id", sa.String(21)),
    sa.Column("invitee", sa.String(256), nullable=False),
    sa.Column("accepted_user_id", sa.String(21)),
    sa.Column("organization_id", sa.String(21), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

#: the organization roles an invitation grants when it is accepted
organization_invitation_role_relations = sa.Table(
    "organization_invitation_role_relations",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("organization_invitation_id", sa.String(21), primary_key=True),
    sa.Column("organization_role_id", sa.String(21), primary_key=True),
    schema=SCHEMA,
)

#: just-in-time provisioning: users whose email has one of these domains join the organization
organization_jit_email_domains = sa.Table(
    "organization_jit_email_domains",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("organization_id", sa.String(21), primary_key=True),
    sa.Column("email_domain", sa.String(128), primary_key=True),
    schema=SCHEMA,
)

#: just-in-time provisioning: the organization roles a provisioned user gets
organization_jit_roles = sa.Table(
    "organization_jit_roles",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("organization_id", sa.String(21), primary_key=True),
    sa.Column("organization_role_id", sa.String(21), primary_key=True),
    schema=SCHEMA,
)

#: just-in-time provisioning: users who sign up (or first sign in) through one of these enterprise SSO connectors
#: (management's, no foreign key) join the organization
organization_jit_sso_connectors = sa.Table(
    "organization_jit_sso_connectors",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("organization_id", sa.String(21), primary_key=True),
    sa.Column("sso_connector_id", sa.String(128), primary_key=True),
    schema=SCHEMA,
)
