"""The identity context: OIDC signing keys and users (grants and sessions come with the OIDC flows)."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

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

# OIDC state (migration 5). Codes, tokens and session ids are stored as SHA-256 digests, never as issued.
oidc_cookie_keys = sa.Table(
    "oidc_cookie_keys",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    schema=SCHEMA,
)

oidc_interactions = sa.Table(
    "oidc_interactions",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("client_id", sa.String(21), nullable=False),
    sa.Column("params", JSONB, nullable=False),
    sa.Column("prompt", sa.String(16), nullable=False),
    sa.Column("session_account_id", sa.String(21)),
    sa.Column("result", JSONB),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

oidc_sessions = sa.Table(
    "oidc_sessions",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(21), nullable=False),
    sa.Column("login_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

oidc_grants = sa.Table(
    "oidc_grants",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("account_id", sa.String(21), nullable=False),
    sa.Column("client_id", sa.String(21), nullable=False),
    sa.Column("session_id", sa.String(64)),
    sa.Column("scopes", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("resources", JSONB, nullable=False, server_default="{}"),
    sa.Column("consented", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

oidc_authorization_codes = sa.Table(
    "oidc_authorization_codes",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("grant_id", sa.String(21), nullable=False),
    sa.Column("client_id", sa.String(21), nullable=False),
    sa.Column("account_id", sa.String(21), nullable=False),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    sa.Column("code_challenge", sa.String(128)),
    sa.Column("code_challenge_method", sa.String(8)),
    sa.Column("scopes", ARRAY(sa.Text), nullable=False),
    sa.Column("resource", sa.Text),
    sa.Column("nonce", sa.Text),
    sa.Column("auth_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("consumed_at", sa.DateTime(timezone=True)),
    schema=SCHEMA,
)

oidc_tokens = sa.Table(
    "oidc_tokens",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("grant_id", sa.String(21), nullable=False),
    sa.Column("client_id", sa.String(21), nullable=False),
    sa.Column("account_id", sa.String(21), nullable=False),
    sa.Column("scopes", ARRAY(sa.Text), nullable=False),
    sa.Column("resource", sa.Text),
    sa.Column("auth_time", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("consumed_at", sa.DateTime(timezone=True)),
    sa.Column("extra", JSONB, nullable=False, server_default="{}"),  # migration 7
    schema=SCHEMA,
)

# Per-tenant OIDC settings by key (`session`: {"ttl": seconds})
oidc_configs = sa.Table(
    "oidc_configs",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", JSONB, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

# Users' enterprise SSO identities, personal access tokens and subject tokens (migration 6).
user_sso_identities = sa.Table(
    "user_sso_identities",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("user_id", sa.String(21), nullable=False),
    sa.Column("issuer", sa.String(256), nullable=False),
    sa.Column("identity_id", sa.String(128), nullable=False),
    sa.Column("detail", JSONB, nullable=False, server_default="{}"),
    sa.Column("sso_connector_id", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    schema=SCHEMA,
)

personal_access_tokens = sa.Table(
    "personal_access_tokens",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("user_id", sa.String(21), primary_key=True),
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("value", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    schema=SCHEMA,
)

subject_tokens = sa.Table(
    "subject_tokens",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(25), primary_key=True),
    sa.Column("user_id", sa.String(21), nullable=False),
    sa.Column("context", JSONB, nullable=False, server_default="{}"),
    sa.Column("creator_id", sa.String(32)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("consumed_at", sa.DateTime(timezone=True)),
    schema=SCHEMA,
)

# Device authorization (RFC 8628, migration 7): `id` is the SHA-256 digest of the device code;
# `status` is pending, approved or denied; `interaction_id` links the user's sign-in to the code.
oidc_device_codes = sa.Table(
    "oidc_device_codes",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_code", sa.String(16), nullable=False),
    sa.Column("client_id", sa.String(21), nullable=False),
    sa.Column("scopes", ARRAY(sa.Text), nullable=False),
    sa.Column("resource_scopes", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("resources", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("interaction_id", sa.String(32)),
    sa.Column("account_id", sa.String(21)),
    sa.Column("auth_time", sa.DateTime(timezone=True)),
    sa.Column("error_description", sa.Text),
    sa.Column("poll_interval", sa.Integer, nullable=False),
    sa.Column("last_polled_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("consumed_at", sa.DateTime(timezone=True)),
    schema=SCHEMA,
)

# Token claim configs by Logto's config key (migration 8): `jwt.accessToken` and `jwt.clientCredentials`
# (JWT customizers, declarative subset), `idToken` (`{"enabledExtendedClaims": [...]}`).
token_configs = sa.Table(
    "token_configs",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", JSONB, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    schema=SCHEMA,
)

secrets = sa.Table(
    "secrets",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("user_id", sa.String(21), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("encrypted_dek", sa.LargeBinary, nullable=False),
    sa.Column("iv", sa.LargeBinary, nullable=False),
    sa.Column("auth_tag", sa.LargeBinary, nullable=False),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("metadata", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

secret_social_connector_relations = sa.Table(
    "secret_social_connector_relations",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("secret_id", sa.String(21), primary_key=True),
    sa.Column("connector_id", sa.String(128), nullable=False),
    sa.Column("target", sa.String(256), nullable=False),
    sa.Column("identity_id", sa.String(256), nullable=False),
    schema=SCHEMA,
)

secret_enterprise_sso_connector_relations = sa.Table(
    "secret_enterprise_sso_connector_relations",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("secret_id", sa.String(21), primary_key=True),
    sa.Column("sso_connector_id", sa.String(128), nullable=False),
    sa.Column("issuer", sa.String(256), nullable=False),
    sa.Column("identity_id", sa.String(128), nullable=False),
    schema=SCHEMA,
)

saml_sessions = sa.Table(
    "saml_sessions",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("connector_id", sa.String(128), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("user_info", JSONB),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)
