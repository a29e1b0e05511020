from gatehouse_schema.migrations.common import outbox_and_inbox
from gatehouse_schema.migrations.step import Migration

MIGRATIONS = [
    Migration(
        1,
        "signing keys",
        outbox_and_inbox("identity")
        + """
CREATE TABLE identity.signing_keys (
    tenant_id varchar(21) NOT NULL,
    id varchar(64) NOT NULL,
    algorithm varchar(16) NOT NULL,
    private_jwk jsonb NOT NULL,
    public_jwk jsonb NOT NULL,
    status varchar(16) NOT NULL,
    effective_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
""",
    ),
    Migration(
        2,
        "users",
        """
CREATE TABLE identity.users (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    username varchar(128),
    primary_email varchar(128),
    primary_phone varchar(128),
    password_encrypted varchar(256),
    password_encryption_method varchar(32),
    name varchar(128),
    avatar varchar(2048),
    profile jsonb NOT NULL DEFAULT '{}',
    application_id varchar(21),
    identities jsonb NOT NULL DEFAULT '{}',
    custom_data jsonb NOT NULL DEFAULT '{}',
    logto_config jsonb NOT NULL DEFAULT '{}',
    mfa_verifications jsonb NOT NULL DEFAULT '[]',
    is_suspended boolean NOT NULL DEFAULT false,
    last_sign_in_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_username ON identity.users (tenant_id, lower(username)) WHERE username IS NOT NULL;
CREATE UNIQUE INDEX users_primary_email ON identity.users (tenant_id, lower(primary_email))
    WHERE primary_email IS NOT NULL;
CREATE UNIQUE INDEX users_primary_phone ON identity.users (tenant_id, primary_phone) WHERE primary_phone IS NOT NULL;
CREATE INDEX users_created ON identity.users (tenant_id, created_at DESC, id);
""",
    ),
    Migration(
        3,
        "user password expiration",
        """
ALTER TABLE identity.users ADD COLUMN password_expired boolean NOT NULL DEFAULT false;
""",
    ),
    Migration(
        5,
        "oidc interactions, sessions, grants, codes and tokens",
        """
CREATE TABLE identity.oidc_cookie_keys (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    secret varchar(64) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE identity.oidc_interactions (
    tenant_id varchar(21) NOT NULL,
    id varchar(32) NOT NULL,
    client_id varchar(21) NOT NULL,
    params jsonb NOT NULL,
    prompt varchar(16) NOT NULL,
    session_account_id varchar(21),
    result jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX oidc_interactions_expires ON identity.oidc_interactions (expires_at);
CREATE TABLE identity.oidc_sessions (
    tenant_id varchar(21) NOT NULL,
    id varchar(64) NOT NULL,
    account_id varchar(21) NOT NULL,
    login_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX oidc_sessions_account ON identity.oidc_sessions (tenant_id, account_id);
CREATE TABLE identity.oidc_grants (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    account_id varchar(21) NOT NULL,
    client_id varchar(21) NOT NULL,
    session_id varchar(64),
    scopes text[] NOT NULL DEFAULT '{}',
    resources jsonb NOT NULL DEFAULT '{}',
    consented boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX oidc_grants_account ON identity.oidc_grants (tenant_id, account_id);
CREATE UNIQUE INDEX oidc_grants_session_client ON identity.oidc_grants (tenant_id, session_id, client_id)
    WHERE session_id IS NOT NULL;
CREATE TABLE identity.oidc_authorization_codes (
    tenant_id varchar(21) NOT NULL,
    id varchar(64) NOT NULL,
    grant_id varchar(21) NOT NULL,
    client_id varchar(21) NOT NULL,
    account_id varchar(21) NOT NULL,
    redirect_uri text NOT NULL,
    code_challenge varchar(128),
    code_challenge_method varchar(8),
    scopes text[] NOT NULL,
    resource text,
    nonce text,
    auth_time timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    consumed_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, grant_id) REFERENCES identity.oidc_grants (tenant_id, id) ON DELETE CASCADE
);
CREATE TABLE identity.oidc_tokens (
    tenant_id varchar(21) NOT NULL,
    id varchar(64) NOT NULL,
    kind varchar(16) NOT NULL,
    grant_id varchar(21) NOT NULL,
    client_id varchar(21) NOT NULL,
    account_id varchar(21) NOT NULL,
    scopes text[] NOT NULL,
    resource text,
    auth_time timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    consumed_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, grant_id) REFERENCES identity.oidc_grants (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX oidc_tokens_grant ON identity.oidc_tokens (tenant_id, grant_id);
CREATE INDEX oidc_tokens_expires ON identity.oidc_tokens (expires_at);
""",
    ),
    Migration(
        4,
        "oidc key rotation and oidc configs",
        """
-- signing_keys.status: Current (signs), Next (published, signs from effective_at), Previous (verifies only)
CREATE UNIQUE INDEX signing_keys_one_per_status ON identity.signing_keys (tenant_id, status);
CREATE TABLE identity.oidc_configs (
    tenant_id varchar(21) NOT NULL,
    key varchar(64) NOT NULL,
    value jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
""",
    ),
    Migration(
        6,
        "user identities, personal access tokens, subject tokens",
        """
CREATE INDEX users_identities ON identity.users USING gin (identities jsonb_path_ops);
CREATE TABLE identity.user_sso_identities (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    user_id varchar(21) NOT NULL,
    issuer varchar(256) NOT NULL,
    identity_id varchar(128) NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}',
    sso_connector_id varchar(128) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES identity.users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX user_sso_identities_identity ON identity.user_sso_identities (tenant_id, issuer, identity_id);
CREATE INDEX user_sso_identities_user ON identity.user_sso_identities (tenant_id, user_id, sso_connector_id);
CREATE TABLE identity.personal_access_tokens (
    tenant_id varchar(21) NOT NULL,
    user_id varchar(21) NOT NULL,
    name varchar(256) NOT NULL,
    value varchar(64) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    CONSTRAINT personal_access_tokens_pkey PRIMARY KEY (tenant_id, user_id, name),
    FOREIGN KEY (tenant_id, user_id) REFERENCES identity.users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX personal_access_tokens_value ON identity.personal_access_tokens (tenant_id, value);
CREATE TABLE identity.subject_tokens (
    tenant_id varchar(21) NOT NULL,
    id varchar(25) NOT NULL,
    user_id varchar(21) NOT NULL,
    context jsonb NOT NULL DEFAULT '{}',
    creator_id varchar(32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    consumed_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES identity.users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX subject_tokens_expires ON identity.subject_tokens (expires_at);
""",
    ),
    Migration(
        7,
        "token exchange claims, device authorization codes",
        """
-- extra claims of an opaque access token (`act` of an impersonation), returned by introspection
ALTER TABLE identity.oidc_tokens ADD COLUMN extra jsonb NOT NULL DEFAULT '{}';
CREATE TABLE identity.oidc_device_codes (
    tenant_id varchar(21) NOT NULL,
    id varchar(64) NOT NULL,
    user_code varchar(16) NOT NULL,
    client_id varchar(21) NOT NULL,
    scopes text[] NOT NULL,
    resource_scopes text[] NOT NULL DEFAULT '{}',
    resources text[] NOT NULL DEFAULT '{}',
    status varchar(16) NOT NULL DEFAULT 'pending',
    interaction_id varchar(32),
    account_id varchar(21),
    auth_time timestamptz,
    error_description text,
    poll_interval integer NOT NULL,
    last_polled_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    consumed_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX oidc_device_codes_user_code ON identity.oidc_device_codes (tenant_id, user_code);
CREATE INDEX oidc_device_codes_interaction ON identity.oidc_device_codes (tenant_id, interaction_id)
    WHERE interaction_id IS NOT NULL;
CREATE INDEX oidc_device_codes_expires ON identity.oidc_device_codes (expires_at);
""",
    ),
    Migration(
        8,
        "token claim configs, per-account oidc revocation",
        """
-- JWT customizers (`jwt.accessToken`, `jwt.clientCredentials`) and the ID token claims config (`idToken`)
CREATE TABLE identity.token_configs (
    tenant_id varchar(21) NOT NULL,
    key varchar(64) NOT NULL,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
-- suspension and deletion revoke every token and code of an account in one statement each
CREATE INDEX oidc_tokens_account ON identity.oidc_tokens (tenant_id, account_id);
CREATE INDEX oidc_authorization_codes_account ON identity.oidc_authorization_codes (tenant_id, account_id);
""",
    ),
    Migration(
        9,
        "indexes for the expired oidc row sweeper",
        """
-- `oidc.sweeper` deletes expired rows in batches by `expires_at` (interactions, tokens, device codes and
-- subject tokens have theirs already), and keeps a grant while a code of it remains
CREATE INDEX oidc_sessions_expires ON identity.oidc_sessions (expires_at);
CREATE INDEX oidc_grants_expires ON identity.oidc_grants (expires_at);
CREATE INDEX oidc_authorization_codes_expires ON identity.oidc_authorization_codes (expires_at);
CREATE INDEX oidc_authorization_codes_grant ON identity.oidc_authorization_codes (tenant_id, grant_id);
""",
    ),
    Migration(
        10,
        "the secret vault: social identities' token sets, encrypted",
        """
-- Logto's `secrets`: a token set encrypted with its own key (AES-256-GCM), the key encrypted with the vault's
-- key-encryption key (`SECRET_VAULT_KEK`); `metadata` holds what may be shown (scope, token type, expiry)
CREATE TABLE identity.secrets (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    user_id varchar(21) NOT NULL,
    type varchar(64) NOT NULL,
    encrypted_dek bytea NOT NULL,
    iv bytea NOT NULL,
    auth_tag bytea NOT NULL,
    ciphertext bytea NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES identity.users ON DELETE CASCADE
);
CREATE INDEX secrets_user ON identity.secrets (tenant_id, user_id);

-- which social identity a token set belongs to (`connector_id` is management's connector id: no foreign key
-- across contexts; the Connector.Deleted consumer removes its secrets)
CREATE TABLE identity.secret_social_connector_relations (
    tenant_id varchar(21) NOT NULL,
    secret_id varchar(21) NOT NULL,
    connector_id varchar(128) NOT NULL,
    target varchar(256) NOT NULL,
    identity_id varchar(256) NOT NULL,
    PRIMARY KEY (tenant_id, secret_id),
    UNIQUE (tenant_id, target, identity_id),
    FOREIGN KEY (tenant_id, secret_id) REFERENCES identity.secrets ON DELETE CASCADE
);
CREATE INDEX secret_social_connector_relations_connector
    ON identity.secret_social_connector_relations (tenant_id, connector_id);

-- a token set lives only as long as its identity: whichever writer removes a target from `users.identities`
-- or links it to another provider account deletes the token set with it
CREATE FUNCTION identity.delete_secrets_of_unlinked_identities() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    DELETE FROM identity.secrets AS s
    USING identity.secret_social_connector_relations AS r
    WHERE r.tenant_id = s.tenant_id AND r.secret_id = s.id
      AND s.tenant_id = NEW.tenant_id AND s.user_id = NEW.id
      AND (NEW.identities -> r.target -> 'userId') IS DISTINCT FROM to_jsonb(r.identity_id);
    RETURN NEW;
END
$f$;
CREATE TRIGGER users_delete_secrets_of_unlinked_identities AFTER UPDATE OF identities ON identity.users
    FOR EACH ROW WHEN (OLD.identities IS DISTINCT FROM NEW.identities)
    EXECUTE FUNCTION identity.delete_secrets_of_unlinked_identities();
""",
    ),
    Migration(
        11,
        "SAML sign-in sessions",
        """
-- a SAML sign-in between its AuthnRequest and the sign-in flow reading its result: `id` is the relay state
-- the IdP posts back, `request_id` the AuthnRequest the Response must answer; `user_info` is set once the
-- assertion consumer service has verified the Response, and the row is deleted when the flow takes it
CREATE TABLE identity.saml_sessions (
    tenant_id varchar(21) NOT NULL,
    id varchar(64) NOT NULL,
    kind varchar(16) NOT NULL CHECK (kind IN ('social', 'sso')),
    connector_id varchar(128) NOT NULL,
    request_id varchar(64) NOT NULL,
    redirect_uri text NOT NULL,
    state text NOT NULL,
    user_info jsonb,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX saml_sessions_expires ON identity.saml_sessions (expires_at);
""",
    ),
    Migration(
        12,
        "the secret vault: enterprise SSO identities' token sets",
        """
-- which enterprise SSO identity a token set belongs to (Logto's `secret_enterprise_sso_connector_relations`):
-- an OIDC SSO connector with `enableTokenStorage` keeps the IdP's token set of a sign-in. `sso_connector_id` is
-- management's connector id: no foreign key across contexts (the SsoConnector.Deleted consumer removes the
-- identities, and their token sets with them); the identity is a foreign key, one token set at most per identity
CREATE TABLE identity.secret_enterprise_sso_connector_relations (
    tenant_id varchar(21) NOT NULL,
    secret_id varchar(21) NOT NULL,
    sso_connector_id varchar(128) NOT NULL,
    issuer varchar(256) NOT NULL,
    identity_id varchar(128) NOT NULL,
    PRIMARY KEY (tenant_id, secret_id),
    UNIQUE (tenant_id, issuer, identity_id),
    FOREIGN KEY (tenant_id, secret_id) REFERENCES identity.secrets ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, issuer, identity_id)
        REFERENCES identity.user_sso_identities (tenant_id, issuer, identity_id) ON UPDATE CASCADE
);
CREATE INDEX secret_enterprise_sso_connector_relations_connector
    ON identity.secret_enterprise_sso_connector_relations (tenant_id, sso_connector_id);

-- a token set lives only as long as its SSO identity (Logto's `delete_secret_before_sso_identity_delete`):
-- whichever writer deletes the identity row (the connector's deletion, the user's, a cascade) deletes the token
-- set first, so the foreign key above never blocks it
CREATE FUNCTION identity.delete_secret_of_deleted_sso_identity() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    DELETE FROM identity.secrets AS s
    USING identity.secret_enterprise_sso_connector_relations AS r
    WHERE r.tenant_id = s.tenant_id AND r.secret_id = s.id
      AND r.tenant_id = OLD.tenant_id AND r.issuer = OLD.issuer AND r.identity_id = OLD.identity_id
      AND s.user_id = OLD.user_id;
    RETURN OLD;
END
$f$;
CREATE TRIGGER user_sso_identities_delete_secret BEFORE DELETE ON identity.user_sso_identities
    FOR EACH ROW EXECUTE FUNCTION identity.delete_secret_of_deleted_sso_identity();
""",
    ),
]
