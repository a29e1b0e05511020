"""User use cases: each command is one transaction that changes state and appends its event.

Password hashing and verification run in worker threads before or after the transaction, never
while it holds a connection.
"""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.users import User
from gatehouse_schema.events import (
    Actor,
    UserCreated,
    UserDataUpdated,
    UserDeleted,
    UserSuspensionStatusUpdated,
)
from gatehouse_schema.ids import generate_id
from msgspec import UNSET
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.api.user_bodies import CreateUser, LogtoConfigPatch, UpdateUser
from gatehouse_identity.domain.users import (
    IDENTIFIER_ERRORS,
    check_avatar,
    check_email,
    check_identifiers,
    check_phone,
    check_username,
    exposed_logto_config,
    merge_logto_config,
)
from gatehouse_identity.oidc.user_sessions import revoke_account
from gatehouse_identity.passwords import (
    ARGON2_ALGORITHMS,
    InvalidLegacyDigest,
    PasswordHasher,
    UnsupportedLegacyAlgorithm,
    parse_legacy,
)
from gatehouse_identity.persistence.users import UserRecord, UserStore, violated_identifier

USER_ID_LENGTH = 12  # Logto's user ids: 12 lowercase letters and digits


def new_user_id() -> str:
    return generate_id(USER_ID_LENGTH)


def _invalid_credentials() -> Unprocessable:
    return Unprocessable("session.invalid_credentials")


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


@contextmanager
def _identifier_races() -> Iterator[None]:
    """A unique index that a concurrent write hit first answers like the pre-check would have."""
    try:
        yield
    except IntegrityError as exc:
        column = violated_identifier(exc)
        if column is None:
            raise
        raise Unprocessable(IDENTIFIER_ERRORS[column]) from None


def _blank_to_none(value: str | None) -> str | None:
    return value or None


class UserService:
    def __init__(
        self,
        engine: AsyncEngine,
        store: UserStore,
        passwords: PasswordHasher,
        outbox: Outbox,
        new_id: Callable[[], str] = new_user_id,
    ) -> None:
        self.engine = engine
        self.store = store
        self.passwords = passwords
        self.outbox = outbox
        self.new_id = new_id

    async def _record(self, conn: AsyncConnection, tenant_id: str, user_id: str, *, lock: bool = False) -> UserRecord:
        record = await self.store.record(conn, tenant_id, user_id, lock=lock)
        if record is None:
            raise NotFound("entity.not_exists_with_id", name="user", id=user_id)
        return record

    async def _check_collisions(
        self, conn: AsyncConnection, tenant_id: str, identifiers: dict[str, str | None], except_id: str | None = None
    ) -> None:
        for column in ("primary_email", "primary_phone", "username"):  # Logto's order
            value = identifiers.get(column)
            if value and await self.store.identifier_taken(conn, tenant_id, column, value, except_id):
                raise Unprocessable(IDENTIFIER_ERRORS[column])

    async def _updated(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        user_id: str,
        values: dict[str, Any],
        actor: Actor | None,
        changed: list[str] | None = None,
    ) -> User:
        user = await self.store.update(conn, tenant_id, user_id, values)
        fields = changed if changed is not None else sorted(_camel(k) for k in values)
        await self.outbox.append(conn, UserDataUpdated(data=user, changed=fields), tenant_id=tenant_id, actor=actor)
        return user

    # queries

    async def get(self, tenant_id: str, user_id: str) -> User:
        async with self.engine.connect() as conn:
            user = await self.store.get(conn, tenant_id, user_id)
        if user is None:
            raise NotFound("entity.not_exists_with_id", name="user", id=user_id)
        return user

    async def search(self, tenant_id: str, term: str | None, page: Page) -> tuple[int, list[User]]:
        async with self.engine.connect() as conn:
            return await self.store.search(conn, tenant_id, term, page)

    async def custom_data(self, tenant_id: str, user_id: str) -> dict[str, Any]:
        return (await self.get(tenant_id, user_id)).custom_data

    async def has_password(self, tenant_id: str, user_id: str) -> bool:
        return (await self.get(tenant_id, user_id)).has_password

    async def logto_configs(self, tenant_id: str, user_id: str) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            record = await self._record(conn, tenant_id, user_id)
        return exposed_logto_config(record.logto_config)

    # commands

    async def create(
        self,
        tenant_id: str,
        body: CreateUser,
        actor: Actor | None,
        *,
        identities: dict[str, Any] | None = None,
        within: Callable[[AsyncConnection, User], Awaitable[None]] | None = None,
    ) -> User:
        """A new user (`User.Created`); a registration's social `identities` are the user's from the start and
        `within` runs in the creating transaction, after `User.Created` is appended (it may refuse the user by
        raising, or append events of its own)."""
        password = body.password or None
        digest = body.password_digest or None
        if password and digest:
            raise BadRequest("user.password_and_digest")
        if digest and body.password_algorithm is UNSET:
            raise BadRequest("user.password_algorithm_required")
        if body.username is not UNSET:
            check_username(body.username)
        if body.primary_email is not UNSET:
            check_email(body.primary_email)
        if body.primary_phone is not UNSET:
            check_phone(body.primary_phone)
        if body.avatar:
            check_avatar(body.avatar)
        identifiers: dict[str, str | None] = {
            "primary_email": body.primary_email or None,
            "primary_phone": body.primary_phone or None,
            "username": body.username or None,
        }
        values: dict[str, Any] = {
            "tenant_id": tenant_id,
            "id": self.new_id(),
            **identifiers,
            "name": None if body.name is UNSET else body.name,
            "avatar": None if body.avatar is UNSET else body.avatar,
            "custom_data": {} if body.custom_data is UNSET else body.custom_data,
            "profile": {} if body.profile is UNSET else msgspec.to_builtins(body.profile),
            "identities": identities or {},
            "logto_config": {},
            "mfa_verifications": [],
            "is_suspended": False,
        }
        if digest and body.password_algorithm is not UNSET:
            if body.password_algorithm == "Legacy":
                _check_legacy(digest)
            values["password_encrypted"] = digest
            values["password_encryption_method"] = body.password_algorithm
        elif password:
            values["password_encrypted"], values["password_encryption_method"] = await self.passwords.hash(password)
        async with self.engine.begin() as conn:
            await self._check_collisions(conn, tenant_id, identifiers)
            with _identifier_races():
                user = await self.store.insert(conn, values)
            await self.outbox.append(conn, UserCreated(data=user), tenant_id=tenant_id, actor=actor)
            if within is not None:
                await within(conn, user)
        return user

    async def update(
        self,
        tenant_id: str,
        user_id: str,
        body: UpdateUser,
        actor: Actor | None,
        *,
        merge: bool = False,
        password: str | None = None,
    ) -> User:
        """With `merge`, `customData` and `profile` are merged into the stored objects key by key (Logto's
        `mergeCustomData`, as an Action's patch is applied); a `password` is hashed before the transaction and
        stored with the change."""
        values = _update_values(body)
        digest = await self.passwords.hash(password) if password else None
        async with self.engine.begin() as conn:
            current = await self._record(conn, tenant_id, user_id, lock=True)
            if merge:
                for column in ("custom_data", "profile"):
                    patch = values.pop(column, None)
                    if patch:  # an empty patch changes nothing
                        values[column] = {**getattr(current.user, column), **patch}
            changed = sorted(_camel(k) for k in values)
            if digest is not None:
                values["password_encrypted"], values["password_encryption_method"] = digest
                changed.append("password")
            if not values:
                return current.user
            await self._check_collisions(conn, tenant_id, values, except_id=user_id)
            with _identifier_races():
                return await self._updated(conn, tenant_id, user_id, values, actor, changed)

    async def delete(self, tenant_id: str, user_id: str, actor: Actor | None) -> None:
        if actor is not None and actor.type == "user" and actor.id == user_id:
            raise BadRequest("user.cannot_delete_self")
        async with self.engine.begin() as conn:
            current = await self._record(conn, tenant_id, user_id, lock=True)
            await revoke_account(conn, tenant_id, user_id)  # OIDC state has no foreign key to the user
            await self.store.delete(conn, tenant_id, user_id)
            await self.outbox.append(conn, UserDeleted(data=current.user), tenant_id=tenant_id, actor=actor)

    async def merge_custom_data(
        self, tenant_id: str, user_id: str, patch: dict[str, Any], actor: Actor | None
    ) -> dict[str, Any]:
        async with self.engine.begin() as conn:
            current = await self._record(conn, tenant_id, user_id, lock=True)
            merged = {**current.user.custom_data, **patch}
            user = await self._updated(conn, tenant_id, user_id, {"custom_data": merged}, actor)
        return user.custom_data

    async def merge_profile(
        self, tenant_id: str, user_id: str, patch: dict[str, Any], actor: Actor | None
    ) -> dict[str, Any]:
        async with self.engine.begin() as conn:
            current = await self._record(conn, tenant_id, user_id, lock=True)
            merged = {**current.user.profile, **patch}
            user = await self._updated(conn, tenant_id, user_id, {"profile": merged}, actor)
        return user.profile

    async def set_password(self, tenant_id: str, user_id: str, password: str, actor: Actor | None) -> User:
        digest, method = await self.passwords.hash(password)
        async with self.engine.begin() as conn:
            await self._record(conn, tenant_id, user_id, lock=True)
            values = {"password_encrypted": digest, "password_encryption_method": method, "password_expired": False}
            return await self._updated(conn, tenant_id, user_id, values, actor, changed=["password"])

    async def check_new_password(self, tenant_id: str, user_id: str, password: str) -> None:
        """Logto's same-password rule of a reset: 422 `user.same_password` when `password` matches the user's
        argon2 digest (what Gatehouse and Logto write; an imported digest of another algorithm allows it, as in
        Logto). The digest is checked in a worker thread, never on the event loop."""
        async with self.engine.connect() as conn:
            record = await self._record(conn, tenant_id, user_id)
        digest, method = record.password_encrypted, record.password_encryption_method
        if digest and method in ARGON2_ALGORITHMS and await self.passwords.verify(method, digest, password):
            raise Unprocessable("user.same_password")

    async def verify_password(self, tenant_id: str, user_id: str, password: str) -> None:
        """422 unless `password` matches; a match stored otherwise than as current argon2id is re-hashed."""
        async with self.engine.connect() as conn:
            record = await self._record(conn, tenant_id, user_id)
        digest, method = record.password_encrypted, record.password_encryption_method
        if not digest or not method:
            raise _invalid_credentials()
        if not await self.passwords.verify(method, digest, password):
            raise _invalid_credentials()
        if self.passwords.needs_upgrade(method, digest):
            new_digest, new_method = await self.passwords.hash(password)
            async with self.engine.begin() as conn:
                await self.store.replace_digest(conn, tenant_id, user_id, digest, new_digest, new_method)

    async def set_password_expired(self, tenant_id: str, user_id: str, expired: bool, actor: Actor | None) -> User:
        async with self.engine.begin() as conn:
            await self._record(conn, tenant_id, user_id, lock=True)
            return await self._updated(conn, tenant_id, user_id, {"password_expired": expired}, actor)

    async def set_suspended(self, tenant_id: str, user_id: str, suspended: bool, actor: Actor | None) -> User:
        async with self.engine.begin() as conn:
            await self._record(conn, tenant_id, user_id, lock=True)
            user = await self.store.update(conn, tenant_id, user_id, {"is_suspended": suspended})
            if suspended:  # sessions, grants and their tokens and codes end with the suspension
                await revoke_account(conn, tenant_id, user_id)
            await self.outbox.append(conn, UserSuspensionStatusUpdated(data=user), tenant_id=tenant_id, actor=actor)
        return user

    async def update_logto_configs(
        self, tenant_id: str, user_id: str, patch: LogtoConfigPatch, actor: Actor | None
    ) -> dict[str, Any]:
        sections: dict[str, Any] = {}
        if patch.mfa is not UNSET:
            sections["mfa"] = msgspec.to_builtins(patch.mfa)
        if patch.passkey_sign_in is not UNSET:
            sections["passkeySignIn"] = msgspec.to_builtins(patch.passkey_sign_in)
        async with self.engine.begin() as conn:
            current = await self._record(conn, tenant_id, user_id, lock=True)
            config = current.logto_config
            if any(sections.values()):
                config = merge_logto_config(config, {k: v for k, v in sections.items() if v})
                await self._updated(conn, tenant_id, user_id, {"logto_config": config}, actor)
        return exposed_logto_config(config)


def _update_values(body: UpdateUser) -> dict[str, Any]:
    """The columns a `PATCH /api/users/{id}` body sets, its identifiers and avatar checked."""
    values: dict[str, Any] = {}
    for field in ("username", "primary_email", "primary_phone"):
        value = getattr(body, field)
        if value is not UNSET:
            values[field] = _blank_to_none(value)
    check_identifiers(values.get("username"), values.get("primary_email"), values.get("primary_phone"))
    if body.name is not UNSET:
        values["name"] = body.name
    if body.avatar is not UNSET:
        if body.avatar:
            check_avatar(body.avatar)
        values["avatar"] = body.avatar
    if body.custom_data is not UNSET:
        values["custom_data"] = body.custom_data
    if body.profile is not UNSET:
        values["profile"] = msgspec.to_builtins(body.profile)
    return values


def _check_legacy(digest: str) -> None:
    try:
        parse_legacy(digest)
    except UnsupportedLegacyAlgorithm as exc:
        raise BadRequest("password.unsupported_legacy_hash_algorithm", algorithm=exc.algorithm) from None
    except InvalidLegacyDigest:
        raise BadRequest("password.invalid_legacy_password_format") from None
