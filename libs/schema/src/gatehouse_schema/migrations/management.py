from gatehouse_schema.migrations.common import outbox_and_inbox
from gatehouse_schema.migrations.step import Migration

MIGRATIONS = [
    Migration(
        1,
        "applications, resources, scopes, roles",
        outbox_and_inbox("management")
        + """
CREATE TABLE management.applications (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    name varchar(256) NOT NULL,
    secret varchar(64) NOT NULL,
    description text,
    type varchar(32) NOT NULL,
    oidc_client_metadata jsonb NOT NULL,
    custom_client_metadata jsonb NOT NULL DEFAULT '{}',
    protected_app_metadata jsonb,
    custom_data jsonb NOT NULL DEFAULT '{}',
    is_third_party boolean NOT NULL DEFAULT false,
    app_level_access_control_enabled boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX applications_created ON management.applications (tenant_id, created_at DESC, id);

CREATE TABLE management.application_secrets (
    tenant_id varchar(21) NOT NULL,
    application_id varchar(21) NOT NULL,
    name varchar(256) NOT NULL,
    value varchar(64) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    PRIMARY KEY (tenant_id, application_id, name),
    FOREIGN KEY (tenant_id, application_id) REFERENCES management.applications ON DELETE CASCADE
);

CREATE TABLE management.resources (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    name text NOT NULL,
    indicator text NOT NULL,
    is_default boolean NOT NULL DEFAULT false,
    access_token_ttl bigint NOT NULL DEFAULT 3600,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, indicator)
);

CREATE TABLE management.scopes (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    resource_id varchar(21) NOT NULL,
    name varchar(256) NOT NULL,
    description text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, resource_id, name),
    FOREIGN KEY (tenant_id, resource_id) REFERENCES management.resources ON DELETE CASCADE
);

CREATE TABLE management.roles (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    name varchar(128) NOT NULL,
    description varchar(128) NOT NULL,
    type varchar(32) NOT NULL DEFAULT 'User',
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE management.roles_scopes (
    tenant_id varchar(21) NOT NULL,
    role_id varchar(21) NOT NULL,
    scope_id varchar(21) NOT NULL,
    PRIMARY KEY (tenant_id, role_id, scope_id),
    FOREIGN KEY (tenant_id, role_id) REFERENCES management.roles ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, scope_id) REFERENCES management.scopes ON DELETE CASCADE
);

CREATE TABLE management.applications_roles (
    tenant_id varchar(21) NOT NULL,
    application_id varchar(21) NOT NULL,
    role_id varchar(21) NOT NULL,
    PRIMARY KEY (tenant_id, application_id, role_id),
    FOREIGN KEY (tenant_id, application_id) REFERENCES management.applications ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, role_id) REFERENCES management.roles ON DELETE CASCADE
);

CREATE TABLE management.users_roles (
    tenant_id varchar(21) NOT NULL,
    user_id varchar(21) NOT NULL,
    role_id varchar(21) NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role_id),
    FOREIGN KEY (tenant_id, role_id) REFERENCES management.roles ON DELETE CASCADE
);
CREATE INDEX users_roles_role ON management.users_roles (tenant_id, role_id);
""",
    ),
    Migration(
        2,
        "application secrets without a legacy secret, consent scopes, app sign-in experience, access control",
        """
ALTER TABLE management.applications ALTER COLUMN secret DROP NOT NULL;

CREATE TABLE management.application_user_consent_resource_scopes (
    tenant_id varchar(21) NOT NULL,
    application_id varchar(21) NOT NULL,
    scope_id varchar(21) NOT NULL,
    organization_context boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, application_id, scope_id, organization_context),
    FOREIGN KEY (tenant_id, application_id) REFERENCES management.applications ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, scope_id) REFERENCES management.scopes ON DELETE CASCADE
);

CREATE TABLE management.application_user_consent_user_scopes (
    tenant_id varchar(21) NOT NULL,
    application_id varchar(21) NOT NULL,
    user_scope varchar(64) NOT NULL,
    PRIMARY KEY (tenant_id, application_id, user_scope),
    FOREIGN KEY (tenant_id, application_id) REFERENCES management.applications ON DELETE CASCADE
);

-- organization scopes belong to the organizations context: no foreign key across contexts
CREATE TABLE management.application_user_consent_organization_scopes (
    tenant_id varchar(21) NOT NULL,
    application_id varchar(21) NOT NULL,
    organization_scope_id varchar(21) NOT NULL,
    PRIMARY KEY (tenant_id, application_id, organization_scope_id),
    FOREIGN KEY (tenant_id, application_id) REFERENCES management.applications ON DELETE CASCADE
);

CREATE TABLE management.application_sign_in_experiences (
    tenant_id varchar(21) NOT NULL,
    application_id varchar(21) NOT NULL,
    color jsonb NOT NULL DEFAULT '{}',
    branding jsonb NOT NULL DEFAULT '{}',
    custom_css text,
    terms_of_use_url varchar(2048),
    privacy_policy_url varchar(2048),
    display_name varchar(256),
    PRIMARY KEY (tenant_id, application_id),
    FOREIGN KEY (tenant_id, application_id) REFERENCES management.applications ON DELETE CASCADE
);

CREATE TABLE management.application_access_controls (
    tenant_id varchar(21) NOT NULL,
    application_id varchar(21) NOT NULL,
    rules jsonb NOT NULL,
    PRIMARY KEY (tenant_id, application_id),
    FOREIGN KEY (tenant_id, application_id) REFERENCES management.applications ON DELETE CASCADE
);
CREATE INDEX applications_roles_role ON management.applications_roles (tenant_id, role_id);
""",
    ),
    Migration(
        3,
        "index to count a tenant's applications",
        """
-- the applications list counts every application of the tenant for Total-Number: an index-only scan of
-- this index (one deduplicated key per tenant: a page or two) instead of reading the whole table
CREATE INDEX applications_tenant ON management.applications (tenant_id);
""",
    ),
    Migration(
        4,
        "users_roles.user_created_at: a role's users newest first from one index",
        """
-- the user's created_at, copied into each link when it is made (management reads identity.users through the
-- schema library's queries; a user's created_at never changes), so `GET /api/roles/{id}/users` pages through
-- the index below (20 links, 20 primary-key lookups of users) instead of joining all the role's users first
ALTER TABLE management.users_roles ADD COLUMN user_created_at timestamptz;
DO $$
BEGIN
    IF to_regclass('identity.users') IS NOT NULL THEN
        UPDATE management.users_roles AS l SET user_created_at = u.created_at
        FROM identity.users AS u
        WHERE u.tenant_id = l.tenant_id AND u.id = l.user_id;
    END IF;
END $$;
-- links of users already deleted (the User.Deleted consumer removes them): never listed, they sort last
UPDATE management.users_roles SET user_created_at = '-infinity' WHERE user_created_at IS NULL;
ALTER TABLE management.users_roles ALTER COLUMN user_created_at SET NOT NULL;
CREATE INDEX users_roles_role_user_created
    ON management.users_roles (tenant_id, role_id, user_created_at DESC, user_id);
-- the count of a role's links (Total-Number) stays an index-only scan of users_roles_role: deduplicated (one
-- key per role), it is read several times faster than the wider index above. The generic plan estimates a
-- role's links from the average role size, where both indexes cost the same; the planner then keeps the
-- index it considers first, the newest one: so users_roles_role is made again after the new index
DROP INDEX management.users_roles_role;
CREATE INDEX users_roles_role ON management.users_roles (tenant_id, role_id);

-- management's writers always set the column; a writer that does not name it (another context's test
-- fixture inserting a link) gets the user's created_at here, so the column is never wrong
CREATE FUNCTION management.users_roles_fill_user_created_at() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    SELECT u.created_at INTO NEW.user_created_at
    FROM identity.users AS u
    WHERE u.tenant_id = NEW.tenant_id AND u.id = NEW.user_id;
    RETURN NEW;
END
$f$;
CREATE TRIGGER users_roles_fill_user_created_at BEFORE INSERT ON management.users_roles
    FOR EACH ROW WHEN (NEW.user_created_at IS NULL)
    EXECUTE FUNCTION management.users_roles_fill_user_created_at();
""",
    ),
    Migration(
        5,
        "the tenant's sign-in experience and custom phrases",
        """
-- one row per tenant (Logto's `default` sign-in experience); `settings` holds Logto's fields by their API names
-- (color, signIn, passwordPolicy, ...): a PATCH replaces whole top-level fields, as Logto's jsonb `replace` mode
CREATE TABLE management.sign_in_experiences (
    tenant_id varchar(21) PRIMARY KEY,
    id varchar(21) NOT NULL DEFAULT 'default' CHECK (id = 'default'),
    settings jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE management.custom_phrases (
    tenant_id varchar(21) NOT NULL,
    language_tag varchar(16) NOT NULL,
    id varchar(21) NOT NULL,
    translation jsonb NOT NULL,
    PRIMARY KEY (tenant_id, language_tag)
);
""",
    ),
    Migration(
        6,
        "account center, captcha provider and custom profile fields",
        """
-- one row per tenant (Logto's `default` account center); a tenant without a row reads Logto's seeded defaults
CREATE TABLE management.account_centers (
    tenant_id varchar(21) PRIMARY KEY,
    id varchar(21) NOT NULL DEFAULT 'default' CHECK (id = 'default'),
    enabled boolean NOT NULL DEFAULT false,
    fields jsonb NOT NULL DEFAULT '{}',
    webauthn_related_origins jsonb NOT NULL DEFAULT '[]',
    delete_account_url varchar(2048),
    custom_css text,
    profile_fields jsonb
);

-- at most one provider per tenant, as Logto allows
CREATE TABLE management.captcha_providers (
    tenant_id varchar(21) PRIMARY KEY,
    id varchar(128) NOT NULL,
    config jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE management.custom_profile_fields (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    name varchar(128) NOT NULL,
    type varchar(128) NOT NULL,
    label varchar(128) NOT NULL DEFAULT '',
    description varchar(256),
    required boolean NOT NULL DEFAULT false,
    config jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    sie_order smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT custom_profile_fields_name UNIQUE (tenant_id, name)
);
CREATE INDEX custom_profile_fields_sie_order ON management.custom_profile_fields (tenant_id, sie_order);
""",
    ),
    Migration(
        7,
        "the tenant's settings kept as Logto's logto_configs keys (the admin console's state)",
        """
-- Logto's `logto_configs`: one JSON value per tenant and key; `adminConsole` holds the Console's state
CREATE TABLE management.logto_configs (
    tenant_id varchar(21) NOT NULL,
    key varchar(256) NOT NULL,
    value jsonb NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
""",
    ),
    Migration(
        8,
        "the tenant's connectors",
        """
-- Logto's `connectors`: an instance of a connector factory (`connector_id`, e.g. `oidc`) with its config and,
-- for standard connectors, the metadata overriding the factory's (`target`, `name`, `logo`, `logoDark`)
CREATE TABLE management.connectors (
    tenant_id varchar(21) NOT NULL,
    id varchar(128) NOT NULL,
    connector_id varchar(128) NOT NULL,
    config jsonb NOT NULL DEFAULT '{}',
    metadata jsonb NOT NULL DEFAULT '{}',
    sync_profile boolean NOT NULL DEFAULT false,
    enable_token_storage boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX connectors_created ON management.connectors (tenant_id, created_at, id);
""",
    ),
    Migration(
        9,
        "enterprise SSO connectors and their SAML signing keys",
        """
-- Logto's `sso_connectors`: a connector of an SSO provider (`OIDC`, `SAML`, `AzureAD`, ...) with its config (the
-- IdP's settings, client secret included), the email domains it serves and its branding
CREATE TABLE management.sso_connectors (
    tenant_id varchar(21) NOT NULL,
    id varchar(128) NOT NULL,
    provider_name varchar(128) NOT NULL,
    connector_name varchar(128) NOT NULL,
    config jsonb NOT NULL DEFAULT '{}',
    domains jsonb NOT NULL DEFAULT '[]',
    branding jsonb NOT NULL DEFAULT '{}',
    sync_profile boolean NOT NULL DEFAULT false,
    enable_token_storage boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT sso_connectors_connector_name UNIQUE (tenant_id, connector_name)
);
CREATE INDEX sso_connectors_created ON management.sso_connectors (tenant_id, created_at, id);

-- Logto's `saml_sso_connector_signing_keys`: the SP key pairs a SAML connector signs its AuthnRequests with
-- (private key as PEM, never returned by the API); at most one active per connector
CREATE TABLE management.saml_sso_connector_signing_keys (
    tenant_id varchar(21) NOT NULL,
    sso_connector_id varchar(128) NOT NULL,
    id varchar(21) NOT NULL,
    private_key text NOT NULL,
    certificate text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    active boolean NOT NULL,
    PRIMARY KEY (tenant_id, sso_connector_id, id),
    FOREIGN KEY (tenant_id, sso_connector_id) REFERENCES management.sso_connectors ON DELETE CASCADE
);
CREATE UNIQUE INDEX saml_sso_connector_signing_keys_active
    ON management.saml_sso_connector_signing_keys (tenant_id, sso_connector_id) WHERE active;
""",
    ),
]
