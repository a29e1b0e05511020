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
]
