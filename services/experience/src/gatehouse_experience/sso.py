"""Enterprise SSO verifications of Logto's Experience API (`routes/experience/verification-routes/
enterprise-sso-verification.ts`, `classes/verifications/enterprise-sso-verification.ts`,
`routes/interaction/utils/single-sign-on.ts`): the sign-in page asks for the IdP's authorization URI (an
`EnterpriseSso` record is created in the interaction), the browser comes back from the IdP, and `verify` makes
the record verified with the IdP's user info and issuer. The record then identifies the user of a `SignIn`
(`identify`), or makes the profile of a `Register` (`registration_profile`); `GET /api/experience/sso-connectors`
names the connectors of an email's domain, and `guard_sso_only_email` keeps such an email from signing in with a
password.

Connectors are management's `sso_connectors` (`queries.management.sso_connector(s)`). An OIDC provider's round
trip runs here with `gatehouse_connectors.oidc_sso` (discovery at each step; the nonce and the redirect URI are
kept in the record, as Logto keeps them in its connector session); a SAML provider's is identity's (`saml.begin`,
its assertion consumer service, `saml.result`). The issuer an identity is kept under is an OIDC connector's
configured issuer (Google Workspace's own) or the SAML IdP's entity id (of its metadata, or the manual
`entityId`).

Logto's rules, in its order: an unknown connector is 404 `entity.not_exists_with_id`, one of a provider Gatehouse
does not know 404 `connector.not_found`; a connector error is `connector.<code>`
(`connector.invalid_config`, `connector.invalid_request_parameters`: 400; `connector.authorization_failed`: 401;
Logto answers 500 to all of them). `verify` without a record of that id and connector is 404
`session.verification_session_not_found`, and takes the record's connector session once (a second `verify` is
400 `session.connector_validation_session_not_found`). Neither step checks `singleSignOnEnabled`: a `SignIn`
identification does (422 `user.sign_in_method_not_enabled`), then finds the user of the identity, else the user
of the IdP's email, whom the identity is linked to at submit (no `linkSocialIdentity` needed); neither is 404
`user.identity_not_exist` (a `SignIn` registers nobody: the client switches to `Register`). A `Register`
identification creates the user with the IdP's email, name and avatar and the identity (422
`user.email_already_in_use` / `user.identity_already_in_use`), without the sign-up's mandatory profile.

Token storage (Logto's `enableTokenStorage`, OIDC connectors only: SAML has no tokens): `verify` has identity seal
the IdP's token response right after the round trip (`secret.seal_token_set`; experience keeps only the envelope,
in the record as `tokenSet`); identification puts it in the profile (`enterpriseSsoConnectorTokenSetSecret`, never
shown), and identity keeps it at submit or registration in the transaction that keeps the identity.
"""

import re
import secrets
from typing import Any

import aiohttp
import msgspec
from gatehouse_connectors.oidc_sso import discover, parse_sso_config, sso_authorization_uri, sso_error, sso_user_info
from gatehouse_connectors.saml import parse_metadata
from gatehouse_platform.errors import BadRequest, Conflict, NotFound, Unprocessable
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.queries import identity as identity_reads
from gatehouse_schema.queries.management import SsoConnectorRecord, sign_in_settings, sso_connector, sso_connectors
from gatehouse_schema.rpc.identity import (
    SAML_BEGIN,
    SAML_RESULT,
    SECRET_SEAL_TOKEN_SET,
    USER_IDENTIFY_SSO,
    USER_SSO_SIGN_IN,
    AccountDocument,
    AccountDone,
    IdentifySso,
    SamlBegin,
    SamlResult,
    SamlStarted,
    SealedTokenSet,
    SsoSignIn,
    SsoUser,
)
from gatehouse_schema.sso import FIXED_ISSUERS
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_experience.interactions import Interaction, InteractionAccess, InteractionStore
from gatehouse_experience.registration import (
    SIGN_IN,
    SSO_IDENTITY,
    SSO_TOKEN_SET_SECRET,
    SYNCED_SSO_IDENTITY,
    guard_interaction_event,
    sso_identity_of,
)
from gatehouse_experience.social import SEAL_TIMEOUT, provider_tokens

ENTERPRISE_SSO = "EnterpriseSso"  # Logto's `VerificationType.EnterpriseSso`
SSO_KIND = "sso"  # identity's SAML sessions of enterprise SSO connectors
# zod's `z.string().email()` (Logto's guard of the `email` query)
EMAIL = re.compile(r"(?!\.)(?!.*\.\.)[A-Z0-9_'+\-.]*[A-Z0-9_+-]@(?:[A-Z0-9][A-Z0-9\-]*\.)+[A-Z]{2,}", re.IGNORECASE)
SAML_SHAPES = (("metadataUrl",), ("metadata",), ("entityId", "signInEndpoint", "x509Certificate"))


def _usable_config(record: SsoConnectorRecord) -> bool:
    """Whether the config has what its provider's config guard requires (Logto's `getAvailableSsoConnectors`
    drops connectors whose config does not parse)."""
    config = record.config

    def has(*keys: str) -> bool:
        return all(isinstance(config.get(k), str) for k in keys)

    if record.provider_type == "saml":
        return any(has(*shape) for shape in SAML_SHAPES)
    return has("clientId", "clientSecret") and (record.provider_name in FIXED_ISSUERS or has("issuer"))


def available(record: SsoConnectorRecord) -> bool:
    """Logto's available SSO connector: a provider it knows, a config that parses, at least one email domain."""
    return record.provider_type is not None and bool(record.domains) and _usable_config(record)


async def enabled_connectors_for_email(
    conn: AsyncConnection, tenant_id: str, settings: dict[str, Any], email: str
) -> list[SsoConnectorRecord]:
    """Logto's `getEnabledSsoConnectorsByEmail`: none while `singleSignOnEnabled` is off, else the available
    connectors with the email's domain among theirs (compared case-insensitively, as Logto's newer code does)."""
    domain = email.split("@")[1].lower() if "@" in email else ""
    if not settings.get("singleSignOnEnabled") or not domain:
        return []
    return [
        c for c in await sso_connectors(conn, tenant_id) if available(c) and domain in {d.lower() for d in c.domains}
    ]


def connector_metadata(record: SsoConnectorRecord) -> dict[str, Any]:
    """What the sign-in page shows of a connector (Logto's `SsoConnectorMetadata`): never its config."""
    branding = record.branding or {}
    found: dict[str, Any] = {"id": record.id, "connectorName": record.connector_name}
    found["logo"] = branding.get("logo") or ""
    if branding.get("darkLogo"):
        found["darkLogo"] = branding["darkLogo"]
    return found


async def guard_sso_only_email(conn: AsyncConnection, tenant_id: str, settings: dict[str, Any], email: str) -> None:
    """Logto's `guardSsoOnlyEmailIdentifier`: an email of an SSO connector's domain signs in through SSO only (422
    `session.sso_enabled`, `data.ssoConnectors` naming the connectors)."""
    connectors = await enabled_connectors_for_email(conn, tenant_id, settings, email)
    if connectors:
        raise Unprocessable("session.sso_enabled", data={"ssoConnectors": [connector_metadata(c) for c in connectors]})


def saml_issuer(record: SsoConnectorRecord) -> str:
    """The SAML IdP's entity id: of the connector's metadata XML, or its manual `entityId` (Logto's `getIssuer`).
    A connector configured by metadata URL alone has none here (Gatehouse fetches no metadata)."""
    config = record.config
    metadata, manual = config.get("metadata"), config.get("entityId")
    if isinstance(metadata, str) and metadata:
        entity_id = parse_metadata(metadata).entity_id
    else:
        entity_id = manual if isinstance(manual, str) else ""
    if not entity_id:
        raise sso_error("invalid_config", "The SAML connector names no IdP entity id.")
    return str(entity_id)


def _sso_identity(record: dict[str, Any], connector_id: str) -> dict[str, Any]:
    info = record["enterpriseSsoUserInfo"]
    return {"ssoConnectorId": connector_id, "issuer": record["issuer"], "identityId": str(info["id"]), "detail": info}


def _keep_token_set(profile: dict[str, Any], record: dict[str, Any], connector_id: str) -> None:
    """The record's sealed token set joins the profile for submit (Logto's `getTokenSetSecret`), in place of an
    earlier one."""
    profile.pop(SSO_TOKEN_SET_SECRET, None)
    if record.get("tokenSet") is not None:
        identity = _sso_identity(record, connector_id)
        profile[SSO_TOKEN_SET_SECRET] = {
            "ssoConnectorId": connector_id,
            "issuer": identity["issuer"],
            "identityId": identity["identityId"],
            "tokenSet": record["tokenSet"],
        }


class SsoVerifications(InteractionAccess):
    def __init__(self, engine: AsyncEngine, rpc: RpcClient, store: InteractionStore) -> None:
        self.engine = engine
        self.rpc = rpc
        self.store = store

    async def _connector(self, tenant_id: str, connector_id: str) -> SsoConnectorRecord:
        """Logto's `getSsoConnectorById`: 404 `entity.not_exists_with_id` for no connector, 404
        `connector.not_found` for a provider it does not know."""
        async with self.engine.connect() as conn:
            record = await sso_connector(conn, tenant_id, connector_id)
        if record is None:
            raise NotFound("entity.not_exists_with_id", name="sso_connectors", id=connector_id)
        if record.provider_type is None:
            raise NotFound("connector.not_found", type=record.provider_name)
        return record

    @staticmethod
    def _record(interaction: Interaction, verification_id: str | None) -> dict[str, Any]:
        return interaction.record_of_type(verification_id, ENTERPRISE_SSO)

    # POST /api/experience/verification/sso/{connectorId}/authorization-uri

    async def authorization_uri(
        self, tenant_id: str, cookie: str | None, connector_id: str, state: str, redirect_uri: str
    ) -> tuple[str, str]:
        """The IdP's authorization URI and the id of the new `EnterpriseSso` record (it replaces an earlier one, as
        Logto keeps one record of a type). An empty `state` or `redirectUri` is 400 `session.insufficient_info`, as
        for a social connector."""
        uid = await self._uid(cookie)
        await self._interaction(tenant_id, uid)
        if not state or not redirect_uri:
            raise BadRequest("session.insufficient_info")
        connector = await self._connector(tenant_id, connector_id)
        session: dict[str, Any] = {"state": state, "redirectUri": redirect_uri}
        if connector.provider_type == "saml":
            begin = SamlBegin(kind=SSO_KIND, connector_id=connector_id, redirect_uri=redirect_uri, state=state)
            started = await self.rpc.call("identity", SAML_BEGIN, begin, SamlStarted)
            uri, session["samlSessionId"] = started.authorization_uri, started.session_id
        else:
            config = parse_sso_config(connector.config, fixed_issuer=FIXED_ISSUERS.get(connector.provider_name))
            session["nonce"] = secrets.token_urlsafe(16)
            async with aiohttp.ClientSession() as http:
                discovery = await discover(http, config.issuer)
            uri = sso_authorization_uri(
                discovery, config, state=state, nonce=session["nonce"], redirect_uri=redirect_uri
            )
        verification = {
            "id": secrets.token_urlsafe(16),
            "type": ENTERPRISE_SSO,
            "connectorId": connector_id,
            "connectorSession": session,
            "verified": False,
        }
        await self._put_record(tenant_id, uid, verification)
        return uri, str(verification["id"])

    # POST /api/experience/verification/sso/{connectorId}/verify

    async def verify(
        self,
        tenant_id: str,
        cookie: str | None,
        connector_id: str,
        connector_data: dict[str, Any],
        verification_id: str,
    ) -> str:
        uid = await self._uid(cookie)
        interaction = await self._interaction(tenant_id, uid)
        if self._record(interaction, verification_id).get("connectorId") != connector_id:
            raise NotFound("session.verification_session_not_found")
        connector = await self._connector(tenant_id, connector_id)
        session = await self._take_session(tenant_id, uid, verification_id)
        token_set = None
        if connector.provider_type == "saml":
            issuer = saml_issuer(connector)
            request = SamlResult(kind=SSO_KIND, connector_id=connector_id, session_id=str(session.get("samlSessionId")))
            user_info = (await self.rpc.call("identity", SAML_RESULT, request, AccountDocument)).body
        else:
            config = parse_sso_config(connector.config, fixed_issuer=FIXED_ISSUERS.get(connector.provider_name))
            issuer = config.issuer
            async with aiohttp.ClientSession() as http:
                discovery = await discover(http, config.issuer)
                result = await sso_user_info(
                    http,
                    discovery,
                    config,
                    connector_data,
                    redirect_uri=str(session.get("redirectUri")),
                    nonce=session.get("nonce"),
                )
            user_info = result.user_info
            if connector.enable_token_storage:
                tokens = provider_tokens(result.tokens)
                sealed = await self.rpc.call(
                    "identity", SECRET_SEAL_TOKEN_SET, tokens, SealedTokenSet, timeout=SEAL_TIMEOUT
                )
                token_set = None if sealed.sealed is None else msgspec.to_builtins(sealed)
        async with self.engine.begin() as conn:
            locked = await self.store.get(conn, tenant_id, uid, lock=True)
            if locked is None:
                raise NotFound("session.interaction_not_found")
            current = self._record(locked, verification_id)
            for key in ("userId", "mfaFactors", "tokenSet"):
                current.pop(key, None)
            current.update(verified=True, enterpriseSsoUserInfo=user_info, issuer=issuer)
            if token_set is not None:
                current["tokenSet"] = token_set
            await self.store.save(conn, tenant_id, locked)
        return str(current["id"])

    async def _take_session(self, tenant_id: str, uid: str, verification_id: str) -> dict[str, Any]:
        """The record's connector session, removed as it is read (Logto's `getSingleSignOnSessionResult`): one
        `verify` per authorization URI, whatever its outcome; 400 `session.connector_validation_session_not_found`
        once it is gone."""
        async with self.engine.begin() as conn:
            locked = await self.store.get(conn, tenant_id, uid, lock=True)
            if locked is None:
                raise NotFound("session.interaction_not_found")
            session = self._record(locked, verification_id).pop("connectorSession", None)
            if not isinstance(session, dict):
                raise BadRequest("session.connector_validation_session_not_found")
            await self.store.save(conn, tenant_id, locked)
        return session

    # POST /api/experience/identification (`SignIn`)

    async def identify(self, tenant_id: str, uid: str, verification_id: str) -> None:
        """Logto's `identifyUser` for an `EnterpriseSso` record: the sign-in mode (403), `singleSignOnEnabled`
        (422), the record verified (400 `session.verification_failed`), the user (identity's `user.identify_sso`:
        by the identity, else by the IdP's email; 404 `user.identity_not_exist`, 401 `user.suspended`) and 409
        `session.identity_conflict` for another user. The identity (to link, or to refresh) and, with the
        connector's `syncProfile`, the IdP's name and avatar wait in the profile for submit."""
        interaction = await self._interaction(tenant_id, uid)
        verification = self._record(interaction, verification_id)
        async with self.engine.connect() as conn:
            settings = await sign_in_settings(conn, tenant_id) or {}
        guard_interaction_event(settings, SIGN_IN)
        if not settings.get("singleSignOnEnabled"):
            raise Unprocessable("user.sign_in_method_not_enabled")
        info = verification.get("enterpriseSsoUserInfo")
        if not verification.get("verified") or not isinstance(info, dict) or not verification.get("issuer"):
            raise BadRequest("session.verification_failed")
        connector = await self._connector(tenant_id, str(verification.get("connectorId")))
        request = IdentifySso(issuer=str(verification["issuer"]), identity_id=str(info["id"]), email=info.get("email"))
        user = await self.rpc.call("identity", USER_IDENTIFY_SSO, request, SsoUser)
        async with self.engine.begin() as conn:
            interaction = await self.store.get(conn, tenant_id, uid, lock=True) or interaction
            current = self._record(interaction, verification_id)
            if interaction.user_id is not None and interaction.user_id != user.user_id:
                raise Conflict("session.identity_conflict")
            interaction.user_id = user.user_id
            current.update(userId=user.user_id, mfaFactors=user.mfa_factors)
            profile = interaction.profile
            for key in (SSO_IDENTITY, SYNCED_SSO_IDENTITY):
                profile.pop(key, None)
            profile[SSO_IDENTITY if user.by_email else SYNCED_SSO_IDENTITY] = _sso_identity(current, connector.id)
            profile.update({k: info[k] for k in ("name", "avatar") if connector.sync_profile and info.get(k)})
            _keep_token_set(profile, current, connector.id)
            await self.store.save(conn, tenant_id, interaction)

    @staticmethod
    def verified_for(interaction: Interaction) -> bool:
        """Whether a verified `EnterpriseSso` record identified the interaction's user: Logto then skips the MFA
        verification at submit."""
        return interaction.user_id is not None and any(
            v.get("type") == ENTERPRISE_SSO and v.get("verified") and v.get("userId") == interaction.user_id
            for v in interaction.verifications
        )

    async def apply_sign_in(self, interaction: Interaction) -> None:
        """At submit of a `SignIn`: the SSO identity (linked, or its detail refreshed), its sealed token set and the
        synced name and avatar go to identity (`user.sso_sign_in`); the name and avatar are then taken out of
        `interaction`'s profile, so the social sign-in applies none again."""
        assert interaction.user_id is not None
        profile = interaction.profile
        link = SSO_IDENTITY in profile
        identity = sso_identity_of(
            profile.get(SSO_IDENTITY) or profile.get(SYNCED_SSO_IDENTITY), profile.get(SSO_TOKEN_SET_SECRET)
        )
        if identity is None:
            return
        request = SsoSignIn(
            user_id=interaction.user_id,
            identity=identity,
            link=link,
            name=profile.pop("name", None),
            avatar=profile.pop("avatar", None),
        )
        await self.rpc.call("identity", USER_SSO_SIGN_IN, request, AccountDone)

    # POST /api/experience/identification (`Register`, with the record's id)

    async def registration_profile(self, tenant_id: str, uid: str, verification_id: str) -> None:
        """Logto's `createUser` with an `EnterpriseSso` record: the record verified (400), the IdP's email free
        (422 `user.email_already_in_use`), the identity free (422 `user.identity_already_in_use`); the profile gets
        the identity, its sealed token set and the IdP's email, name and avatar. `singleSignOnEnabled` is not
        checked, as Logto."""
        interaction = await self._interaction(tenant_id, uid)
        verification = self._record(interaction, verification_id)
        info = verification.get("enterpriseSsoUserInfo")
        if not verification.get("verified") or not isinstance(info, dict) or not verification.get("issuer"):
            raise BadRequest("session.verification_failed")
        connector = await self._connector(tenant_id, str(verification.get("connectorId")))
        identity = _sso_identity(verification, connector.id)
        email = info.get("email")
        async with self.engine.connect() as conn:
            if email and await identity_reads.primary_email_taken(conn, tenant_id, str(email)):
                raise Unprocessable("user.email_already_in_use")
            if await identity_reads.sso_identity_taken(conn, tenant_id, identity["issuer"], identity["identityId"]):
                raise Unprocessable("user.identity_already_in_use")
        synced = {"primaryEmail": email, "name": info.get("name"), "avatar": info.get("avatar")}
        async with self.engine.begin() as conn:
            interaction = await self.store.get(conn, tenant_id, uid, lock=True) or interaction
            interaction.profile.update({SSO_IDENTITY: identity, **{k: v for k, v in synced.items() if v}})
            _keep_token_set(interaction.profile, self._record(interaction, verification_id), connector.id)
            await self.store.save(conn, tenant_id, interaction)

    # GET /api/experience/sso-connectors

    async def connectors_for_email(self, tenant_id: str, email: str) -> list[str]:
        """The ids of the enabled connectors of the email's domain (400 `guard.invalid_input` for a malformed
        email); anonymous, as Logto's route."""
        if not EMAIL.fullmatch(email):
            raise BadRequest("guard.invalid_input", "`email` must be an email address.", type="query")
        async with self.engine.connect() as conn:
            settings = await sign_in_settings(conn, tenant_id) or {}
            return [c.id for c in await enabled_connectors_for_email(conn, tenant_id, settings, email)]
