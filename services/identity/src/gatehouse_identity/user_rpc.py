"""The user commands experience calls: `<prefix>.rpc.identity.user.verify_password`, `user.verify_totp`,
`user.consume_backup_code`, `user.identify` (the user of a verified email: an email verification code's
sign-in), `user.create` (with a social or enterprise SSO registration's identity) and
`user.post_sign_in_action` (Structs in `gatehouse_schema.rpc.identity`; the sign-in's Actions run here, see
`services/action_runs.py`); for the Account API `user.from_access_token`, `user.update_profile` and
`user.set_password` (also a `ForgotPassword` reset's, after `user.check_new_password` refused the current
password). Identity owns users, their password digests and MFA secrets, so a sign-in's checks run here: digests
and secrets never leave the service. The social sign-in's commands are `SocialLinkService`'s, the
enterprise SSO sign-in's `SsoIdentityService`'s."""

import msgspec
from gatehouse_platform.errors import BadRequest, Forbidden, GatehouseError, NotFound, Unauthorized, Unprocessable
from gatehouse_platform.oauth_errors import OAuthError
from gatehouse_platform.service import ServiceContext
from gatehouse_schema.api.users import User
from gatehouse_schema.events import Actor, UserRegistered
from gatehouse_schema.rpc.identity import (
    USER_CHECK_NEW_PASSWORD,
    USER_CONSUME_BACKUP_CODE,
    USER_CREATE,
    USER_FROM_ACCESS_TOKEN,
    USER_IDENTIFY,
    USER_POST_SIGN_IN_ACTION,
    USER_SET_PASSWORD,
    USER_UPDATE_PROFILE,
    USER_VERIFY_PASSWORD,
    USER_VERIFY_TOTP,
    AccessTokenUser,
    AccountDone,
    CheckNewPassword,
    ConsumeBackupCode,
    CreatedUser,
    CreateUser,
    FromAccessToken,
    IdentifyUser,
    PasswordSet,
    PostSignInAction,
    SetPassword,
    TotpVerified,
    UpdateProfile,
    VerifiedUser,
    VerifyPassword,
    VerifyTotp,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.api.user_bodies import CreateUser as CreateUserBody
from gatehouse_identity.api.user_bodies import UpdateUser
from gatehouse_identity.domain import mfa
from gatehouse_identity.oidc import store as oidc_store
from gatehouse_identity.oidc.userinfo import active_access_token
from gatehouse_identity.persistence.users import UserRecord, UserStore
from gatehouse_identity.services.action_runs import INVALID_CREDENTIALS, SIGN_IN, ActionRuns
from gatehouse_identity.services.social_links import SocialLinkService
from gatehouse_identity.services.sso_identities import SsoIdentityService
from gatehouse_identity.services.user_mfa import UserMfaService
from gatehouse_identity.services.user_records import mfa_factor_types
from gatehouse_identity.services.users import UserService

IDENTIFIER_TYPES = frozenset({"username", "email", "phone", "userId"})
SIGN_IN_IDENTIFIER_TYPES = frozenset({"username", "email", "phone"})


def _runs_first_factor_action(request: VerifyPassword, record: UserRecord | None, error: GatehouseError) -> bool:
    """Logto runs PostFirstFactorVerification for a `SignIn` password it refused as invalid credentials, unless
    the user is suspended."""
    return (
        error.code == INVALID_CREDENTIALS
        and request.interaction_event == SIGN_IN
        and request.identifier.type in SIGN_IN_IDENTIFIER_TYPES
        and (record is None or not record.user.is_suspended)
    )


def register_user_rpc(
    ctx: ServiceContext,
    users: UserService,
    store: UserStore,
    factors: UserMfaService,
    actions: ActionRuns,
    social_links: SocialLinkService,
    sso_identities: SsoIdentityService,
) -> None:
    tenant_id = ctx.settings.default_tenant_id

    async def verify_password(request: VerifyPassword) -> VerifiedUser:
        identifier = request.identifier
        if identifier.type not in IDENTIFIER_TYPES or not identifier.value:
            raise Unprocessable("session.invalid_credentials")
        async with ctx.engine.connect() as conn:
            if identifier.type == "userId":  # the Account API: the signed-in user's own password
                record = await store.record(conn, tenant_id, identifier.value)
            else:
                record = await store.find_by_identifier(conn, tenant_id, identifier.type, identifier.value)
        try:
            if record is None:
                raise Unprocessable(INVALID_CREDENTIALS)
            await users.verify_password(tenant_id, record.user.id, request.password)
        except GatehouseError as error:
            if not _runs_first_factor_action(request, record, error):
                raise
            user_id = await actions.post_first_factor_verification(
                tenant_id, identifier, request.password, record, error
            )
            return VerifiedUser(user_id=user_id, mfa_factors=[] if record is None else mfa_factor_types(record))
        if record.user.is_suspended:
            raise Unauthorized("user.suspended")
        return VerifiedUser(user_id=record.user.id, mfa_factors=mfa_factor_types(record))

    async def identify(request: IdentifyUser) -> VerifiedUser:
        """Logto's `findUserByIdentifier` for a verified email or phone, then its suspension check."""
        record = None
        if request.type in ("email", "phone") and request.value:
            async with ctx.engine.connect() as conn:
                record = await store.find_by_identifier(conn, tenant_id, request.type, request.value)
        if record is None:
            raise NotFound("user.user_not_exist", data={"identifier": request.value}, identifier=request.value)
        if record.user.is_suspended:
            raise Unauthorized("user.suspended")
        return VerifiedUser(user_id=record.user.id, mfa_factors=mfa_factor_types(record))

    async def verify_totp(request: VerifyTotp) -> TotpVerified:
        async with ctx.engine.connect() as conn:
            record = await store.record(conn, tenant_id, request.user_id)
        secrets = [
            str(f.get("key"))
            for f in (record.mfa_verifications if record is not None else [])
            if isinstance(f, dict) and f.get("type") == mfa.TOTP and f.get("key")
        ]
        if not any(mfa.totp_matches(secret, request.code.strip()) for secret in secrets):
            raise BadRequest("session.mfa.invalid_totp_code")
        return TotpVerified(user_id=request.user_id)

    async def create(request: CreateUser) -> CreatedUser:
        """A registration's new user, created as `POST /api/users` creates one (same checks, `User.Created`
        through the outbox); the event has no actor, as nobody is signed in yet. A social registration's
        identity is the user's from the start, its token set kept in the same transaction; so is an enterprise SSO
        registration's identity. `User.Registered` follows in the same transaction (the new user's primary email
        and SSO connector, for organizations' just-in-time provisioning)."""
        identity_keys = {"socialIdentity", "ssoIdentity"}
        fields = {k: v for k, v in msgspec.to_builtins(request).items() if v is not None and k not in identity_keys}
        try:
            body = msgspec.convert(fields, CreateUserBody)
        except msgspec.ValidationError as error:
            raise BadRequest("guard.invalid_input", data={"message": str(error)}) from None
        social, sso = request.social_identity, request.sso_identity
        identities = None
        if social is not None:
            identities = {social.target: {"userId": str(social.details["id"]), "details": social.details}}

        async def keep(conn: AsyncConnection, user: User) -> None:
            if social is not None:
                await social_links.keep_new_identity(conn, tenant_id, user, social)
            if sso is not None:
                await sso_identities.keep_new_identity(conn, tenant_id, user.id, sso)
            registered = UserRegistered(
                user_id=user.id,
                primary_email=user.primary_email,
                sso_connector_id=None if sso is None else sso.sso_connector_id,
            )
            await users.outbox.append(conn, registered, tenant_id=tenant_id, actor=None)

        user = await users.create(tenant_id, body, None, identities=identities, within=keep)
        return CreatedUser(user_id=user.id)

    async def post_sign_in_action(request: PostSignInAction) -> AccountDone:
        await actions.post_sign_in(tenant_id, request.user_id)
        return AccountDone(user_id=request.user_id)

    ctx.rpc_server.register(USER_VERIFY_PASSWORD, VerifyPassword, verify_password)
    ctx.rpc_server.register(USER_IDENTIFY, IdentifyUser, identify)
    ctx.rpc_server.register(USER_CREATE, CreateUser, create)
    ctx.rpc_server.register(USER_POST_SIGN_IN_ACTION, PostSignInAction, post_sign_in_action)

    async def consume_backup_code(request: ConsumeBackupCode) -> TotpVerified:
        await factors.consume_backup_code(tenant_id, request.user_id, request.code.strip())
        return TotpVerified(user_id=request.user_id)

    ctx.rpc_server.register(USER_CONSUME_BACKUP_CODE, ConsumeBackupCode, consume_backup_code)
    ctx.rpc_server.register(USER_VERIFY_TOTP, VerifyTotp, verify_totp)

    register_account_rpc(ctx, users)


def register_account_rpc(ctx: ServiceContext, users: UserService) -> None:
    """The Account API's commands: the caller is the user of an opaque access token, judged as `/oidc/me` does."""
    tenant_id = ctx.settings.default_tenant_id

    async def from_access_token(request: FromAccessToken) -> AccessTokenUser:
        async with ctx.engine.connect() as conn:
            try:
                token = await active_access_token(conn, tenant_id, request.access_token)
            except OAuthError:
                raise Unauthorized("auth.unauthorized") from None
            account = await oidc_store.get_account(conn, tenant_id, token.account_id)
        if account is None or account.is_suspended:  # Logto revokes such a user's tokens
            raise Unauthorized("auth.unauthorized")
        if "openid" not in token.scopes:
            raise Forbidden("auth.forbidden")
        user = await users.get(tenant_id, token.account_id)
        return AccessTokenUser(user_id=user.id, client_id=token.client_id, scopes=token.scopes, user=user)

    async def update_profile(request: UpdateProfile) -> User:
        actor = Actor(type="user", id=request.user_id)
        fields = msgspec.to_builtins(request)  # UNSET fields are left out
        profile = fields.pop("profile", None)
        fields.pop("userId")
        user: User | None = None
        if fields:
            try:
                body = msgspec.convert(fields, UpdateUser)
            except msgspec.ValidationError as error:
                raise BadRequest("guard.invalid_input", data={"message": str(error)}) from None
            user = await users.update(tenant_id, request.user_id, body, actor)
        if profile is not None:
            await users.merge_profile(tenant_id, request.user_id, profile, actor)
            user = None
        return user or await users.get(tenant_id, request.user_id)

    async def set_password(request: SetPassword) -> PasswordSet:
        await users.set_password(tenant_id, request.user_id, request.password, Actor(type="user", id=request.user_id))
        return PasswordSet(user_id=request.user_id)

    ctx.rpc_server.register(USER_FROM_ACCESS_TOKEN, FromAccessToken, from_access_token)
    ctx.rpc_server.register(USER_UPDATE_PROFILE, UpdateProfile, update_profile)

    async def check_new_password(request: CheckNewPassword) -> PasswordSet:
        await users.check_new_password(tenant_id, request.user_id, request.password)
        return PasswordSet(user_id=request.user_id)

    ctx.rpc_server.register(USER_SET_PASSWORD, SetPassword, set_password)
    ctx.rpc_server.register(USER_CHECK_NEW_PASSWORD, CheckNewPassword, check_new_password)
