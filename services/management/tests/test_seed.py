"""Seeding is idempotent: a second run changes nothing and reuses the bootstrap app."""

from pathlib import Path

import sqlalchemy as sa
from gatehouse_management.persistence.applications import ApplicationStore
from gatehouse_management.seed import bootstrap_app, seed_tenant
from gatehouse_management.services.applications import ApplicationService
from gatehouse_platform.db import create_engine
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.tables.management import applications_roles, resources, roles_scopes, scopes


async def test_seed_twice_changes_nothing_and_reuses_the_bootstrap_app(
    database_url: str, subject_prefix: str, tmp_path: Path
) -> None:
    engine = create_engine(database_url, pool_size=2)
    try:
        service = ApplicationService(engine, ApplicationStore(), Outbox("management", subject_prefix))
        path = tmp_path / "bootstrap.json"
        role_id = await seed_tenant(engine, "default")
        first = await bootstrap_app(engine, service, "default", "http://127.0.0.1:3001", path, role_id)
        assert await seed_tenant(engine, "default") == role_id
        second = await bootstrap_app(engine, service, "default", "http://127.0.0.1:3001", path, role_id)
        assert first == second
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        async with engine.connect() as conn:
            indicator = "https://default.logto.app/api"
            count = sa.select(sa.func.count())
            assert (
                await conn.execute(count.select_from(resources).where(resources.c.indicator == indicator))
            ).scalar() == 1
            assert (await conn.execute(count.select_from(scopes).where(scopes.c.name == "all"))).scalar() >= 1
            links = roles_scopes.c.role_id == role_id
            assert (await conn.execute(count.select_from(roles_scopes).where(links))).scalar() == 1
            held = applications_roles.c.application_id == first.client_id
            assert (await conn.execute(count.select_from(applications_roles).where(held))).scalar() == 1
    finally:
        await engine.dispose()
