from gatehouse_schema.migrations.common import outbox_and_inbox
from gatehouse_schema.migrations.step import Migration

MIGRATIONS = [
    Migration(
        1,
        "audit logs",
        outbox_and_inbox("audit")
        + """
CREATE TABLE audit.logs (
    tenant_id varchar(21) NOT NULL,
    id varchar(36) NOT NULL,
    key varchar(128) NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX logs_created ON audit.logs (tenant_id, created_at DESC, id);
CREATE INDEX logs_key_created ON audit.logs (tenant_id, key, created_at DESC);
CREATE INDEX logs_application ON audit.logs (tenant_id, (payload->>'applicationId'), created_at DESC);
CREATE INDEX logs_user ON audit.logs (tenant_id, (payload->>'userId'), created_at DESC);
""",
    ),
    Migration(
        2,
        "webhooks",
        """
CREATE TABLE audit.hooks (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    name varchar(256) NOT NULL DEFAULT '',
    event varchar(128),
    events jsonb NOT NULL DEFAULT '[]',
    config jsonb NOT NULL,
    signing_key varchar(64) NOT NULL DEFAULT '',
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX hooks_created ON audit.hooks (tenant_id, created_at, id);
-- a hook's execution logs (recent logs, execution stats of the last 24 hours)
CREATE INDEX logs_hook_created ON audit.logs (tenant_id, (payload->>'hookId'), created_at DESC);
""",
    ),
]
