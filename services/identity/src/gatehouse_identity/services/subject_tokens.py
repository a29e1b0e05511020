"""Subject tokens (`POST /api/subject-tokens`): an application asks to act as a user; the token is
stored single-use for 600 s and consumed by the token-exchange grant."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gatehouse_platform.errors import NotFound
from gatehouse_schema.ids import generate_id
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.persistence.integrity import FOREIGN_KEY_VIOLATION, sqlstate
from gatehouse_identity.persistence.subject_tokens import SubjectToken, SubjectTokenStore

PREFIX = "sub_"
EXPIRES_IN = 600  # seconds, Logto's `subjectTokenExpiresIn`


def new_subject_token_id() -> str:
    return PREFIX + generate_id()


@dataclass(frozen=True)
class IssuedSubjectToken:
    subject_token: str
    expires_in: int


class SubjectTokenService:
    def __init__(
        self, engine: AsyncEngine, store: SubjectTokenStore, new_id: Callable[[], str] = new_subject_token_id
    ) -> None:
        self.engine = engine
        self.store = store
        self.new_id = new_id

    async def create(
        self, tenant_id: str, user_id: str, context: dict[str, Any], creator_id: str | None
    ) -> IssuedSubjectToken:
        token_id = self.new_id()
        expires_at = datetime.now(UTC) + timedelta(seconds=EXPIRES_IN)
        try:
            async with self.engine.begin() as conn:
                await self.store.insert(conn, tenant_id, token_id, user_id, context, creator_id, expires_at)
        except IntegrityError as exc:
            if sqlstate(exc) == FOREIGN_KEY_VIOLATION:  # no such user
                raise NotFound("entity.relation_foreign_key_not_found") from None
            raise
        return IssuedSubjectToken(token_id, EXPIRES_IN)

    async def consume(self, tenant_id: str, token_id: str) -> SubjectToken | None:
        """For the token-exchange grant: the token's user and context, once; `None` if unusable."""
        async with self.engine.begin() as conn:
            return await self.store.consume(conn, tenant_id, token_id)
