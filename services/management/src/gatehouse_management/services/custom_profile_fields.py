"""Use cases of custom profile fields (Logto's `routes/custom-profile-fields.ts` and
`libraries/custom-profile-fields`): the tenant's catalog of extra profile fields, its order in the sign-in
experience (`sieOrder`), and the lists that name them (the sign-in experience's `signUpProfileFields`, the
account center's `profileFields`), which lose a field when it is deleted. Logto has no hook event for them."""

from typing import Any

import msgspec
from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.events import Actor, SignInExperienceUpdated
from gatehouse_schema.ids import generate_id
from msgspec import UNSET
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.api.custom_profile_field_bodies import (
    CustomProfileField,
    FieldData,
    NewField,
    SieOrderItem,
)
from gatehouse_management.domain import custom_profile_fields as rules
from gatehouse_management.persistence.account_center import AccountCenterStore
from gatehouse_management.persistence.custom_profile_fields import CustomProfileFieldStore
from gatehouse_management.persistence.rows import epoch_ms
from gatehouse_management.persistence.sign_in_experience import SignInExperienceStore


async def check_profile_field_list(
    conn: AsyncConnection, store: CustomProfileFieldStore, tenant_id: str, names: list[str]
) -> None:
    """Logto's `validateProfileFieldsList`: every name is in the catalog, and none is given twice."""
    if not names:
        return
    unique = list(dict.fromkeys(names))
    existing = await store.existing_names(conn, tenant_id, unique)
    missing = [name for name in unique if name not in existing]
    if missing:
        raise BadRequest("custom_profile_fields.entity_not_exists_with_names", names=", ".join(missing))
    duplicates = [name for name in unique if names.count(name) > 1]
    if duplicates:
        details = f"Duplicate profile field names: {', '.join(duplicates)}"
        raise BadRequest("request.invalid_input", data={"duplicateNames": duplicates}, details=details)


def _to_field(row: Any) -> CustomProfileField:
    return CustomProfileField(
        tenant_id=row.tenant_id,
        id=row.id,
        name=row.name,
        type=row.type,
        label=row.label,
        description=row.description,
        required=row.required,
        config=row.config,
        created_at=epoch_ms(row.created_at) or 0,
        sie_order=row.sie_order,
    )


def _columns(data: FieldData) -> dict[str, Any]:
    """The columns a field's data sets; absent keys keep their value (or the column default on creation)."""
    values: dict[str, Any] = {"type": type(data).__struct_config__.tag, "required": data.required}
    if data.label is not UNSET:
        values["label"] = data.label
    description = getattr(data, "description", UNSET)
    if description is not UNSET:
        values["description"] = description
    if data.config is not UNSET:
        values["config"] = msgspec.to_builtins(data.config)
    return values


def _without(names: Any, name: str) -> list[Any] | None:
    """The list without `name`, or None when it does not name it (nothing to write)."""
    if not isinstance(names, list):
        return None
    kept = [item for item in names if not (isinstance(item, dict) and item.get("name") == name)]
    return kept if len(kept) != len(names) else None


class CustomProfileFieldService:
    def __init__(
        self,
        engine: AsyncEngine,
        store: CustomProfileFieldStore,
        experiences: SignInExperienceStore,
        account_centers: AccountCenterStore,
        outbox: Outbox,
    ) -> None:
        self.engine = engine
        self.store = store
        self.experiences = experiences
        self.account_centers = account_centers
        self.outbox = outbox

    async def catalog(self, tenant_id: str) -> list[CustomProfileField]:
        async with self.engine.connect() as conn:
            return [_to_field(row) for row in await self.store.catalog(conn, tenant_id)]

    async def get(self, tenant_id: str, name: str) -> CustomProfileField:
        async with self.engine.connect() as conn:
            row = await self.store.get(conn, tenant_id, name)
        if row is None:
            raise NotFound("entity.not_found")
        return _to_field(row)

    async def create(self, tenant_id: str, fields: list[NewField]) -> list[CustomProfileField]:
        for field in fields:
            rules.validate(field.name, field)
        rows = [{**_columns(field), "id": generate_id(), "name": field.name} for field in fields]
        try:
            async with self.engine.begin() as conn:
                inserted = await self.store.insert(conn, tenant_id, rows)
        except IntegrityError as error:  # a name the tenant already has (or given twice in a batch)
            raise Unprocessable("entity.unique_integrity_violation") from error
        return [_to_field(row) for row in inserted]

    async def update(self, tenant_id: str, name: str, data: FieldData) -> CustomProfileField:
        rules.validate(name, data, strict=True)
        async with self.engine.begin() as conn:
            row = await self.store.update(conn, tenant_id, name, _columns(data))
        if row is None:
            raise NotFound("entity.not_exists", name="custom_profile_field")
        return _to_field(row)

    async def set_sie_order(self, tenant_id: str, order: list[SieOrderItem]) -> list[CustomProfileField]:
        orders = {item.name: rules.sie_order(item.sie_order) for item in order}
        async with self.engine.begin() as conn:
            await check_profile_field_list(conn, self.store, tenant_id, [item.name for item in order])
            rows = await self.store.set_sie_orders(conn, tenant_id, orders) if orders else []
        return [_to_field(row) for row in rows]

    async def delete(self, tenant_id: str, name: str, actor: Actor | None) -> None:
        """Deletes the field and removes it from the lists that name it (a name that is not in the catalog is
        nothing to delete: 204, as Logto)."""
        async with self.engine.begin() as conn:
            settings = await self.experiences.get(conn, tenant_id, lock=True)
            sign_up = _without((settings or {}).get("signUpProfileFields"), name)
            if settings is not None and sign_up is not None:
                await self.experiences.replace_fields(conn, tenant_id, {"signUpProfileFields": sign_up})
                event = SignInExperienceUpdated(changed=["signUpProfileFields"])
                await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
            account_center = await self.account_centers.lock(conn, tenant_id)
            profile_fields = _without(account_center.profile_fields, name)
            if profile_fields is not None:
                await self.account_centers.update(conn, tenant_id, {"profile_fields": profile_fields})
            await self.store.delete(conn, tenant_id, name)
