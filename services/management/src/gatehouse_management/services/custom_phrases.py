"""Use cases of custom phrases (Logto's `routes/custom-phrase.ts`): one translation per language tag.

Logto also refuses (422 `localization.invalid_translation_structure`) a key that is not one of its English
sign-in phrases; that key list is Logto's UI bundle, which Gatehouse does not ship, so only the shape is checked
here: nested objects whose leaves are strings."""

from typing import Any

from gatehouse_platform.errors import BadRequest, GatehouseError, NotFound
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.events import Actor, CustomPhraseUpdated
from gatehouse_schema.ids import generate_id
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_management.api.custom_phrase_bodies import CustomPhrase
from gatehouse_management.domain.languages import LANGUAGE_TAGS
from gatehouse_management.persistence.custom_phrases import CustomPhraseStore
from gatehouse_management.persistence.sign_in_experience import SignInExperienceStore


def check_language_tag(language_tag: str) -> None:
    if language_tag not in LANGUAGE_TAGS:
        raise BadRequest("guard.invalid_input", f"The request path is invalid: unknown language tag `{language_tag}`.")


def is_translation(value: Any) -> bool:
    """Logto's `translationGuard`: an object of strings and of such objects."""
    return isinstance(value, dict) and all(isinstance(v, str) or is_translation(v) for v in value.values())


def clean(translation: dict[str, Any]) -> dict[str, Any]:
    """`clean-deep` as Logto applies it: empty strings and the objects left empty are dropped."""
    out: dict[str, Any] = {}
    for key, value in translation.items():
        if isinstance(value, dict):
            value = clean(value)
        if value not in ("", {}):
            out[key] = value
    return out


def _to_phrase(row: Any) -> CustomPhrase:
    return CustomPhrase(tenant_id=row.tenant_id, id=row.id, language_tag=row.language_tag, translation=row.translation)


class CustomPhraseService:
    def __init__(
        self, engine: AsyncEngine, phrases: CustomPhraseStore, experiences: SignInExperienceStore, outbox: Outbox
    ) -> None:
        self.engine = engine
        self.phrases = phrases
        self.experiences = experiences
        self.outbox = outbox

    async def list(self, tenant_id: str) -> list[CustomPhrase]:
        async with self.engine.connect() as conn:
            return [_to_phrase(row) for row in await self.phrases.list(conn, tenant_id)]

    async def get(self, tenant_id: str, language_tag: str) -> CustomPhrase:
        check_language_tag(language_tag)
        async with self.engine.connect() as conn:
            row = await self.phrases.get(conn, tenant_id, language_tag)
        if row is None:
            raise NotFound("entity.not_found")
        return _to_phrase(row)

    async def replace(self, tenant_id: str, language_tag: str, translation: Any, actor: Actor | None) -> CustomPhrase:
        check_language_tag(language_tag)
        if not is_translation(translation):
            raise BadRequest("guard.invalid_input", "The request body is invalid: a translation maps keys to strings.")
        async with self.engine.begin() as conn:
            row = await self.phrases.upsert(conn, tenant_id, language_tag, generate_id(), clean(translation))
            event = CustomPhraseUpdated(language_tag=language_tag)
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
        return _to_phrase(row)

    async def delete(self, tenant_id: str, language_tag: str, actor: Actor | None) -> None:
        check_language_tag(language_tag)
        async with self.engine.begin() as conn:
            # the sign-in experience's row lock: a concurrent PATCH cannot make this language the fallback meanwhile
            settings = await self.experiences.get(conn, tenant_id, lock=True)
            fallback = ((settings or {}).get("languageInfo") or {}).get("fallbackLanguage")
            if fallback == language_tag:
                raise GatehouseError(
                    "localization.cannot_delete_default_language", status=409, languageTag=language_tag
                )
            if not await self.phrases.delete(conn, tenant_id, language_tag):
                raise NotFound("entity.not_found")
            event = CustomPhraseUpdated(language_tag=language_tag, deleted=True)
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
