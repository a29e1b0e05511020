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
]
