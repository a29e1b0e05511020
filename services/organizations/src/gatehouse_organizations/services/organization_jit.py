"""Just-in-time provisioning rules of an organization: email domains, enterprise SSO connectors and default
organization roles (the users are provisioned by `events/jit_provisioning.py`).

The status codes and error codes are Logto's, which come from its relation tables: an unknown organization, role
or SSO connector is 422 `entity.relation_foreign_key_not_found`, a domain the organization has already 422
`entity.unique_integrity_violation`, removing a domain, role or connector the organization does not have 404
`entity.not_found`. Adding a role or connector the organization has already changes nothing. Logto validates
neither the domains (any non-empty string) nor the roles' type, and has no hook events for these rules: neither
does this. A replacement locks the organization's row, so concurrent replacements run one after the other.
"""

from collections.abc import Sequence

from gatehouse_platform.errors import NotFound, Unprocessable
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organization_template import OrganizationRole
from gatehouse_schema.api.organizations import OrganizationJitEmailDomain
from gatehouse_schema.api.sso_connectors import SsoConnector
from gatehouse_schema.queries.management import existing_sso_connector_ids
from gatehouse_schema.queries.organizations import existing_organization_role_ids
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_organizations.persistence.organization_jit import JitStore
from gatehouse_organizations.persistence.organizations import OrganizationStore
from gatehouse_organizations.services.organizations import find_organization

UNKNOWN_RELATION = "entity.relation_foreign_key_not_found"


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


class OrganizationJitService:
    def __init__(self, engine: AsyncEngine, organizations: OrganizationStore, jit: JitStore) -> None:
        self.engine = engine
        self.organizations = organizations
        self.jit = jit

    async def _organization_exists(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, *, lock: bool = False
    ) -> bool:
        return await self.organizations.get(conn, tenant_id, organization_id, lock=lock) is not None

    async def _check_roles(self, conn: AsyncConnection, tenant_id: str, role_ids: list[str]) -> None:
        if len(await existing_organization_role_ids(conn, tenant_id, role_ids)) < len(role_ids):
            raise Unprocessable(UNKNOWN_RELATION)

    async def _check_sso_connectors(self, conn: AsyncConnection, tenant_id: str, connector_ids: list[str]) -> None:
        if len(await existing_sso_connector_ids(conn, tenant_id, connector_ids)) < len(connector_ids):
            raise Unprocessable(UNKNOWN_RELATION)

    # email domains

    async def email_domains(
        self, tenant_id: str, organization_id: str, page: Page
    ) -> tuple[int, list[OrganizationJitEmailDomain]]:
        """An unknown organization has no domains (Logto does not check it here)."""
        async with self.engine.connect() as conn:
            return await self.jit.email_domains_page(conn, tenant_id, organization_id, page)

    async def add_email_domain(
        self, tenant_id: str, organization_id: str, email_domain: str
    ) -> OrganizationJitEmailDomain:
        async with self.engine.begin() as conn:
            if not await self._organization_exists(conn, tenant_id, organization_id):
                raise Unprocessable(UNKNOWN_RELATION)
            if not await self.jit.add_email_domain(conn, tenant_id, organization_id, email_domain):
                raise Unprocessable("entity.unique_integrity_violation")
        return OrganizationJitEmailDomain(
            tenant_id=tenant_id, organization_id=organization_id, email_domain=email_domain
        )

    async def replace_email_domains(self, tenant_id: str, organization_id: str, email_domains: Sequence[str]) -> None:
        wanted = _unique(email_domains)
        async with self.engine.begin() as conn:
            if not await self._organization_exists(conn, tenant_id, organization_id, lock=True):
                if wanted:
                    raise Unprocessable(UNKNOWN_RELATION)
                return  # nothing to remove, nothing to add: Logto answers 204 too
            await self.jit.remove_email_domains(conn, tenant_id, organization_id)
            await self.jit.insert_email_domains(conn, tenant_id, organization_id, wanted)

    async def remove_email_domain(self, tenant_id: str, organization_id: str, email_domain: str) -> None:
        async with self.engine.begin() as conn:
            if not await self.jit.remove_email_domains(conn, tenant_id, organization_id, email_domain):
                raise NotFound("entity.not_found")

    # roles

    async def roles(
        self, tenant_id: str, organization_id: str, page: Page | None
    ) -> tuple[int, list[OrganizationRole]]:
        async with self.engine.connect() as conn:
            await find_organization(self.organizations, conn, tenant_id, organization_id)
            return await self.jit.roles(conn, tenant_id, organization_id, page)

    async def add_roles(self, tenant_id: str, organization_id: str, role_ids: Sequence[str]) -> None:
        wanted = _unique(role_ids)
        async with self.engine.begin() as conn:
            if not await self._organization_exists(conn, tenant_id, organization_id):
                raise Unprocessable(UNKNOWN_RELATION)
            await self._check_roles(conn, tenant_id, wanted)
            await self.jit.add_roles(conn, tenant_id, organization_id, wanted)

    async def replace_roles(self, tenant_id: str, organization_id: str, role_ids: Sequence[str]) -> None:
        wanted = _unique(role_ids)
        async with self.engine.begin() as conn:
            if not await self._organization_exists(conn, tenant_id, organization_id, lock=True):
                if wanted:
                    raise Unprocessable(UNKNOWN_RELATION)
                return
            await self._check_roles(conn, tenant_id, wanted)
            await self.jit.remove_roles(conn, tenant_id, organization_id)
            await self.jit.add_roles(conn, tenant_id, organization_id, wanted)

    async def remove_role(self, tenant_id: str, organization_id: str, role_id: str) -> None:
        async with self.engine.begin() as conn:
            if not await self.jit.remove_roles(conn, tenant_id, organization_id, role_id):
                raise NotFound("entity.not_found")

    # enterprise SSO connectors

    async def sso_connectors(
        self, tenant_id: str, organization_id: str, page: Page | None
    ) -> tuple[int, list[SsoConnector]]:
        async with self.engine.connect() as conn:
            await find_organization(self.organizations, conn, tenant_id, organization_id)
            return await self.jit.sso_connectors(conn, tenant_id, organization_id, page)

    async def add_sso_connectors(self, tenant_id: str, organization_id: str, connector_ids: Sequence[str]) -> None:
        wanted = _unique(connector_ids)
        async with self.engine.begin() as conn:
            if not await self._organization_exists(conn, tenant_id, organization_id):
                raise Unprocessable(UNKNOWN_RELATION)
            await self._check_sso_connectors(conn, tenant_id, wanted)
            await self.jit.add_sso_connectors(conn, tenant_id, organization_id, wanted)

    async def replace_sso_connectors(self, tenant_id: str, organization_id: str, connector_ids: Sequence[str]) -> None:
        wanted = _unique(connector_ids)
        async with self.engine.begin() as conn:
            if not await self._organization_exists(conn, tenant_id, organization_id, lock=True):
                if wanted:
                    raise Unprocessable(UNKNOWN_RELATION)
                return
            await self._check_sso_connectors(conn, tenant_id, wanted)
            await self.jit.remove_sso_connectors(conn, tenant_id, organization_id)
            await self.jit.add_sso_connectors(conn, tenant_id, organization_id, wanted)

    async def remove_sso_connector(self, tenant_id: str, organization_id: str, connector_id: str) -> None:
        async with self.engine.begin() as conn:
            if not await self.jit.remove_sso_connectors(conn, tenant_id, organization_id, connector_id):
                raise NotFound("entity.not_found")
