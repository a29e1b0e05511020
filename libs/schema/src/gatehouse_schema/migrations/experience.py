from gatehouse_schema.migrations.common import outbox_and_inbox
from gatehouse_schema.migrations.step import Migration

MIGRATIONS = [
    Migration(1, "outbox and inbox", outbox_and_inbox("experience")),
    Migration(
        2,
        "experience interactions",
        """
CREATE TABLE experience.interactions (
    tenant_id varchar(21) NOT NULL,
    id varchar(64) NOT NULL,
    interaction_event varchar(32) NOT NULL,
    user_id varchar(21),
    verifications jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX interactions_updated_at ON experience.interactions (updated_at);
""",
    ),
    Migration(
        3,
        "experience interaction profile",
        # the profile a registration collects (username, the password until the user is created)
        "ALTER TABLE experience.interactions ADD COLUMN profile jsonb NOT NULL DEFAULT '{}';",
    ),
    Migration(
        4,
        "account api verification records",
        # Logto's `verification_records` of the Account API: a user proves who they are (e.g. by password) and
        # names the record in the `logto-verification-id` header of a sensitive change, until `expires_at`
        """
CREATE TABLE experience.verification_records (
    tenant_id varchar(21) NOT NULL,
    id varchar(21) NOT NULL,
    user_id varchar(21) NOT NULL,
    type varchar(32) NOT NULL,
    verified boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX verification_records_expires_at ON experience.verification_records (expires_at);
""",
    ),
    Migration(
        5,
        "account api verification record data",
        # what a record keeps besides its state: a social record's connector, connector session, the provider's
        # user info and the sealed token set (Logto's record `data`)
        "ALTER TABLE experience.verification_records ADD COLUMN data jsonb NOT NULL DEFAULT '{}';",
    ),
]
