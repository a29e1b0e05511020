"""Social verifications of Logto's Experience API (`routes/experience/verification-routes/social-verification.ts`,
`classes/verifications/social-verification.ts`): the sign-in page asks for the provider's authorization URI
(a `Social` verification record is created in the interaction), the browser comes back from the provider with
its `connectorData`, and `verify` runs the provider round trip, which makes the record verified with Logto's
social user info. The record then identifies the user of a `SignIn` (`identify`), or makes the profile of a
`Register` (`registration_profile`).

The record keeps what Logto's connector session keeps (the `state` and `redirectUri` the authorization URI
was built with): the code is exchanged with that redirect URI, and the generic OIDC connector derives its
nonce from that state, so the ID token must answer this interaction's authorization request. The round trip
runs here, outside any transaction, with the connector's config (`queries.management.connector`); the SAML
connector's round trip is identity's (`saml.begin`, `saml.result`: its assertion consumer service is an
identity route). When the connector stores tokens, identity seals the provider's token set at once
(`secret.seal_token_set`): the record keeps only the envelope, and identity keeps it in its vault when the
sign-in is submitted (`user.social_sign_in`) or the user is created (`user.create`). The Account API's social
verification records (`verifications.py`) run the same round trip (`begin_round_trip`, `finish_round_trip`).

Logto's rules, in its order: an unknown connector is 404 `entity.not_found` when asking for the URI and 422
`session.invalid_connector_id` when verifying; a connector that is not social is 400 `connector.unexpected_type`
(422 `session.invalid_connector_id` when verifying); an empty `state` or `redirectUri` is 400
`session.insufficient_info`; `verify` without the record's id, with an unknown one or for another connector is
404 `session.verification_session_not_found`. A sign-in with a social account no user has is 404
`user.identity_not_exist`, with `data.relatedUser` (`{type, value}`) when a user has the provider's verified
phone or email: `linkSocialIdentity` then identifies that user, and the identity is linked at submit. A user
signing in through a connector with `syncProfile` gets the provider's name and avatar at submit; a new user
gets them, and the verified email and phone unless another user has them. Gatehouse adds one rule Logto does
not have: the connector's target must be one of the sign-in experience's `socialSignInConnectorTargets`
(else 422 `user.sign_in_method_not_enabled`), so a connector kept for account linking signs nobody in.
"""

import secrets
from typing import Any

import aiohttp
import msgspec
from gatehouse_connectors import FACTORIES, ConnectorFactory, TokenSet
from gatehouse_platform.errors import BadRequest, Conflict, NotFound, Unprocessable
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.queries import identity as identity_reads
from gatehouse_schema.queries.management import ConnectorRecord, connector, sign_in_settings
from gatehouse_schema.rpc.identity import (
    SAML_BEGIN,
    SAML_RESULT,
    SECRET_SEAL_TOKEN_SET,
    USER_IDENTIFY_SOCIAL,
    USER_SOCIAL_SIGN_IN,
    AccountDocument,
    AccountDone,
    IdentifySocial,
    ProviderTokens,
    SamlBegin,
    SamlResult,
    SamlStarted,
    SealedTokenSet,
    SocialSignIn,
    VerifiedUser,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_experience.interactions import Interaction, InteractionAccess, InteractionStore
from gatehouse_experience.registration import (
    SIGN_IN,
    SOCIAL_IDENTITY,
    SSO_TOKEN_SET_SECRET,
    TOKEN_SET_SECRET,
    guard_interaction_event,
    social_identity_of,
)

SOCIAL = "Social"  # Logto's `VerificationType.Social`
SAML = "saml"
# the token sets never show in the public state
PRIVATE_PROFILE_KEYS = frozenset({"password", TOKEN_SET_SECRET, SSO_TOKEN_SET_SECRET})
SEAL_TIMEOUT = 5.0


def connector_target(record: ConnectorRecord, factory: ConnectorFactory) -> str:
    return str(record.metadata.get("target") or factory.metadata.target)


def provider_tokens(tokens: TokenSet) -> ProviderTokens:
    def text(value: str | msgspec.UnsetType) -> str | None:
        return None if isinstance(value, msgspec.UnsetType) else value

    return ProviderTokens(
        access_token=tokens.access_token,
        token_type=text(tokens.token_type),
        scope=text(tokens.scope),
        refresh_token=text(tokens.refresh_token),
        id_token=text(tokens.id_token),
        expires_at=None if isinstance(tokens.expires_at, msgspec.UnsetType) else tokens.expires_at,
    )


async def connector_of(
    conn: AsyncConnection, tenant_id: str, connector_id: str
) -> tuple[ConnectorRecord, ConnectorFactory] | None:
    """The connector row and its factory; None when there is no such connector (or no factory for it)."""
    record = await connector(conn, tenant_id, connector_id)
    factory = None if record is None else FACTORIES.get(record.connector_id)
    return None if record is None or factory is None else (record, factory)


async def begin_round_trip(
    rpc: RpcClient,
    record: ConnectorRecord,
    factory: ConnectorFactory,
    state: str,
    redirect_uri: str,
    scope: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The provider's authorization URI and the connector session to keep until the browser is back (Logto's
    `connectorSession`: the `state` and `redirectUri`, and identity's SAML session). `scope`, when given, replaces
    the connector's configured scope (Logto's `socialAuthorizationUrlPayloadGuard.scope`)."""
    session: dict[str, Any] = {"state": state, "redirectUri": redirect_uri}
    if factory.id == SAML:
        begin = SamlBegin(kind="social", connector_id=record.id, redirect_uri=redirect_uri, state=state)
        started = await rpc.call("identity", SAML_BEGIN, begin, SamlStarted)
        session["samlSessionId"] = started.session_id
        return started.authorization_uri, session
    config = {**record.config, "scope": scope} if scope else record.config
    return factory.authorization_uri(config, state, redirect_uri), session


async def finish_round_trip(
    rpc: RpcClient,
    record: ConnectorRecord,
    factory: ConnectorFactory,
    session: dict[str, Any],
    connector_data: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The provider's round trip for the browser's `connector_data` and the kept `session` (no transaction open):
    Logto's social user info, and the token set sealed by identity when the connector stores tokens."""
    if factory.id == SAML:
        request = SamlResult(kind="social", connector_id=record.id, session_id=str(session.get("samlSessionId")))
        return (await rpc.call("identity", SAML_RESULT, request, AccountDocument)).body, None
    data = {**connector_data, "state": session.get("state"), "redirectUri": session.get("redirectUri")}
    async with aiohttp.ClientSession() as http:
        result = await factory.user_info(http, record.config, data)
    token_set = None
    if record.enable_token_storage and factory.metadata.is_token_storage_supported is True:
        tokens = provider_tokens(result.tokens)
        sealed = await rpc.call("identity", SECRET_SEAL_TOKEN_SET, tokens, SealedTokenSet, timeout=SEAL_TIMEOUT)
        token_set = None if sealed.sealed is None else msgspec.to_builtins(sealed)
    return msgspec.to_builtins(result.user_info), token_set


class SocialVerifications(InteractionAccess):
    def __init__(self, engine: AsyncEngine, rpc: RpcClient, store: InteractionStore) -> None:
        self.engine = engine
        self.rpc = rpc
        self.store = store

    async def _social_connector(
        self, conn: AsyncConnection, tenant_id: str, connector_id: str
    ) -> tuple[ConnectorRecord, ConnectorFactory]:
        """Logto's `socials.getConnector` for a record's connector: 422 `session.invalid_connector_id` when it is
        gone or not social."""
        found = await connector_of(conn, tenant_id, connector_id)
        if found is None or found[1].metadata.type != SOCIAL:
            raise Unprocessable("session.invalid_connector_id", connectorId=connector_id)
        return found

    # POST /api/experience/verification/social/{connectorId}/authorization-uri

    async def authorization_uri(
        self, tenant_id: str, cookie: str | None, connector_id: str, state: str, redirect_uri: str
    ) -> tuple[str, str]:
        """The provider's authorization URI and the id of the new `Social` record (it replaces an earlier one,
        as Logto keeps one record of a type)."""
        uid = await self._uid(cookie)
        await self._interaction(tenant_id, uid)
        if not state or not redirect_uri:
            raise BadRequest("session.insufficient_info")
        async with self.engine.connect() as conn:
            found = await connector_of(conn, tenant_id, connector_id)
        if found is None:
            raise NotFound("entity.not_found")
        record, factory = found
        if factory.metadata.type != SOCIAL:
            raise BadRequest("connector.unexpected_type")
        uri, session = await begin_round_trip(self.rpc, record, factory, state, redirect_uri)
        verification = {
            "id": secrets.token_urlsafe(16),
            "type": SOCIAL,
            "connectorId": connector_id,
            "connectorSession": session,
            "verified": False,
        }
        await self._put_record(tenant_id, uid, verification)
        return uri, str(verification["id"])

    # POST /api/experience/verification/social/{connectorId}/verify

    async def verify(
        self,
        tenant_id: str,
        cookie: str | None,
        connector_id: str,
        connector_data: dict[str, Any],
        verification_id: str | None,
    ) -> str:
        uid = await self._uid(cookie)
        interaction = await self._interaction(tenant_id, uid)
        async with self.engine.connect() as conn:
            record, factory = await self._social_connector(conn, tenant_id, connector_id)
        verification = self._record(interaction, verification_id)
        if verification.get("connectorId") != connector_id:
            raise NotFound("session.verification_session_not_found")
        session = verification.get("connectorSession") or {}
        user_info, token_set = await finish_round_trip(self.rpc, record, factory, session, connector_data)
        async with self.engine.begin() as conn:
            locked = await self.store.get(conn, tenant_id, uid, lock=True)
            if locked is None:
                raise NotFound("session.interaction_not_found")
            current = self._record(locked, verification_id)
            for key in ("userId", "mfaFactors", "tokenSet"):
                current.pop(key, None)
            current.update(verified=True, socialUserInfo=user_info)
            if token_set is not None:
                current["tokenSet"] = token_set
            await self.store.save(conn, tenant_id, locked)
        return str(current["id"])

    @staticmethod
    def _record(interaction: Interaction, verification_id: str | None) -> dict[str, Any]:
        return interaction.record_of_type(verification_id, SOCIAL)

    async def _enabled_target(self, conn: AsyncConnection, tenant_id: str, verification: dict[str, Any]) -> Any:
        """The record's connector and target, which the sign-in experience must enable for social sign-in."""
        record, factory = await self._social_connector(conn, tenant_id, str(verification.get("connectorId")))
        target = connector_target(record, factory)
        settings = await sign_in_settings(conn, tenant_id) or {}
        if target not in (settings.get("socialSignInConnectorTargets") or []):
            raise Unprocessable("user.sign_in_method_not_enabled")
        return record, target

    # POST /api/experience/identification (`SignIn`)

    async def identify(self, tenant_id: str, uid: str, verification_id: str, link: bool) -> None:
        """Logto's `identifyUser` for a `Social` record: the sign-in mode (403), the connector's target (422),
        the record verified (400 `session.verification_failed`), the user of the identity (identity's
        `user.identify_social`: 404 `user.identity_not_exist`, 401 `user.suspended`) and 409
        `session.identity_conflict` for another user. The synced profile and, with `link`, the identity to link
        wait in the interaction's profile for submit; so does the sealed token set."""
        interaction = await self._interaction(tenant_id, uid)
        verification = self._record(interaction, verification_id)
        async with self.engine.connect() as conn:
            guard_interaction_event(await sign_in_settings(conn, tenant_id) or {}, SIGN_IN)
            record, target = await self._enabled_target(conn, tenant_id, verification)
        info = verification.get("socialUserInfo")
        if not verification.get("verified") or not isinstance(info, dict):
            raise BadRequest("session.verification_failed")
        request = IdentifySocial(
            target=target, identity_id=str(info["id"]), email=info.get("email"), phone=info.get("phone"), related=link
        )
        user = await self.rpc.call("identity", USER_IDENTIFY_SOCIAL, request, VerifiedUser)
        async with self.engine.begin() as conn:
            interaction = await self.store.get(conn, tenant_id, uid, lock=True) or interaction
            current = self._record(interaction, verification_id)
            if interaction.user_id is not None:
                if interaction.user_id != user.user_id:
                    raise Conflict("session.identity_conflict")
                return
            interaction.user_id = user.user_id
            current.update(userId=user.user_id, mfaFactors=user.mfa_factors)
            synced = {k: info[k] for k in ("name", "avatar") if record.sync_profile and info.get(k)}
            interaction.profile.update(synced)
            if link:
                interaction.profile[SOCIAL_IDENTITY] = {"connectorId": record.id, "target": target, "userInfo": info}
            self._keep_token_set(interaction.profile, current, record.id, target)
            await self.store.save(conn, tenant_id, interaction)

    @staticmethod
    def _keep_token_set(profile: dict[str, Any], verification: dict[str, Any], connector_id: str, target: str) -> None:
        if verification.get("tokenSet") is not None:
            profile[TOKEN_SET_SECRET] = {
                "connectorId": connector_id,
                "target": target,
                "identityId": str(verification["socialUserInfo"]["id"]),
                "tokenSet": verification["tokenSet"],
            }

    async def apply_sign_in(self, interaction: Interaction) -> None:
        """At submit of a `SignIn`: what the social verification brought goes to identity (`user.social_sign_in`)."""
        assert interaction.user_id is not None
        profile = interaction.profile
        identity = social_identity_of(profile)
        name, avatar = profile.get("name"), profile.get("avatar")
        if identity is None and name is None and avatar is None:
            return
        request = SocialSignIn(
            user_id=interaction.user_id,
            identity=identity,
            link=SOCIAL_IDENTITY in profile,
            name=name,
            avatar=avatar,
        )
        await self.rpc.call("identity", USER_SOCIAL_SIGN_IN, request, AccountDone)

    # POST /api/experience/identification (`Register`, with the record's id)

    async def registration_profile(self, tenant_id: str, uid: str, verification_id: str) -> None:
        """Logto's `createUser` with a `Social` record: the connector's target (422), the record verified (400),
        the identity free (422 `user.identity_already_in_use`); the profile gets the identity, the provider's
        name and avatar, its verified email and phone where no user has them, and the token set; it is saved
        before the sign-up's checks, as Logto saves it."""
        interaction = await self._interaction(tenant_id, uid)
        verification = self._record(interaction, verification_id)
        async with self.engine.connect() as conn:
            record, target = await self._enabled_target(conn, tenant_id, verification)
            info = verification.get("socialUserInfo")
            if not verification.get("verified") or not isinstance(info, dict):
                raise BadRequest("session.verification_failed")
            if await identity_reads.social_identity_taken(conn, tenant_id, target, str(info["id"])):
                raise Unprocessable("user.identity_already_in_use")
            synced: dict[str, Any] = {}
            email, phone = info.get("email"), info.get("phone")
            if email and not await identity_reads.primary_email_taken(conn, tenant_id, email):
                synced["primaryEmail"] = email
            if phone and not await identity_reads.primary_phone_taken(conn, tenant_id, phone):
                synced["primaryPhone"] = phone
            synced.update({k: info[k] for k in ("name", "avatar") if info.get(k)})
        async with self.engine.begin() as conn:
            interaction = await self.store.get(conn, tenant_id, uid, lock=True) or interaction
            current = self._record(interaction, verification_id)
            interaction.profile.pop(TOKEN_SET_SECRET, None)
            interaction.profile.update(
                {SOCIAL_IDENTITY: {"connectorId": record.id, "target": target, "userInfo": info}, **synced}
            )
            self._keep_token_set(interaction.profile, current, record.id, target)
            await self.store.save(conn, tenant_id, interaction)
