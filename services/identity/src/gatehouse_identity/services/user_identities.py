"""Users' social identities (link, replace, unlink, read) and enterprise SSO identities (read).
Linking through a connector's round trip is `services/social_links.py`."""

from typing import Any

from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.api.users import User
from gatehouse_schema.events import Actor
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.persistence.user_identities import SsoIdentity, UserIdentityStore
from gatehouse_identity.persistence.users import UserStore
from gatehouse_identity.services.user_records import update_user_data, user_record


def _not_linked() -> NotFound:
    return NotFound("user.identity_not_exist")


class UserIdentityService:
    def __init__(self, engine: AsyncEngine, users: UserStore, identities: UserIdentityStore, outbox: Outbox) -> None:
        self.engine = engine
        self.users = users
        self.identities = identities
        self.outbox = outbox

    async def link(
        self, tenant_id: str, user_id: str, target: str, identity: dict[str, Any], actor: Actor | None
    ) -> tuple[bool, dict[str, Any]]:
        """Sets the user's identity at `target`; True when it is new there. 422 if another user has it."""
        async with self.engine.begin() as conn:
            return await self.link_in(conn, tenant_id, user_id, target, identity, actor)

    async def link_in(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        user_id: str,
        target: str,
        identity: dict[str, Any],
        actor: Actor | None,
    ) -> tuple[bool, dict[str, Any]]:
        """`link` in the caller's transaction."""
        record = await user_record(self.users, conn, tenant_id, user_id, lock=True)
        await self.identities.lock_social_identity(conn, tenant_id, target, identity["userId"])
        if await self.identities.social_identity_owner(conn, tenant_id, target, identity["userId"], user_id):
            raise Unprocessable("user.identity_already_in_use")
        created = target not in record.user.identities
        identities = {**record.user.identities, target: identity}
        user = await update_user_data(
            self.users, self.outbox, conn, tenant_id, user_id, {"identities": identities}, ["identities"], actor
        )
        return created, user.identities

    async def unlink(
        self, tenant_id: str, user_id: str, target: str, actor: Actor | None, *, keep_an_identifier: bool = False
    ) -> User:
        """With `keep_an_identifier` (the Account API's unlink, Logto's `assertCanDeleteSocialIdentity`), 400
        `user.last_sign_in_method_required` when the user would have no identifier left."""
        async with self.engine.begin() as conn:
            record = await user_record(self.users, conn, tenant_id, user_id, lock=True)
            if target not in record.user.identities:
                raise _not_linked()
            identities = {k: v for k, v in record.user.identities.items() if k != target}
            if keep_an_identifier and not await self._has_identifier(conn, tenant_id, record.user, identities):
                raise BadRequest("user.last_sign_in_method_required")
            return await update_user_data(
                self.users, self.outbox, conn, tenant_id, user_id, {"identities": identities}, ["identities"], actor
            )

    async def _has_identifier(
        self, conn: AsyncConnection, tenant_id: str, user: User, identities: dict[str, Any]
    ) -> bool:
        """Logto's `getUserIdentifierCount(...) > 0` with the social identities left."""
        if user.username or user.primary_email or user.primary_phone or identities:
            return True
        return bool(await self.identities.sso_identities(conn, tenant_id, user.id))

    async def social_identity(self, tenant_id: str, user_id: str, target: str) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            record = await user_record(self.users, conn, tenant_id, user_id)
        identity = record.user.identities.get(target)
        if identity is None:
            raise _not_linked()
        return dict(identity)

    async def all_identities(self, tenant_id: str, user_id: str) -> tuple[dict[str, Any], list[SsoIdentity]]:
        async with self.engine.connect() as conn:
            record = await user_record(self.users, conn, tenant_id, user_id)
            sso = await self.identities.sso_identities(conn, tenant_id, user_id)
        return record.user.identities, sso

    async def sso_identities(self, tenant_id: str, user_id: str) -> list[SsoIdentity]:
        async with self.engine.connect() as conn:
            return await self.identities.sso_identities(conn, tenant_id, user_id)

    async def sso_identity(self, tenant_id: str, user_id: str, connector_id: str) -> SsoIdentity:
        async with self.engine.connect() as conn:
            await user_record(self.users, conn, tenant_id, user_id)
            found = await self.identities.sso_identities(conn, tenant_id, user_id, connector_id)
        if not found:
            raise NotFound("user.enterprise_sso_identity_not_exists", ssoConnectorId=connector_id)
        return found[0]
