"""Request bodies of the Organization scopes routes."""

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

ScopeName = Annotated[str, Meta(min_length=1, max_length=128)]
Description = Annotated[str, Meta(max_length=256)]
TenantId = Annotated[str, Meta(max_length=21)]


class CreateOrganizationScope(msgspec.Struct, kw_only=True, rename="camel"):
    name: ScopeName
    description: Description | None = None
    tenant_id: TenantId | UnsetType = UNSET  # accepted and ignored, as Logto does: the tenant comes from the request


class UpdateOrganizationScope(msgspec.Struct, kw_only=True, rename="camel"):
    name: ScopeName | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    tenant_id: TenantId | UnsetType = UNSET
