import argparse
import asyncio
import sys
from pathlib import Path

from gatehouse_platform.cli import service_main
from gatehouse_platform.config import Settings
from gatehouse_platform.db import create_engine
from gatehouse_platform.outbox import Outbox

from gatehouse_management.config import ManagementSettings
from gatehouse_management.persistence.applications import ApplicationStore
from gatehouse_management.seed import bootstrap_app, seed_tenant
from gatehouse_management.services.applications import ApplicationService


async def _seed(settings: ManagementSettings, bootstrap: bool) -> None:
    engine = create_engine(settings.database_url, pool_size=2)
    try:
        tenant = settings.default_tenant_id
        role_id = await seed_tenant(engine, tenant)
        print(f"seeded tenant `{tenant}`")
        if bootstrap:
            service = ApplicationService(engine, ApplicationStore(), Outbox("management", settings.subject_prefix))
            path = Path(settings.bootstrap_file)
            creds = await bootstrap_app(engine, service, tenant, settings.public_url, path, role_id)
            print(f"bootstrap app: client_id={creds.client_id} (credentials in {path})")
    finally:
        await engine.dispose()


def _run_seed(args: argparse.Namespace, settings: Settings) -> int:
    assert isinstance(settings, ManagementSettings)
    asyncio.run(_seed(settings, args.bootstrap))
    return 0


def _configure_seed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bootstrap", action="store_true", help="also create the bootstrap M2M app")


def main() -> int:
    return service_main(
        ManagementSettings,
        "gatehouse_management.app:create_app",
        schema="management",
        extra=[("seed", "seed the default tenant", _run_seed, _configure_seed)],
    )


if __name__ == "__main__":
    sys.exit(main())
