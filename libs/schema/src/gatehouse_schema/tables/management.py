"""The management context: applications, secrets, API resources, scopes and roles."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from gatehouse_schema.tables.common import inbox_table, metadata, outbox_table

SCHEMA = "management"

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("secret", sa.String(64)),
    sa.Column("description", sa.Text),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("oidc_client_metadata", JSONB, nullable=False),
    sa.Column("custom_client_metadata", JSONB, nullable=False),
    sa.Column("protected_app_metadata", JSONB),
    sa.Column("custom_data", JSONB, nullable=False),
    sa.Column("is_third_party", sa.Boolean, nullable=False),
    sa.Column("app_level_access_control_enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

application_secrets = sa.Table(
    "application_secrets",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("application_id", sa.String(21), primary_key=True),
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("value", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    schema=SCHEMA,
)

resources = sa.Table(
    "resources",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("indicator", sa.Text, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("access_token_ttl", sa.BigInteger, nullable=False),
    schema=SCHEMA,
)

scopes = sa.Table(
    "scopes",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("resource_id", sa.String(21), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

roles = sa.Table(
    "roles",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("description", sa.String(128), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

roles_scopes = sa.Table(
    "roles_scopes",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("role_id", sa.String(21), primary_key=True),
    sa.Column("scope_id", sa.String(21), primary_key=True),
    schema=SCHEMA,
)

applications_roles = sa.Table(
    "applications_roles",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("application_id", sa.String(21), primary_key=True),
    sa.Column("role_id", sa.String(21), primary_key=True),
    schema=SCHEMA,
)

users_roles = sa.Table(
    "users_roles",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("user_id", sa.String(21), primary_key=True),
    sa.Column("role_id", sa.String(21), primary_key=True),
    # the user's `created_at` (identity.users), copied when the link is made (it never changes): a role's
    # users are listed newest first straight from the index on (tenant_id, role_id, user_created_at DESC,
    # user_id), without joining every holder before the LIMIT (migration 4)
    sa.Column("user_created_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

outbox = outbox_table(SCHEMA)
inbox = inbox_table(SCHEMA)

application_user_consent_resource_scopes = sa.Table(
    "application_user_consent_resource_scopes",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("application_id", sa.String(21), primary_key=True),
    sa.Column("scope_id", sa.String(21), primary_key=True),
    sa.Column("organization_context", sa.Boolean, primary_key=True),
    schema=SCHEMA,
)

application_user_consent_user_scopes = sa.Table(
    "application_user_consent_user_scopes",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("application_id", sa.String(21), primary_key=True),
    sa.Column("user_scope", sa.String(64), primary_key=True),
    schema=SCHEMA,
)

application_user_consent_organization_scopes = sa.Table(
    "application_user_consent_organization_scopes",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("application_id", sa.String(21), primary_key=True),
    sa.Column("organization_scope_id", sa.String(21), primary_key=True),
    schema=SCHEMA,
)

application_sign_in_experiences = sa.Table(
    "application_sign_in_experiences",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("application_id", sa.String(21), primary_key=True),
    sa.Column("color", JSONB, nullable=False),
    sa.Column("branding", JSONB, nullable=False),
    sa.Column("custom_css", sa.Text),
    sa.Column("terms_of_use_url", sa.String(2048)),
    sa.Column("privacy_policy_url", sa.String(2048)),
    sa.Column("display_name", sa.String(256)),
    schema=SCHEMA,
)

application_access_controls = sa.Table(
    "application_access_controls",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("application_id", sa.String(21), primary_key=True),
    sa.Column("rules", JSONB, nullable=False),
    schema=SCHEMA,
)

sign_in_experiences = sa.Table(
    "sign_in_experiences",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), nullable=False),
    sa.Column("settings", JSONB, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

custom_phrases = sa.Table(
    "custom_phrases",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("language_tag", sa.String(16), primary_key=True),
    sa.Column("id", sa.String(21), nullable=False),
    sa.Column("translation", JSONB, nullable=False),
    schema=SCHEMA,
)

account_centers = sa.Table(
    "account_centers",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("fields", JSONB, nullable=False),
    sa.Column("webauthn_related_origins", JSONB, nullable=False),
    sa.Column("delete_account_url", sa.String(2048)),
    sa.Column("custom_css", sa.Text),
    sa.Column("profile_fields", JSONB),
    schema=SCHEMA,
)

captcha_providers = sa.Table(
    "captcha_providers",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(128), nullable=False),
    sa.Column("config", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

logto_configs = sa.Table(
    "logto_configs",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("value", JSONB, nullable=False),
    schema=SCHEMA,
)

connectors = sa.Table(
    "connectors",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("connector_id", sa.String(128), nullable=False),
    sa.Column("config", JSONB, nullable=False),
    sa.Column("metadata", JSONB, nullable=False),
    sa.Column("sync_profile", sa.Boolean, nullable=False),
    sa.Column("enable_token_storage", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

# Enterprise SSO connectors and the SP signing keys of the SAML ones (migration 9)
sso_connectors = sa.Table(
    "sso_connectors",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("provider_name", sa.String(128), nullable=False),
    sa.Column("connector_name", sa.String(128), nullable=False),
    sa.Column("config", JSONB, nullable=False),
    sa.Column("domains", JSONB, nullable=False),
    sa.Column("branding", JSONB, nullable=False),
    sa.Column("sync_profile", sa.Boolean, nullable=False),
    sa.Column("enable_token_storage", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

saml_sso_connector_signing_keys = sa.Table(
    "saml_sso_connector_signing_keys",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("sso_connector_id", sa.String(128), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("private_key", sa.Text, nullable=False),
    sa.Column("certificate", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    schema=SCHEMA,
)

custom_profile_fields = sa.Table(
    "custom_profile_fields",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("type", sa.String(128), nullable=False),
    sa.Column("label", sa.String(128), nullable=False),
    sa.Column("description", sa.String(256)),
    sa.Column("required", sa.Boolean, nullable=False),
    sa.Column("config", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sie_order", sa.SmallInteger, nullable=False),
    schema=SCHEMA,
)
