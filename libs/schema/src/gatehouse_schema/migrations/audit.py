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
]
