"""Logto's Account API (`/api/my-account`): the user of an opaque access token reads and changes their own
account, as far as the tenant's account center allows (`routes/account/index.ts` and its `koaAccountCenter`).

Identity owns users: it judges the token (`user.from_access_token`), applies the changes (`user.update_profile`,
`user.set_password`, with `User.Data.Updated` through its outbox) and keeps the password digests. The account
center settings are management's, read with `queries.management.account_center`."""

from dataclasses import dataclass
from typing import Any

import msgspec
from gatehouse_platform.errors import BadRequest, Unauthorized
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.api.users import User
from gatehouse_schema.queries.management import AccountCenterSettings, account_center, sign_in_settings
from gatehouse_schema.rpc.identity import (
    USER_FROM_ACCESS_TOKEN,
    USER_SET_PASSWORD,
    USER_UPDATE_PROFILE,
    AccessTokenUser,
    FromAccessToken,
    PasswordSet,
    SetPassword,
    UpdateProfile,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_experience.registration import check_password
from gatehouse_experience.verifications import Verifications

EDIT, READ_ONLY = "Edit", "ReadOnly"
BEARER = "Bearer"


@dataclass(frozen=True)
class Caller:
    """The user of the request's access token, with the token's scopes, and the account center it obeys."""

    user: User
    scopes: frozenset[str]
    center: AccountCenterSettings

    def field(self, name: str) -> str:
        return self.center.fields.get(name, "Off")

    def editable(self, name: str) -> None:
        if self.field(name) != EDIT:
            raise BadRequest("account_center.field_not_editable")

    def readable(self, name: str) -> bool:
        return self.field(name) in (EDIT, READ_ONLY)


def bearer_token(authorization: str | None) -> str:
    """Logto's `extractBearerTokenFromHeaders`: 401 without a header or for another scheme."""
    if not authorization:
        raise Unauthorized("auth.authorization_header_missing")
    if not authorization.startswith(BEARER):
        raise Unauthorized("auth.authorization_token_type_not_supported", data={"supportedTypes": [BEARER]})
    return authorization[len(BEARER) + 1 :]


def has_verification_method(user: User) -> bool:
    """Logto's `hasSecurityVerificationMethod`: a password, primary email or phone to verify the user with; a
    user without one changes what needs a verification record without it."""
    return user.has_password or bool(user.primary_email) or bool(user.primary_phone)


def scoped_profile(user: User, scopes: frozenset[str]) -> dict[str, Any]:
    """Logto's `getScopedProfile`: the fields the token's scopes grant (no SSO identities: Gatehouse has none)."""
    data: dict[str, Any] = msgspec.to_builtins(user)
    out: dict[str, Any] = {"id": user.id}
    if "identities" in scopes:
        out["identities"] = data["identities"]
    if "custom_data" in scopes:
        out["customData"] = data["customData"]
    if "email" in scopes:
        out["primaryEmail"] = user.primary_email
    if "phone" in scopes:
        out["primaryPhone"] = user.primary_phone
    if "profile" in scopes:
        keys = ("name", "avatar", "username", "lastSignInAt", "createdAt", "updatedAt", "applicationId")
        out.update({key: data.get(key) for key in keys})
        out["profile"] = scoped_other_profile(user, scopes)
        out["cimdClientId"] = user.cimd_client_id
        out["isSuspended"] = user.is_suspended
        out["hasPassword"] = user.has_password
    return out


def scoped_other_profile(user: User, scopes: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in user.profile.items() if k != "address" or "address" in scopes}


# the account center field that lets each profile key be read (Logto's `getAccountCenterFilteredProfile`)
FIELD_OF = {
    "name": "name",
    "avatar": "avatar",
    "username": "username",
    "primaryEmail": "email",
    "primaryPhone": "phone",
    "profile": "profile",
    "customData": "customData",
    "identities": "social",
    "hasPassword": "password",
}


def filtered_profile(caller: Caller, user: User) -> dict[str, Any]:
    scoped = scoped_profile(user, caller.scopes)
    return {k: v for k, v in scoped.items() if k not in FIELD_OF or caller.readable(FIELD_OF[k])}


class AccountApi:
    def __init__(self, engine: AsyncEngine, rpc: RpcClient, verifications: Verifications) -> None:
        self.engine = engine
        self.rpc = rpc
        self.verifications = verifications

    async def authenticate(self, tenant_id: str, authorization: str | None) -> Caller:
        """Logto's `koaOidcAuth` then `koaAccountCenter`: 401/403 for the token, 400 when the account center is off."""
        token = bearer_token(authorization)
        found = await self.rpc.call(
            "identity", USER_FROM_ACCESS_TOKEN, FromAccessToken(access_token=token), AccessTokenUser
        )
        async with self.engine.connect() as conn:
            center = await account_center(conn, tenant_id)
        if not center.enabled:
            raise BadRequest("account_center.not_enabled")
        return Caller(user=found.user, scopes=frozenset(found.scopes), center=center)

    def profile(self, caller: Caller) -> dict[str, Any]:
        return filtered_profile(caller, caller.user)

    async def update_profile(self, tenant_id: str, caller: Caller, changes: dict[str, Any]) -> dict[str, Any]:
        """`PATCH /api/my-account`: `changes` holds the given keys of `name`, `avatar`, `username`, `customData`."""
        for key in changes:
            caller.editable(key)
        if "profile" not in caller.scopes:
            raise BadRequest("auth.unauthorized")
        if "customData" in changes and "custom_data" not in caller.scopes:
            raise BadRequest("auth.unauthorized")
        if "username" in changes and changes["username"] is None:
            async with self.engine.connect() as conn:
                settings = await sign_in_settings(conn, tenant_id) or {}
            if "username" in ((settings.get("signUp") or {}).get("identifiers") or []):
                raise BadRequest("user.username_required")
        request = msgspec.convert({"userId": caller.user.id, **changes}, UpdateProfile)
        user = await self.rpc.call("identity", USER_UPDATE_PROFILE, request, User)
        return filtered_profile(caller, user)

    async def update_other_profile(self, caller: Caller, profile: dict[str, Any]) -> dict[str, Any]:
        """`PATCH /api/my-account/profile`: merged into the user's profile; `address` needs the `address` scope."""
        caller.editable("profile")
        if "profile" not in caller.scopes:
            raise BadRequest("auth.unauthorized")
        if "address" in profile and "address" not in caller.scopes:
            raise BadRequest("auth.unauthorized")
        request = UpdateProfile(user_id=caller.user.id, profile=profile)
        user = await self.rpc.call("identity", USER_UPDATE_PROFILE, request, User)
        return scoped_other_profile(user, caller.scopes)

    async def update_password(self, tenant_id: str, caller: Caller, verification_id: str | None, password: str) -> None:
        """`POST /api/my-account/password`: a verified record of this user, unless the user has no password, email
        or phone to verify with (setting a first password); then the sign-in experience's password policy."""
        user = caller.user
        if has_verification_method(user):
            await self.verifications.require_identity_verified(tenant_id, user.id, verification_id)
        caller.editable("password")
        async with self.engine.connect() as conn:
            settings = await sign_in_settings(conn, tenant_id) or {}
        info = {"name": user.name, "username": user.username}
        check_password(
            settings, password, {**info, "primaryEmail": user.primary_email, "primaryPhone": user.primary_phone}
        )
        await self.rpc.call("identity", USER_SET_PASSWORD, SetPassword(user_id=user.id, password=password), PasswordSet)
