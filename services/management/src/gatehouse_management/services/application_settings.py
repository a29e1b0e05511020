"""Per-application settings: custom data, the application-level sign-in experience, app-level access
control and (for Protected apps, which this deployment cannot host) custom domains."""

from typing import Any
from urllib.parse import urlsplit

import msgspec
from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.api.applications import Application
from gatehouse_schema.events import Actor, ApplicationDataUpdated
from gatehouse_schema.queries.identity import existing_user_ids
from gatehouse_schema.queries.organizations import existing_organization_ids, existing_organization_role_ids
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.api.application_settings_bodies import (
    EMPTY_ACCESS_CONTROL,
    AccessControl,
    ApplicationSignInExperience,
    ReplaceSignInExperience,
)
from gatehouse_management.persistence.application_settings import ApplicationSettingsStore
from gatehouse_management.persistence.applications import ApplicationStore
from gatehouse_management.persistence.roles import RoleStore


def _check_url(value: str | None, field: str) -> str | None:
    if value is None or value == "":
        return value or None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise BadRequest("guard.invalid_input", f"The request body is invalid: `{field}` must be a URL.")
    return value


def _missing(wanted: list[str], found: set[str], name: str) -> None:
    for item in wanted:
        if item not in found:
            raise NotFound("entity.not_exists_with_id", name=name, id=item)


def _to_experience(row: Any) -> ApplicationSignInExperience:
    return ApplicationSignInExperience(
        tenant_id=row.tenant_id,
        application_id=row.application_id,
        color=row.color,
        branding=row.branding,
        custom_css=row.custom_css,
        terms_of_use_url=row.terms_of_use_url,
        privacy_policy_url=row.privacy_policy_url,
        display_name=row.display_name,
    )


class ApplicationSettingsService:
    def __init__(
        self,
        engine: AsyncEngine,
        applications: ApplicationStore,
        settings: ApplicationSettingsStore,
        roles: RoleStore,
        outbox: Outbox,
    ) -> None:
        self.engine = engine
        self.applications = applications
        self.settings = settings
        self.roles = roles
        self.outbox = outbox

    async def _app(self, conn: AsyncConnection, tenant_id: str, app_id: str, *, lock: bool = False) -> Application:
        app = await self.applications.get(conn, tenant_id, app_id, lock=lock)
        if app is None:
            raise NotFound("entity.not_exists_with_id", name="application", id=app_id)
        return app

    async def update_custom_data(
        self, tenant_id: str, app_id: str, patch: dict[str, Any], actor: Actor | None
    ) -> dict[str, Any]:
        async with self.engine.begin() as conn:
            await self._app(conn, tenant_id, app_id, lock=True)
            merged = await self.settings.merge_custom_data(conn, tenant_id, app_id, patch)
            assert merged is not None
            app = await self._app(conn, tenant_id, app_id)
            await self.outbox.append(
                conn, ApplicationDataUpdated(data=app, changed=["customData"]), tenant_id=tenant_id, actor=actor
            )
        return merged

    async def sign_in_experience(self, tenant_id: str, app_id: str) -> ApplicationSignInExperience:
        async with self.engine.connect() as conn:
            await self._app(conn, tenant_id, app_id)
            row = await self.settings.sign_in_experience(conn, tenant_id, app_id)
        if row is None:
            raise NotFound("entity.not_exists", name="application sign-in experience")
        return _to_experience(row)

    async def replace_sign_in_experience(
        self, tenant_id: str, app_id: str, body: ReplaceSignInExperience, actor: Actor | None
    ) -> tuple[ApplicationSignInExperience, bool]:
        """Returns the stored settings and whether they were created (201) rather than replaced (200)."""
        values = {
            "tenant_id": tenant_id,
            "application_id": app_id,
            "color": msgspec.to_builtins(body.color),
            "branding": msgspec.to_builtins(body.branding),
            "custom_css": body.custom_css,
            "display_name": body.display_name,
            "terms_of_use_url": _check_url(body.terms_of_use_url, "termsOfUseUrl"),
            "privacy_policy_url": _check_url(body.privacy_policy_url, "privacyPolicyUrl"),
        }
        async with self.engine.begin() as conn:
            app = await self._app(conn, tenant_id, app_id, lock=True)
            created = await self.settings.sign_in_experience(conn, tenant_id, app_id) is None
            row = await self.settings.upsert_sign_in_experience(conn, values)
            await self.outbox.append(
                conn, ApplicationDataUpdated(data=app, changed=["signInExperience"]), tenant_id=tenant_id, actor=actor
            )
        return _to_experience(row), created

    async def access_control(self, tenant_id: str, app_id: str) -> AccessControl:
        async with self.engine.connect() as conn:
            await self._app(conn, tenant_id, app_id)
            rules = await self.settings.access_control(conn, tenant_id, app_id)
        return EMPTY_ACCESS_CONTROL if rules is None else msgspec.convert(rules, AccessControl)

    async def replace_access_control(
        self, tenant_id: str, app_id: str, body: AccessControl, actor: Actor | None
    ) -> AccessControl:
        for rule in body.organization_role_rules:
            if not rule.organization_role_ids:
                raise Unprocessable("application.access_control_invalid", reason="an organization-role group is empty")
        async with self.engine.begin() as conn:
            app = await self._app(conn, tenant_id, app_id, lock=True)
            _missing(body.user_ids, await existing_user_ids(conn, tenant_id, body.user_ids), "user")
            roles = await self.roles.get_many(conn, tenant_id, body.user_role_ids)
            _missing(body.user_role_ids, set(roles), "role")
            if any(role.type != "User" for role in roles.values()):
                raise Unprocessable("user.invalid_role_type")
            organization_ids = [*body.organization_ids, *(r.organization_id for r in body.organization_role_rules)]
            _missing(
                organization_ids, await existing_organization_ids(conn, tenant_id, organization_ids), "organization"
            )
            role_ids = [i for r in body.organization_role_rules for i in r.organization_role_ids]
            _missing(role_ids, await existing_organization_role_ids(conn, tenant_id, role_ids), "organization role")
            await self.settings.replace_access_control(conn, tenant_id, app_id, msgspec.to_builtins(body))
            await self.outbox.append(
                conn, ApplicationDataUpdated(data=app, changed=["accessControl"]), tenant_id=tenant_id, actor=actor
            )
        return body

    async def require_protected_app(self, tenant_id: str, app_id: str) -> Application:
        """Custom domains exist only on Protected apps, which need Logto Cloud's edge runtime."""
        async with self.engine.connect() as conn:
            app = await self._app(conn, tenant_id, app_id)
        if app.type != "Protected":
            raise BadRequest("application.protected_application_only")
        return app
