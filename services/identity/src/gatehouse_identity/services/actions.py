"""Logto's Actions (`/api/configs/actions*`): administrators' JavaScript run at two points of the sign-in, stored
per action type, and a dry run (`POST /api/configs/actions/test`). Scripts run in `gatehouse_scripts`' QuickJS
sandbox, off the event loop, with Logto's payload `{event, environmentVariables}`.

Where they run in the flow is `services/action_runs.py`."""

from typing import Any

from gatehouse_platform.errors import GatehouseError, NotFound
from gatehouse_scripts import ScriptError, run_script
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.persistence.action_configs import ACTION_TYPES, ActionConfigStore

SCRIPT_TIMEOUT = 5.0  # seconds, as Logto's newer runner
REDACTED = "[redacted]"


def _missing(key: str) -> NotFound:
    return NotFound("entity.not_exists_with_id", name="logto_config", id=key)


def redact(message: str, secrets: list[str]) -> str:
    """The error message without the script's secrets (environment variable values, the submitted password)."""
    for secret in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        message = message.replace(secret, REDACTED)
    return message


class ActionScriptFailed(GatehouseError):
    """422 `action.general`, Logto's code for a script that threw, did not parse or did not finish."""

    status = 422


class ActionConfigService:
    def __init__(self, engine: AsyncEngine, store: ActionConfigStore) -> None:
        self.engine = engine
        self.store = store

    async def list(self, tenant_id: str) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            stored = await self.store.all(conn, tenant_id)
        return [{"key": key, "value": stored[key]} for key in ACTION_TYPES if key in stored]

    async def get(self, tenant_id: str, key: str) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            value = await self.store.get(conn, tenant_id, key)
        if value is None:
            raise _missing(key)
        return value

    async def put(self, tenant_id: str, key: str, value: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        async with self.engine.begin() as conn:
            created = await self.store.put(conn, tenant_id, key, value)
        return created, value

    async def patch(self, tenant_id: str, key: str, patch: dict[str, Any]) -> dict[str, Any]:
        """A shallow merge, as Logto's (`environmentVariables` given replaces the whole map)."""
        async with self.engine.begin() as conn:
            value = await self.store.get(conn, tenant_id, key, lock=True)
            if value is None:
                raise _missing(key)
            merged = {**value, **patch}
            await self.store.put(conn, tenant_id, key, merged)
        return merged

    async def delete(self, tenant_id: str, key: str) -> None:
        async with self.engine.begin() as conn:
            if not await self.store.delete(conn, tenant_id, key):
                raise NotFound("entity.not_found")

    async def enabled(self, tenant_id: str, key: str) -> dict[str, Any] | None:
        """The action's config when it is saved and enabled (Logto runs nothing otherwise)."""
        async with self.engine.connect() as conn:
            value = await self.store.get(conn, tenant_id, key)
        return value if value is not None and value.get("enabled") is True else None


NO_RESULT = object()  # what `execute(..., undefined=NO_RESULT)` returns for a script that returns `undefined`


async def execute(
    script: str,
    event: Any,
    environment: dict[str, str],
    *,
    secrets: list[str] | None = None,
    undefined: Any = None,
) -> Any:
    """Runs the script's `runAction({event, environmentVariables})`; 422 `action.general` (its message with the
    environment variables' values and `secrets` redacted) when it fails."""
    try:
        payload = {"event": event, "environmentVariables": environment}
        return await run_script(script, payload, timeout=SCRIPT_TIMEOUT, undefined=undefined)
    except ScriptError as error:
        message = redact(str(error), [*environment.values(), *(secrets or [])])
        raise ActionScriptFailed("action.general", message, data={"message": message}) from None
