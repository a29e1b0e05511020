"""SAML sign-ins (Logto's `POST /api/authn/saml/{connectorId}` for the SAML social connector): identity keeps
the short-lived session between the AuthnRequest and the sign-in flow, because the assertion consumer service
is identity's route.

1. The Experience API asks `saml.begin` (RPC) for the IdP's sign-in URL: a session is stored with the
   AuthnRequest's id, the flow's redirect URI and state; its id travels as the RelayState.
2. The IdP posts the Response to the assertion consumer service: the session named by the RelayState (of this
   connector, not expired) is found, the Response verified against it (`gatehouse_connectors.saml`), the
   user info stored, and the browser sent to the redirect URI with the state (Logto's behaviour).
3. The flow's verify step asks `saml.result` (RPC) once for the verified user; the session is then deleted."""

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import msgspec
from gatehouse_connectors import FACTORIES
from gatehouse_connectors.saml import authn_request_url, new_request_id, verify_response
from gatehouse_connectors.saml_connector import SamlConfig
from gatehouse_platform.errors import BadRequest, NotFound
from gatehouse_platform.service import ServiceContext
from gatehouse_schema.queries.management import connector
from gatehouse_schema.rpc.identity import (
    SAML_BEGIN,
    SAML_RESULT,
    AccountDocument,
    SamlBegin,
    SamlResult,
    SamlStarted,
)
from gatehouse_schema.tables.identity import saml_sessions as t
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

SESSION_TTL = timedelta(minutes=10)
SOCIAL, SSO = "social", "sso"


def _session_not_found() -> NotFound:
    return NotFound("session.connector_validation_session_not_found")


class SamlSignIn:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _config(self, conn: AsyncConnection, tenant_id: str, kind: str, connector_id: str) -> SamlConfig:
        if kind != SOCIAL:
            raise NotFound("entity.not_found")  # enterprise SSO connectors: see docs/architecture.md
        record = await connector(conn, tenant_id, connector_id)
        if record is None or record.connector_id not in FACTORIES:
            raise NotFound("entity.not_found")
        if record.connector_id != "saml":
            raise BadRequest("connector.unexpected_type")
        parsed: SamlConfig = FACTORIES["saml"].parse_config(record.config)
        return parsed

    async def begin(self, tenant_id: str, request: SamlBegin) -> SamlStarted:
        async with self.engine.begin() as conn:
            config = await self._config(conn, tenant_id, request.kind, request.connector_id)
            idp, sp = config.identity_provider(), config.service_provider()
            session_id, request_id = secrets.token_urlsafe(24), new_request_id()
            await conn.execute(
                insert(t).values(
                    tenant_id=tenant_id,
                    id=session_id,
                    kind=request.kind,
                    connector_id=request.connector_id,
                    request_id=request_id,
                    redirect_uri=request.redirect_uri,
                    state=request.state,
                    expires_at=datetime.now(UTC) + SESSION_TTL,
                )
            )
        url = authn_request_url(idp, sp, request_id=request_id, relay_state=session_id)
        return SamlStarted(authorization_uri=url, session_id=session_id)

    def _live(self, tenant_id: str, kind: str, connector_id: str, session_id: str) -> Any:
        return and_(
            t.c.tenant_id == tenant_id,
            t.c.id == session_id,
            t.c.kind == kind,
            t.c.connector_id == connector_id,
            t.c.expires_at > datetime.now(UTC),
        )

    async def consume_assertion(
        self, tenant_id: str, kind: str, connector_id: str, relay_state: str | None, saml_response: str
    ) -> str:
        """Verifies the posted Response for the session its RelayState names; returns where to send the browser."""
        if not relay_state:
            raise _session_not_found()  # IdP-initiated sign-in is not supported
        async with self.engine.connect() as conn:
            config = await self._config(conn, tenant_id, kind, connector_id)
            session = (
                await conn.execute(select(t).where(self._live(tenant_id, kind, connector_id, relay_state)))
            ).one_or_none()
        if session is None or session.user_info is not None:
            raise _session_not_found()
        assertion = verify_response(
            saml_response, config.identity_provider(), config.service_provider(), request_id=session.request_id
        )
        user_info = msgspec.to_builtins(config.user_info(assertion))
        async with self.engine.begin() as conn:
            stored = await conn.execute(
                update(t)
                .where(self._live(tenant_id, kind, connector_id, relay_state), t.c.user_info.is_(None))
                .values(user_info=user_info)
            )
        if not stored.rowcount:  # the same Response posted twice at once: only one counts
            raise _session_not_found()
        separator = "&" if "?" in session.redirect_uri else "?"
        return session.redirect_uri + separator + urlencode({"state": session.state})

    async def result(self, tenant_id: str, request: SamlResult) -> dict[str, Any]:
        async with self.engine.begin() as conn:
            taken = (
                await conn.execute(
                    delete(t)
                    .where(
                        self._live(tenant_id, request.kind, request.connector_id, request.session_id),
                        t.c.user_info.is_not(None),
                    )
                    .returning(t.c.user_info)
                )
            ).scalar_one_or_none()
        if taken is None:
            raise _session_not_found()
        return dict(taken)

    def register_rpc(self, ctx: ServiceContext) -> None:
        tenant_id = ctx.settings.default_tenant_id

        async def begin(request: SamlBegin) -> SamlStarted:
            return await self.begin(tenant_id, request)

        async def result(request: SamlResult) -> AccountDocument:
            return AccountDocument(body=await self.result(tenant_id, request))

        ctx.rpc_server.register(SAML_BEGIN, SamlBegin, begin)
        ctx.rpc_server.register(SAML_RESULT, SamlResult, result)
