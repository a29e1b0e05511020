from gatehouse_schema.migrations.common import outbox_and_inbox
from gatehouse_schema.migrations.step import Migration

MIGRATIONS = [Migration(1, "outbox and inbox", outbox_and_inbox("organizations"))]
