"""Consumes management's connector events to keep the secret vault in step with the connectors.

Runs as the durable consumer `identity-connector-secrets`: a deleted connector, or one whose token storage
was turned off, loses the token sets identity stored through it (Logto does this with a trigger and in the
same request; across contexts it happens within the consumer's latency). Each event is handled in one
transaction with its inbox row (see `gatehouse_platform.consumer`)."""

from gatehouse_schema.events import CloudEvent, ConnectorDeleted, ConnectorUpdated
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.persistence.secrets import SOCIAL, SecretStore

CONNECTOR_SECRETS_CONSUMER = "identity-connector-secrets"
CONSUMED_EVENT_TYPES = frozenset(t.event_type for t in (ConnectorUpdated, ConnectorDeleted))


def consumed_subject(prefix: str) -> str:
    return f"{prefix}.evt.*.management.Connector.>"


class ConnectorSecrets:
    def __init__(self, secrets: SecretStore) -> None:
        self.secrets = secrets

    async def __call__(self, conn: AsyncConnection, event: CloudEvent) -> None:
        if event.type == ConnectorDeleted.event_type:
            connector = event.decode_data(ConnectorDeleted).data
        elif event.type == ConnectorUpdated.event_type:
            connector = event.decode_data(ConnectorUpdated).data
            if connector.enable_token_storage:
                return
        else:
            return
        await self.secrets.delete_of_connector(conn, SOCIAL, event.tenantid, connector.id)
