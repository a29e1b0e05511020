"""The experience context. Interaction and verification tables come with the experience service."""

from gatehouse_schema.tables.common import inbox_table, outbox_table

SCHEMA = "experience"

outbox = outbox_table(SCHEMA)
inbox = inbox_table(SCHEMA)
