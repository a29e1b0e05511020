from gatehouse_schema.migrations.common import outbox_and_inbox
from gatehouse_schema.migrations.step import Migration

MIGRATIONS = [
    Migration(1, "outbox and inbox", outbox_and_inbox("organizations")),
    Migration(
        2,
        "organizations, organization scopes and roles",
        """
CREATE TABLE organizations.organizations (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    name varchar(128) NOT NULL,
    description varchar(256),
    custom_data jsonb NOT NULL DEFAULT '{}',
    is_mfa_required boolean NOT NULL DEFAULT false,
    branding jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE organizations.organization_scopes (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    name varchar(128) NOT NULL,
    description varchar(256),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE organizations.organization_roles (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    name varchar(128) NOT NULL,
    description varchar(256),
    type varchar(32) NOT NULL DEFAULT 'User',
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);
""",
    ),
]
