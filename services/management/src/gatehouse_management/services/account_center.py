"""Use cases of the tenant's account center (Logto's `routes/account-center`): read its settings (Logto's seeded
defaults until the first write) and update them, one transaction per update. Logto has no hook event for it."""

from typing import Any
from urllib.parse import urlsplit

import msgspec
from gatehouse_platform.errors import BadRequest
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_management.api.account_center_bodies import AccountCenter, FieldControls, UpdateAccountCenter
from gatehouse_management.persistence.account_center import AccountCenterStore
from gatehouse_management.persistence.custom_profile_fields import CustomProfileFieldStore
from gatehouse_management.services.custom_profile_fields import check_profile_field_list


def default_account_center(tenant_id: str) -> AccountCenter:
    """Logto's `createDefaultAccountCenter(tenantId)` with its table's column defaults: the Account API off, every
    field `Off` (absent), no related origins, no deletion URL, no custom CSS, no profile fields list."""
    return AccountCenter(
        tenant_id=tenant_id,
        id="default",
        enabled=False,
        fields=FieldControls(),
        webauthn_related_origins=[],
        delete_account_url=None,
        custom_css=None,
        profile_fields=None,
    )


def _to_account_center(row: Any) -> AccountCenter:
    return msgspec.convert(
        {
            "tenantId": row.tenant_id,
            "id": row.id,
            "enabled": row.enabled,
            "fields": row.fields,
            "webauthnRelatedOrigins": row.webauthn_related_origins,
            "deleteAccountUrl": row.delete_account_url,
            "customCss": row.custom_css,
            "profileFields": row.profile_fields,
        },
        AccountCenter,
    )


def check_delete_account_url(url: str) -> None:
    """Logto's `deleteAccountUrlGuard`: empty, or an absolute http(s) URL."""
    if url == "":
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not url.startswith(f"{parts.scheme}://"):
        raise BadRequest(
            "guard.invalid_input", "The request body is invalid: deleteAccountUrl must be a valid http(s) URL"
        )


def _changes(body: UpdateAccountCenter) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if body.enabled is not UNSET:
        values["enabled"] = body.enabled
    if body.fields is not UNSET:
        values["fields"] = msgspec.to_builtins(body.fields)
    if body.webauthn_related_origins is not UNSET:
        values["webauthn_related_origins"] = list(dict.fromkeys(body.webauthn_related_origins))
    if body.delete_account_url is not UNSET:
        values["delete_account_url"] = body.delete_account_url or None  # '' clears it, as Logto
    if body.custom_css is not UNSET:
        values["custom_css"] = body.custom_css
    if body.profile_fields is not UNSET:
        values["profile_fields"] = msgspec.to_builtins(body.profile_fields)
    return values


class AccountCenterService:
    def __init__(self, engine: AsyncEngine, store: AccountCenterStore, fields: CustomProfileFieldStore) -> None:
        self.engine = engine
        self.store = store
        self.fields = fields

    async def get(self, tenant_id: str) -> AccountCenter:
        async with self.engine.connect() as conn:
            row = await self.store.get(conn, tenant_id)
        return default_account_center(tenant_id) if row is None else _to_account_center(row)

    async def update(self, tenant_id: str, body: UpdateAccountCenter) -> AccountCenter:
        if isinstance(body.delete_account_url, str):
            check_delete_account_url(body.delete_account_url)
        async with self.engine.begin() as conn:
            row = await self.store.lock(conn, tenant_id)
            if body.profile_fields:
                await check_profile_field_list(conn, self.fields, tenant_id, [f.name for f in body.profile_fields])
            changes = _changes(body)
            if changes:
                row = await self.store.update(conn, tenant_id, changes)
        return _to_account_center(row)
