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
    Migration(
        3,
        "organization colors and CSS; role scopes, role resource scopes, user and application memberships and roles",
        """
ALTER TABLE organizations.organizations
    ADD COLUMN color jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN custom_css text;
CREATE INDEX organizations_created_at ON organizations.organizations (tenant_id, created_at DESC, id);

CREATE TABLE organizations.organization_role_scope_relations (
    tenant_id varchar(21) NOT NULL,
    organization_role_id varchar(21) NOT NULL,
    organization_scope_id varchar(21) NOT NULL,
    PRIMARY KEY (tenant_id, organization_role_id, organization_scope_id),
    FOREIGN KEY (tenant_id, organization_role_id)
        REFERENCES organizations.organization_roles (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, organization_scope_id)
        REFERENCES organizations.organization_scopes (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_role_scope_relations_scope
    ON organizations.organization_role_scope_relations (tenant_id, organization_scope_id);

CREATE TABLE organizations.organization_role_resource_scope_relations (
    tenant_id varchar(21) NOT NULL,
    organization_role_id varchar(21) NOT NULL,
    scope_id varchar(21) NOT NULL,
    PRIMARY KEY (tenant_id, organization_role_id, scope_id),
    FOREIGN KEY (tenant_id, organization_role_id)
        REFERENCES organizations.organization_roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_role_resource_scope_relations_scope
    ON organizations.organization_role_resource_scope_relations (tenant_id, scope_id);

CREATE TABLE organizations.organization_user_relations (
    tenant_id varchar(21) NOT NULL,
    organization_id varchar(21) NOT NULL,
    user_id varchar(21) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, organization_id, user_id),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations.organizations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_user_relations_user ON organizations.organization_user_relations (tenant_id, user_id);

CREATE TABLE organizations.organization_role_user_relations (
    tenant_id varchar(21) NOT NULL,
    organization_id varchar(21) NOT NULL,
    organization_role_id varchar(21) NOT NULL,
    user_id varchar(21) NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, organization_role_id, user_id),
    FOREIGN KEY (tenant_id, organization_id, user_id)
        REFERENCES organizations.organization_user_relations (tenant_id, organization_id, user_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, organization_role_id)
        REFERENCES organizations.organization_roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_role_user_relations_user
    ON organizations.organization_role_user_relations (tenant_id, user_id, organization_id);
CREATE INDEX organization_role_user_relations_role
    ON organizations.organization_role_user_relations (tenant_id, organization_role_id);

CREATE TABLE organizations.organization_application_relations (
    tenant_id varchar(21) NOT NULL,
    organization_id varchar(21) NOT NULL,
    application_id varchar(21) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, organization_id, application_id),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations.organizations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_application_relations_application
    ON organizations.organization_application_relations (tenant_id, application_id);

CREATE TABLE organizations.organization_role_application_relations (
    tenant_id varchar(21) NOT NULL,
    organization_id varchar(21) NOT NULL,
    organization_role_id varchar(21) NOT NULL,
    application_id varchar(21) NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, organization_role_id, application_id),
    FOREIGN KEY (tenant_id, organization_id, application_id)
        REFERENCES organizations.organization_application_relations (tenant_id, organization_id, application_id)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, organization_role_id)
        REFERENCES organizations.organization_roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_role_application_relations_application
    ON organizations.organization_role_application_relations (tenant_id, application_id, organization_id);
""",
    ),
    Migration(
        4,
        "organizations users consented third-party applications to",
        """
CREATE TABLE organizations.application_user_consent_organizations (
    tenant_id varchar(21) NOT NULL,
    application_id varchar(21) NOT NULL,
    user_id varchar(21) NOT NULL,
    organization_id varchar(21) NOT NULL,
    PRIMARY KEY (tenant_id, application_id, user_id, organization_id),
    FOREIGN KEY (tenant_id, organization_id, user_id)
        REFERENCES organizations.organization_user_relations (tenant_id, organization_id, user_id) ON DELETE CASCADE
);
CREATE INDEX application_user_consent_organizations_membership
    ON organizations.application_user_consent_organizations (tenant_id, organization_id, user_id);
""",
    ),
    Migration(
        5,
        "organization invitations and their roles; just-in-time provisioning email domains and roles",
        """
CREATE TABLE organizations.organization_invitations (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    inviter_id varchar(21),
    invitee varchar(256) NOT NULL,
    accepted_user_id varchar(21),
    organization_id varchar(21) NOT NULL,
    status varchar(16) NOT NULL CHECK (status IN ('Pending', 'Accepted', 'Expired', 'Revoked')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations.organizations (tenant_id, id) ON DELETE CASCADE
);
-- one pending invitation per invitee and organization (Logto's partial unique index)
CREATE UNIQUE INDEX organization_invitations_pending
    ON organizations.organization_invitations (tenant_id, invitee, organization_id) WHERE status = 'Pending';
CREATE INDEX organization_invitations_created_at
    ON organizations.organization_invitations (tenant_id, created_at DESC, id);
CREATE INDEX organization_invitations_organization
    ON organizations.organization_invitations (tenant_id, organization_id);
CREATE INDEX organization_invitations_invitee
    ON organizations.organization_invitations (tenant_id, lower(invitee));
CREATE INDEX organization_invitations_inviter
    ON organizations.organization_invitations (tenant_id, inviter_id) WHERE inviter_id IS NOT NULL;
CREATE INDEX organization_invitations_accepted_user
    ON organizations.organization_invitations (tenant_id, accepted_user_id) WHERE accepted_user_id IS NOT NULL;

CREATE TABLE organizations.organization_invitation_role_relations (
    tenant_id varchar(21) NOT NULL,
    organization_invitation_id varchar(21) NOT NULL,
    organization_role_id varchar(21) NOT NULL,
    PRIMARY KEY (tenant_id, organization_invitation_id, organization_role_id),
    FOREIGN KEY (tenant_id, organization_invitation_id)
        REFERENCES organizations.organization_invitations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, organization_role_id)
        REFERENCES organizations.organization_roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_invitation_role_relations_role
    ON organizations.organization_invitation_role_relations (tenant_id, organization_role_id);

CREATE TABLE organizations.organization_jit_email_domains (
    tenant_id varchar(21) NOT NULL,
    organization_id varchar(21) NOT NULL,
    email_domain varchar(128) NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, email_domain),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations.organizations (tenant_id, id) ON DELETE CASCADE
);
-- provisioning looks the organizations of an email's domain up
CREATE INDEX organization_jit_email_domains_domain
    ON organizations.organization_jit_email_domains (tenant_id, email_domain);

CREATE TABLE organizations.organization_jit_roles (
    tenant_id varchar(21) NOT NULL,
    organization_id varchar(21) NOT NULL,
    organization_role_id varchar(21) NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, organization_role_id),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations.organizations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, organization_role_id)
        REFERENCES organizations.organization_roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_jit_roles_role ON organizations.organization_jit_roles (tenant_id, organization_role_id);
""",
    ),
    Migration(
        6,
        "just-in-time provisioning enterprise SSO connectors",
        """
-- the connectors are management's: no foreign key to them; the `organizations-jit-sso-connectors` consumer drops
-- the rows of a deleted connector
CREATE TABLE organizations.organization_jit_sso_connectors (
    tenant_id varchar(21) NOT NULL,
    organization_id varchar(21) NOT NULL,
    sso_connector_id varchar(128) NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, sso_connector_id),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations.organizations (tenant_id, id) ON DELETE CASCADE
);
-- provisioning (and the deleted connector's cleanup) looks the organizations of a connector up
CREATE INDEX organization_jit_sso_connectors_connector
    ON organizations.organization_jit_sso_connectors (tenant_id, sso_connector_id);
""",
    ),
]
