"""Organization use cases. Each command is one transaction with its event."""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec
from gatehouse_platform.errors import BadRequest, NotFound
from gatehouse_platform.outbox import Outbox
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organizations import (
    Organization,
    OrganizationBranding,
    OrganizationWithFeatured,
    OrganizationWithRoles,
)
from gatehouse_schema.events import Actor, OrganizationCreated, OrganizationDataUpdated, OrganizationDeleted
from gatehouse_schema.ids import generate_id
from gatehouse_schema.queries import identity as identity_reads
from gatehouse_schema.queries import management as management_reads
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_organizations.api.organizations_bodies import CreateOrganization, UpdateOrganization
from gatehouse_organizations.persistence.organizations import OrganizationStore, fields_of

ID_LENGTH = 12  # Logto's organization ids are 12 characters
MAX_EPOCH_MS = 253402300799999  # 9999-12-31T23:59:59.999Z


def check_branding(branding: OrganizationBranding) -> None:
    """Logto's branding fields are URLs (zod's `.url()`): a scheme and something after it."""
    for field in OrganizationBranding.__struct_fields__:
        value = getattr(branding, field)
        if value is UNSET:
            continue
        parts = urlsplit(value)
        if not parts.scheme or not (parts.netloc or parts.path):
            raise BadRequest("guard.invalid_input", "The request body is invalid: branding URLs must be URLs.")


def timestamp(epoch_ms: float) -> datetime:
    if not 0 <= epoch_ms <= MAX_EPOCH_MS:
        raise BadRequest("guard.invalid_input", "The request body is invalid: `createdAt` is out of range.")
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


async def find_organization(
    store: OrganizationStore, conn: AsyncConnection, tenant_id: str, organization_id: str, *, lock: bool = False
) -> Organization:
    organization = await store.get(conn, tenant_id, organization_id, lock=lock)
    if organization is None:
        raise NotFound("entity.not_exists_with_id", name="organization", id=organization_id)
    return organization


class OrganizationService:
    def __init__(self, engine: AsyncEngine, store: OrganizationStore, outbox: Outbox) -> None:
        self.engine = engine
        self.store = store
        self.outbox = outbox

    async def create(self, tenant_id: str, body: CreateOrganization, actor: Actor | None) -> Organization:
        check_branding(body.branding)
        values: dict[str, Any] = {
            "tenant_id": tenant_id,
            "id": generate_id(ID_LENGTH),
            "name": body.name,
            "description": body.description,
            "custom_data": body.custom_data,
            "is_mfa_required": body.is_mfa_required,
            "color": msgspec.to_builtins(body.color),
            "branding": msgspec.to_builtins(body.branding),
            "custom_css": body.custom_css,
        }
        if body.created_at is not UNSET:
            values["created_at"] = timestamp(body.created_at)
        async with self.engine.begin() as conn:
            organization = await self.store.insert(conn, values)
            await self.outbox.append(conn, OrganizationCreated(data=organization), tenant_id=tenant_id, actor=actor)
        return organization

    async def get(self, tenant_id: str, organization_id: str) -> Organization:
        async with self.engine.connect() as conn:
            return await find_organization(self.store, conn, tenant_id, organization_id)

    async def search(
        self, tenant_id: str, term: str | None, page: Page, *, featured: bool
    ) -> tuple[int, list[OrganizationWithFeatured]]:
        async with self.engine.connect() as conn:
            total, found = await self.store.search(conn, tenant_id, term, page)
            if not featured:
                return total, [OrganizationWithFeatured(**fields_of(o)) for o in found]
            counts, users = await self.store.featured(conn, tenant_id, [o.id for o in found])
        return total, [
            OrganizationWithFeatured(
                **fields_of(o), users_count=counts.get(o.id, 0), featured_users=users.get(o.id, [])
            )
            for o in found
        ]

    async def update(
        self, tenant_id: str, organization_id: str, body: UpdateOrganization, actor: Actor | None
    ) -> Organization:
        values: dict[str, Any] = {}
        for field in ("name", "description", "custom_data", "is_mfa_required", "custom_css"):
            value = getattr(body, field)
            if value is not UNSET:
                values[field] = value
        if body.color is not UNSET:
            values["color"] = msgspec.to_builtins(body.color)
        if body.branding is not UNSET:
            check_branding(body.branding)
            values["branding"] = msgspec.to_builtins(body.branding)
        if body.created_at is not UNSET:
            values["created_at"] = timestamp(body.created_at)
        async with self.engine.begin() as conn:
            current = await find_organization(self.store, conn, tenant_id, organization_id, lock=True)
            if not values:
                return current
            organization = await self.store.update(conn, tenant_id, organization_id, values)
            if organization != current:
                event = OrganizationDataUpdated(data=organization)
                await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
        return organization

    async def delete(self, tenant_id: str, organization_id: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            organization = await find_organization(self.store, conn, tenant_id, organization_id, lock=True)
            await self.store.delete(conn, tenant_id, organization_id)
            await self.outbox.append(conn, OrganizationDeleted(data=organization), tenant_id=tenant_id, actor=actor)

    async def of_user(self, tenant_id: str, user_id: str) -> list[OrganizationWithRoles]:
        async with self.engine.connect() as conn:
            if not await identity_reads.existing_user_ids(conn, tenant_id, [user_id]):
                raise NotFound("entity.not_exists_with_id", name="user", id=user_id)
            return await self.store.of_user(conn, tenant_id, user_id)

    async def of_application(
        self, tenant_id: str, application_id: str, page: Page | None
    ) -> tuple[int, list[OrganizationWithRoles]]:
        async with self.engine.connect() as conn:
            if not await management_reads.application_types(conn, tenant_id, [application_id]):
                raise NotFound("entity.not_exists_with_id", name="application", id=application_id)
            return await self.store.of_application(conn, tenant_id, application_id, page)
