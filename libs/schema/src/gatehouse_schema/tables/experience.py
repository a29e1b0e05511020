"""The experience context: the state of each sign-in (an experience interaction, keyed by the OIDC
interaction it belongs to), its verification records and the profile a registration collects."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from gatehouse_schema.tables.common import inbox_table, metadata, outbox_table

SCHEMA = "experience"

outbox = outbox_table(SCHEMA)
inbox = inbox_table(SCHEMA)

interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),  # the OIDC interaction's uid (identity's)
    sa.Column("interaction_event", sa.String(32), nullable=False),
    sa.Column("user_id", sa.String(21)),
    sa.Column("verifications", JSONB, nullable=False),
    # the profile a `Register` interaction collects; its `password` only until the user is created
    sa.Column("profile", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

# the Account API's verification records (Logto's `verification_records`), valid until `expires_at`
verification_records = sa.Table(
    "verification_records",
    metadata,
    sa.Column("tenant_id", sa.String(21), primary_key=True),
    sa.Column("id", sa.String(21), primary_key=True),
    sa.Column("user_id", sa.String(21), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),  # Logto's `VerificationType`, e.g. `Password`
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    # a `Social` record's `connectorId`, `connectorSession`, `socialUserInfo` and sealed `tokenSet`
    sa.Column("data", JSONB, nullable=False),
    schema=SCHEMA,
)
