"""NATS connection and the JetStream streams Gatehouse uses."""

import asyncio
from collections.abc import Awaitable, Callable

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from gatehouse_platform.logging import get_logger

log = get_logger("gatehouse.nats")


def dead_letter_stream(events_stream: str) -> str:
    return f"{events_stream}_DEADLETTER"


def dead_letter_subject(prefix: str, durable: str) -> str:
    return f"{prefix}.dlq.{durable}"


ReconnectHook = Callable[[], Awaitable[None]]


async def connect_nats(
    url: str, name: str, connect_timeout: float = 30.0, on_reconnect: list[ReconnectHook] | None = None
) -> NATS:
    """Connect, retrying until `connect_timeout`; afterwards nats-py reconnects forever on its own.

    `on_reconnect` hooks run after each reconnection (caches drop what they may have missed).
    """
    hooks = on_reconnect if on_reconnect is not None else []

    async def _disconnected() -> None:
        log.warning("nats disconnected")

    async def _reconnected() -> None:
        log.info("nats reconnected")
        for hook in hooks:
            await hook()

    async def _error(e: Exception) -> None:
        log.debug("nats error", error=str(e))

    deadline = asyncio.get_running_loop().time() + connect_timeout
    while True:
        try:
            return await nats.connect(
                url,
                name=name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                connect_timeout=2,
                allow_reconnect=True,
                disconnected_cb=_disconnected,
                reconnected_cb=_reconnected,
                error_cb=_error,
            )
        except Exception:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(0.5)


async def ensure_streams(js: JetStreamContext, stream: str, prefix: str, max_age_days: float) -> None:
    """The events stream (`<prefix>.evt.>`, deduplicated by `Nats-Msg-Id`) and its dead-letter stream."""
    configs = [
        StreamConfig(
            name=stream,
            subjects=[f"{prefix}.evt.>"],
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            max_age=max_age_days * 86400,
            duplicate_window=300,
        ),
        StreamConfig(
            name=dead_letter_stream(stream),
            subjects=[f"{prefix}.dlq.>"],
            storage=StorageType.FILE,
            max_age=30 * 86400,
        ),
    ]
    for config in configs:
        try:
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)
