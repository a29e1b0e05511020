"""Personal access tokens of a user: `pat_` + 32 random letters and digits, unique name per user,
optional expiry in the future. As in Logto, the value is returned by every read, not only at creation."""

from collections.abc import Callable
from datetime import UTC, datetime

from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_schema.ids import generate_secret
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.persistence.integrity import FOREIGN_KEY_VIOLATION, constraint, sqlstate
from gatehouse_identity.persistence.personal_access_tokens import (
    NAME_CONSTRAINT,
    PersonalAccessToken,
    PersonalAccessTokenStore,
)
from gatehouse_identity.persistence.users import UserStore
from gatehouse_identity.services.user_records import user_record

PREFIX = "pat_"


def new_token_value() -> str:
    return PREFIX + generate_secret()


def _integrity(exc: IntegrityError) -> Exception:
    if constraint(exc) == NAME_CONSTRAINT:
        return Unprocessable("user.personal_access_token_name_exists")
    if sqlstate(exc) == FOREIGN_KEY_VIOLATION:
        return NotFound("entity.relation_foreign_key_not_found")
    return exc


class PersonalAccessTokenService:
    def __init__(
        self,
        engine: AsyncEngine,
        store: PersonalAccessTokenStore,
        users: UserStore,
        new_value: Callable[[], str] = new_token_value,
    ) -> None:
        self.engine = engine
        self.store = store
        self.users = users
        self.new_value = new_value

    async def of_user(self, tenant_id: str, user_id: str) -> list[PersonalAccessToken]:
        async with self.engine.connect() as conn:
            await user_record(self.users, conn, tenant_id, user_id)
            return await self.store.of_user(conn, tenant_id, user_id)

    async def create(self, tenant_id: str, user_id: str, name: str, expires_at_ms: float | None) -> PersonalAccessToken:
        expires_at = None
        if expires_at_ms:  # null (and 0, which Logto's check lets through too) means no expiry
            try:
                expires_at = datetime.fromtimestamp(expires_at_ms / 1000, UTC)
            except (OverflowError, ValueError, OSError):
                raise BadRequest("request.invalid_input", details="`expiresAt` is out of range.") from None
            if expires_at <= datetime.now(UTC):
                raise BadRequest("request.invalid_input", details="The value of `expiresAt` must be in the future.")
        try:
            async with self.engine.begin() as conn:
                return await self.store.insert(conn, tenant_id, user_id, name, self.new_value(), expires_at)
        except IntegrityError as exc:
            raise _integrity(exc) from None

    async def rename(self, tenant_id: str, user_id: str, name: str, new_name: str) -> PersonalAccessToken:
        try:
            async with self.engine.begin() as conn:
                token = await self.store.rename(conn, tenant_id, user_id, name, new_name)
        except IntegrityError as exc:
            raise _integrity(exc) from None
        if token is None:
            raise NotFound("entity.not_exists", name="personal_access_token")
        return token

    async def delete(self, tenant_id: str, user_id: str, name: str) -> None:
        async with self.engine.begin() as conn:
            if not await self.store.delete(conn, tenant_id, user_id, name):
                raise NotFound("entity.not_found")
