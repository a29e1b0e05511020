"""The bounded contexts: each owns one PostgreSQL schema."""

from typing import Final, Literal

Context = Literal["identity", "management", "organizations", "audit", "experience"]

CONTEXTS: Final[tuple[Context, ...]] = ("identity", "management", "organizations", "audit", "experience")

DEFAULT_TENANT_ID: Final = "default"


def management_resource_indicator(tenant_id: str) -> str:
    """The indicator of a tenant's Management API resource, as Logto names it."""
    return f"https://{tenant_id}.logto.app/api"


MANAGEMENT_API_SCOPE: Final = "all"
