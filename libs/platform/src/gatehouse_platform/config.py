"""Settings from the environment, as msgspec Structs: a field `foo_bar` is read from `FOO_BAR`."""

import os
from typing import TypeVar

import msgspec

S = TypeVar("S", bound="Settings")


class Settings(msgspec.Struct, kw_only=True):
    """What every service reads. A service subclasses it to set its name, port and extras."""

    service_name: str = "gatehouse"
    host: str = "127.0.0.1"
    port: int = 3000
    database_url: str = "postgresql://postgres@127.0.0.1:5432/gatehouse"
    db_pool_size: int = 20
    nats_url: str = "nats://127.0.0.1:4222"
    public_url: str = "http://127.0.0.1:3001"
    default_tenant_id: str = "default"
    events_stream: str = "GATEHOUSE_EVENTS"
    events_max_age_days: float = 7.0
    subject_prefix: str = "gatehouse"
    log_level: str = "info"
    otel_exporter_otlp_endpoint: str | None = None
    identity_url: str = "http://127.0.0.1:3101"
    management_url: str = "http://127.0.0.1:3102"
    organizations_url: str = "http://127.0.0.1:3103"
    hooks_audit_url: str = "http://127.0.0.1:3104"
    experience_url: str = "http://127.0.0.1:3105"
    outbox_poll_interval: float = 1.0
    consumer_max_deliver: int = 5
    rpc_timeout: float = 2.0
    workers: int = 1  # `serve`: granian worker processes (each with its own event loop and pool)

    @property
    def issuer(self) -> str:
        return self.public_url.rstrip("/") + "/oidc"


def load_settings(cls: type[S], environ: dict[str, str] | None = None, **overrides: object) -> S:
    """Build `cls` from environment variables named after its fields (upper case), then `overrides`."""
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for name in cls.__struct_fields__:
        value = env.get(name.upper())
        if value is not None and value != "":
            raw[name] = value
    raw.update(overrides)
    return msgspec.convert(raw, cls, strict=False)
