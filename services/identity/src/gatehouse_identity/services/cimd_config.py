"""The tenant's OAuth Client ID Metadata Document (CIMD) switch (`GET/PATCH /api/configs/cimd`),
Logto's `cimd` config, stored in `identity.oidc_configs` under the key `cimd`.

A missing config reads as disabled. Logto refuses to enable CIMD unless its OIDC provider's SSRF
protection is active, because CIMD makes the provider fetch client-supplied URLs. Gatehouse's OIDC
provider does not fetch client ID metadata documents at all (it has no SSRF-protected fetcher), so
the protection is never active here: enabling is 422 `request.invalid_input` (Logto's code for this
refusal) and writes nothing; disabling and empty patches are stored as in Logto.
"""

from typing import Any

from gatehouse_platform.errors import Unprocessable
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.keys.store import OidcConfigStore

CIMD = "cimd"
DEFAULT_CIMD_CONFIG: dict[str, Any] = {"enabled": False}
SSRF_PROTECTION_INACTIVE = (
    "CIMD requires the OIDC provider SSRF protection. Gatehouse's OIDC provider does not fetch client ID "
    "metadata documents, so CIMD cannot be enabled."
)


class CimdConfigService:
    def __init__(self, engine: AsyncEngine, store: OidcConfigStore | None = None) -> None:
        self.engine = engine
        self.store = store or OidcConfigStore()

    async def get(self, tenant_id: str) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            stored = await self.store.get(conn, tenant_id, CIMD)
        return {**DEFAULT_CIMD_CONFIG, **stored}

    async def update(self, tenant_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Merges `patch` into the config and stores the whole object (the row is created on first write)."""
        if patch.get("enabled"):
            raise Unprocessable("request.invalid_input", details=SSRF_PROTECTION_INACTIVE)
        async with self.engine.begin() as conn:
            stored = await self.store.merge(conn, tenant_id, CIMD, patch)  # the upsert locks the row
            if DEFAULT_CIMD_CONFIG.keys() - stored.keys():
                stored = await self.store.merge(conn, tenant_id, CIMD, {**DEFAULT_CIMD_CONFIG, **stored})
        return {**DEFAULT_CIMD_CONFIG, **stored}
