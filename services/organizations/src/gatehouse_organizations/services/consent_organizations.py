"""The organizations a user consented a third-party application to (Logto's user consent organizations).

Logto's rules (`routes/applications/application-user-consent-organization.ts`): the application must exist
(404 `entity.not_exists_with_id`) and be a third-party application (422
`application.third_party_application_only`), the user must exist (404 `entity.not_found`: Logto's
`findUserById` is a bare `pool.one`), all checked before the body; every organization granted must be one the
user is a member of (422 `organization.require_membership`, also for an organization that does not exist:
Logto checks against the user's organizations). Granting a consent again changes nothing; revoking one that
is not there is 404 `entity.not_found`. Each write is one transaction. Logto has no webhook event for these
consents, so none is appended.
"""

from collections.abc import Sequence

from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organizations import Organization
from gatehouse_schema.queries import identity as identity_reads
from gatehouse_schema.queries import management as management_reads
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_organizations.persistence.consent_organizations import ConsentOrganizationStore


def _unique(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ids))


class ConsentOrganizationService:
    def __init__(self, engine: AsyncEngine, store: ConsentOrganizationStore) -> None:
        self.engine = engine
        self.store = store

    async def _check(self, conn: AsyncConnection, tenant_id: str, application_id: str, user_id: str) -> None:
        """The application exists and is third-party, and the user exists (in this order, as Logto)."""
        application = (await management_reads.application_briefs(conn, tenant_id, [application_id])).get(application_id)
        if application is None:
            raise NotFound("entity.not_exists_with_id", name="application", id=application_id)
        if not application.is_third_party:
            raise Unprocessable("application.third_party_application_only")
        if not await identity_reads.existing_user_ids(conn, tenant_id, [user_id]):
            raise NotFound("entity.not_found")

    async def _require_memberships(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, organization_ids: list[str]
    ) -> None:
        found = await self.store.member_organization_ids(conn, tenant_id, user_id, organization_ids)
        if len(found) < len(organization_ids):
            raise Unprocessable("organization.require_membership")

    async def organizations(
        self, tenant_id: str, application_id: str, user_id: str, page: Page
    ) -> tuple[int, list[Organization]]:
        async with self.engine.connect() as conn:
            await self._check(conn, tenant_id, application_id, user_id)
            return await self.store.page(conn, tenant_id, application_id, user_id, page)

    async def grant(self, tenant_id: str, application_id: str, user_id: str, organization_ids: Sequence[str]) -> None:
        """Adds these consents (Logto's POST: at least one organization)."""
        wanted = _unique(organization_ids)
        async with self.engine.begin() as conn:
            await self._check(conn, tenant_id, application_id, user_id)
            if not wanted:  # after the checks: Logto's guards of the path run before the body's
                raise BadRequest("guard.invalid_input", "The request body is invalid: `organizationIds` is empty.")
            await self.store.lock(conn, tenant_id, application_id, user_id)
            await self._require_memberships(conn, tenant_id, user_id, wanted)
            await self.store.add(conn, tenant_id, application_id, user_id, wanted)

    async def replace(self, tenant_id: str, application_id: str, user_id: str, organization_ids: Sequence[str]) -> None:
        """Makes these the consented organizations (none with an empty list)."""
        wanted = _unique(organization_ids)
        async with self.engine.begin() as conn:
            await self._check(conn, tenant_id, application_id, user_id)
            await self.store.lock(conn, tenant_id, application_id, user_id)
            await self._require_memberships(conn, tenant_id, user_id, wanted)
            await self.store.remove(conn, tenant_id, application_id, user_id, None, keep=wanted)
            await self.store.add(conn, tenant_id, application_id, user_id, wanted)

    async def revoke(self, tenant_id: str, application_id: str, user_id: str, organization_id: str) -> None:
        async with self.engine.begin() as conn:
            await self._check(conn, tenant_id, application_id, user_id)
            await self.store.lock(conn, tenant_id, application_id, user_id)
            if not await self.store.remove(conn, tenant_id, application_id, user_id, [organization_id]):
                raise NotFound("entity.not_found")
