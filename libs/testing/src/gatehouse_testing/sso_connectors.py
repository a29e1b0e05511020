"""Management's enterprise SSO connector rows, written straight to the database for the suites of the contexts
that read them (identity, experience)."""

from typing import Any

import sqlalchemy as sa
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables import management as m
from sqlalchemy.ext.asyncio import AsyncEngine


async def write_sso_connector(
    db: AsyncEngine,
    provider_name: str,
    config: dict[str, Any],
    *,
    domains: list[str],
    branding: dict[str, Any] | None = None,
    sync_profile: bool = False,
    token_storage: bool = False,
) -> str:
    """An enterprise SSO connector row of the default tenant, as management writes it: its new id."""
    connector_id = generate_id()
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(m.sso_connectors).values(
                tenant_id="default",
                id=connector_id,
                provider_name=provider_name,
                connector_name=f"sso-{connector_id}",
                config=config,
                domains=domains,
                branding=branding or {},
                sync_profile=sync_profile,
                enable_token_storage=token_storage,
                created_at=sa.func.now(),
            )
        )
    return connector_id
