"""Use cases of the tenant's captcha provider (Logto's `routes/captcha-provider`): stored and validated only.
Gatehouse calls no captcha service, so the sign-in flow does not ask for or check a captcha token yet.
Logto has no hook event for it."""

from typing import Any

import msgspec
from gatehouse_platform.errors import NotFound
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.events import Actor, SignInExperienceUpdated
from gatehouse_schema.ids import generate_id
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_management.api.captcha_provider_bodies import CaptchaConfig, CaptchaProvider
from gatehouse_management.persistence.captcha_provider import CaptchaProviderStore
from gatehouse_management.persistence.rows import epoch_ms
from gatehouse_management.persistence.sign_in_experience import SignInExperienceStore


def _to_provider(row: Any) -> CaptchaProvider:
    return CaptchaProvider(
        tenant_id=row.tenant_id,
        id=row.id,
        config=msgspec.convert(row.config, CaptchaConfig),
        created_at=epoch_ms(row.created_at) or 0,
        updated_at=epoch_ms(row.updated_at) or 0,
    )


class CaptchaProviderService:
    def __init__(
        self, engine: AsyncEngine, store: CaptchaProviderStore, experiences: SignInExperienceStore, outbox: Outbox
    ) -> None:
        self.engine = engine
        self.store = store
        self.experiences = experiences
        self.outbox = outbox

    async def get(self, tenant_id: str) -> CaptchaProvider:
        async with self.engine.connect() as conn:
            row = await self.store.get(conn, tenant_id)
        if row is None:
            raise NotFound("entity.not_found")
        return _to_provider(row)

    async def put(self, tenant_id: str, config: CaptchaConfig) -> CaptchaProvider:
        async with self.engine.begin() as conn:
            row = await self.store.upsert(conn, tenant_id, generate_id(), msgspec.to_builtins(config))
        return _to_provider(row)

    async def delete(self, tenant_id: str, actor: Actor | None) -> None:
        """Deletes the provider if there is one (204 either way, as Logto) and turns the sign-in experience's
        `captchaPolicy` off, in one transaction."""
        async with self.engine.begin() as conn:
            await self.store.delete(conn, tenant_id)
            if await self.experiences.get(conn, tenant_id, lock=True) is not None:
                await self.experiences.replace_fields(conn, tenant_id, {"captchaPolicy": {"enabled": False}})
                event = SignInExperienceUpdated(changed=["captchaPolicy"])
                await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
