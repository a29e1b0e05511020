"""The client cache on the token path is invalidated by `Application.*` events."""

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import msgspec
import nats
import sqlalchemy as sa
from gatehouse_platform.db import create_engine
from gatehouse_schema.api.applications import Application, CustomClientMetadata, OidcClientMetadata
from gatehouse_schema.events import ApplicationDeleted, event_subject, make_event
from gatehouse_schema.tables import management as m
from httpx import AsyncClient

FORM = {"grant_type": "client_credentials", "resource": "https://api.example.com"}


def basic(app: Any) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{app.id}:{app.secret}".encode()).decode()}


async def test_deleted_application_loses_access_on_the_next_request(
    client: AsyncClient, seed: Callable[..., Any], database_url: str, nats_url: str, subject_prefix: str
) -> None:
    app = await seed()
    assert (await client.post("/oidc/token", data=FORM, headers=basic(app))).status_code == 200  # now cached
    engine = create_engine(database_url, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(sa.delete(m.applications).where(m.applications.c.id == app.id))
    await engine.dispose()
    event = make_event(
        ApplicationDeleted(
            data=Application(
                tenant_id="default",
                id=app.id,
                name="app",
                description=None,
                type="MachineToMachine",
                oidc_client_metadata=OidcClientMetadata(redirect_uris=[], post_logout_redirect_uris=[]),
                custom_client_metadata=CustomClientMetadata(),
                protected_app_metadata=None,
                custom_data={},
                is_third_party=False,
                app_level_access_control_enabled=False,
                created_at=0,
            )
        ),
        tenant_id="default",
    )
    nc = await nats.connect(nats_url)
    await nc.jetstream().publish(
        event_subject(subject_prefix, "default", "management", event.type), msgspec.json.encode(event)
    )
    await nc.close()
    for _ in range(100):
        response = await client.post("/oidc/token", data=FORM, headers=basic(app))
        if response.status_code == 401:
            break
        await asyncio.sleep(0.02)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
