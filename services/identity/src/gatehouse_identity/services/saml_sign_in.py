"""SAML sign-ins (Logto's `POST /api/authn/saml/{connectorId}` for the SAML social connector and
`POST /api/authn/single-sign-on/saml/{connectorId}` for enterprise SSO connectors of a SAML provider):
identity keeps the short-lived session between the AuthnRequest and the sign-in flow, because the assertion
consumer service is identity's route.

1. The Experience API asks `saml.begin` (RPC) for the IdP's sign-in URL: a session is stored with the
   AuthnRequest's id, the flow's redirect URI and state; its id travels as the RelayState.
2. The IdP posts the Response to the assertion consumer service: the session named by the RelayState (of this
   connector, not expired) is found, the Response verified against it (`gatehouse_connectors.saml`), the
   user info stored, and the browser sent to the redirect URI with the state (Logto's behaviour).
3. The flow's verify step asks `saml.result` (RPC) once for the verified user; the session is then deleted."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import msgspec
from gatehouse_connectors import FACTORIES
from gatehouse_connectors.http import ConnectorError
from gatehouse_connectors.saml import RSA_SHA256, RequestSigner, authn_request_url, new_request_id, verify_response
from gatehouse_connectors.saml_connector import SamlConfig, SamlProfileMap
from gatehouse_platform.errors import BadRequest, NotFound
from gatehouse_platform.service import ServiceContext
from gatehouse_schema.queries.management import active_saml_signing_key, connector, sso_connector
from gatehouse_schema.rpc.identity import (
    SAML_BEGIN,
    SAML_RESULT,
    AccountDocument,
    SamlBegin,
    SamlResult,
    SamlStarted,
)
from gatehouse_schema.sso import saml_acs_url, saml_sp_entity_id
from gatehouse_schema.tables.identity import saml_sessions as t
from msgspec import UNSET
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

SESSION_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class SamlSetup:
    config: SamlConfig
    signer: RequestSigner | None


SOCIAL, SSO = "social", "sso"


def _session_not_found() -> NotFound:
    return NotFound("session.connector_validation_session_not_found")


class SamlSignIn:
    def __init__(self, engine: AsyncEngine, public_url: str) -> None:
        self.engine = engine
        self.public_url = public_url

    async def _sso_config(self, conn: AsyncConnection, tenant_id: str, connector_id: str) -> SamlSetup:
        """An enterprise SSO connector of a SAML provider as a SAML config: the SP's entity id and ACS are
        derived from the public URL, the IdP given inline (metadata or its three settings)."""
        record = await sso_connector(conn, tenant_id, connector_id)
        if record is None or record.provider_type is None:
            raise NotFound("entity.not_found")
        if record.provider_type != "saml":
            raise BadRequest("connector.unexpected_type")
        config = record.config
        if config.get("metadataUrl") and not config.get("metadata"):
            raise ConnectorError(
                "connector.invalid_config", "IdP metadata by URL is not fetched: give the metadata XML instead."
            )
        mapping = config.get("attributeMapping") or {}
        saml = SamlConfig(
            entity_id=saml_sp_entity_id(self.public_url, connector_id),
            assertion_consumer_service_url=saml_acs_url(self.public_url, connector_id),
            idp_metadata_xml=config.get("metadata") or UNSET,
            sign_in_endpoint=config.get("signInEndpoint") or UNSET,
            x509_certificate=config.get("x509Certificate") or UNSET,
            profile_map=SamlProfileMap(
                id=mapping.get("id") or "nameID",
                email=mapping.get("email") or "email",
                name=mapping.get("name") or "name",
            ),
        )
        signer = None
        if config.get("signAuthnRequest") is True:
            key = await active_saml_signing_key(conn, tenant_id, connector_id)
            if key is None:
                raise ConnectorError("connector.invalid_config", "Signing AuthnRequests needs an active signing key.")
            signer = RequestSigner(key.private_key, config.get("requestSignatureAlgorithm") or RSA_SHA256)
        return SamlSetup(saml, signer)

    async def _config(self, conn: AsyncConnection, tenant_id: str, kind: str, connector_id: str) -> SamlConfig:
        return (await self._setup(conn, tenant_id, kind, connector_id)).config

    async def _setup(self, conn: AsyncConnection, tenant_id: str, kind: str, connector_id: str) -> SamlSetup:
        if kind == SSO:
            return await self._sso_config(conn, tenant_id, connector_id)
        if kind != SOCIAL:
            raise BadRequest("guard.invalid_input", "`kind` is `social` or `sso`.", type="body")
        record = await connector(conn, tenant_id, connector_id)
        if record is None or record.connector_id not in FACTORIES:
            raise NotFound("entity.not_found")
        if record.connector_id != "saml":
            raise BadRequest("connector.unexpected_type")
        parsed: SamlConfig = FACTORIES["saml"].parse_config(record.config)
        return SamlSetup(parsed, None)

    async def begin(self, tenant_id: str, request: SamlBegin) -> SamlStarted:
        async with self.engine.begin() as conn:
            setup = await self._setup(conn, tenant_id, request.kind, request.connector_id)
            idp, sp = setup.config.identity_provider(), setup.config.service_provider()
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
        url = authn_request_url(idp, sp, request_id=request_id, relay_state=session_id, signer=setup.signer)
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
