"""Consumes management's `SsoConnector.Deleted` to drop the users' enterprise SSO identities through the deleted
connector (Logto's foreign key from `user_sso_identities` to `sso_connectors` cascades; across contexts it happens
within the consumer's latency); each identity's token set goes with it (the `user_sso_identities` trigger). On
`SsoConnector.Updated` with `enableTokenStorage` false, the token sets kept through the connector are dropped (Logto
deletes them in the `PATCH` itself). Runs as the durable consumer `identity-sso-identities`; each event is handled in
one transaction with its inbox row (see `gatehouse_platform.consumer`)."""

import sqlalchemy as sa
from gatehouse_schema.events import CloudEvent, SsoConnectorDeleted, SsoConnectorUpdated
from gatehouse_schema.tables.identity import user_sso_identities
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.persistence.secrets import SSO, SecretStore

SSO_IDENTITIES_CONSUMER = "identity-sso-identities"
SSO_IDENTITY_EVENT_TYPES = frozenset({SsoConnectorDeleted.event_type, SsoConnectorUpdated.event_type})


def sso_identities_subject(prefix: str) -> str:
    return f"{prefix}.evt.*.management.SsoConnector.>"


async def drop_sso_identities(conn: AsyncConnection, event: CloudEvent) -> None:
    if event.type == SsoConnectorUpdated.event_type:
        connector = event.decode_data(SsoConnectorUpdated).data
        if not connector.enable_token_storage:
            await SecretStore().delete_of_connector(conn, SSO, event.tenantid, connector.id)
        return
    if event.type != SsoConnectorDeleted.event_type:
        return
    connector_id = event.decode_data(SsoConnectorDeleted).data.id
    t = user_sso_identities
    await conn.execute(sa.delete(t).where(t.c.tenant_id == event.tenantid, t.c.sso_connector_id == connector_id))
