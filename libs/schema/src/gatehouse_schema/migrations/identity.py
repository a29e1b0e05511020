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
]
