"""Helpers of the webhook tests."""

import hashlib
import hmac
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables.audit import logs
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

URL = "/api/hooks"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, response.text
    return body


def hmac_hex(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


async def new_hook(client: AsyncClient, auth: dict[str, str], url: str, **body: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"name": unique("hook"), "events": ["User.Created"], "config": {"url": url}, **body}
    response = await client.post(URL, json=payload, headers=auth)
    assert response.status_code == 201, response.text
    hook: dict[str, Any] = response.json()
    return hook


async def write_log(
    engine: AsyncEngine, hook_id: str, event: str, *, result: str = "Success", at: datetime | None = None
) -> str:
    """An execution log row as the delivery workers write it."""
    log_id = generate_id()
    key = f"TriggerHook.{event}"
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(logs).values(
                tenant_id="default",
                id=log_id,
                key=key,
                payload={"key": key, "result": result, "hookId": hook_id, "hookRequest": {"body": {}}},
                created_at=at or sa.func.now(),
            )
        )
    return log_id
