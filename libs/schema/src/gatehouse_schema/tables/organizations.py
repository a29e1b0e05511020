"""The organizations context. Its entity tables come with the organizations service."""

from gatehouse_schema.tables.common import inbox_table, outbox_table

SCHEMA = "organizations"

outbox = outbox_table(SCHEMA)
inbox = inbox_table(SCHEMA)
