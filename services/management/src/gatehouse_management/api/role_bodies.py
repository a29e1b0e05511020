"""Request bodies of the Roles routes and the role-assignment routes of users and applications."""

from typing import Annotated

import msgspec
from gatehouse_schema.api.roles import RoleType
from msgspec import UNSET, Meta, UnsetType

RoleName = Annotated[str, Meta(min_length=1, max_length=128)]
Ids = Annotated[list[Annotated[str, Meta(min_length=1)]], Meta(min_length=1)]


class CreateRole(msgspec.Struct, kw_only=True, rename="camel"):
    name: RoleName
    description: RoleName
    type: RoleType = "User"
    is_default: bool = False
    scope_ids: list[str] = msgspec.field(default_factory=list)
    tenant_id: str | UnsetType = UNSET


class UpdateRole(msgspec.Struct, kw_only=True, rename="camel"):
    name: RoleName | UnsetType = UNSET
    description: RoleName | UnsetType = UNSET
    is_default: bool | UnsetType = UNSET


class ScopeIds(msgspec.Struct, rename="camel"):
    scope_ids: Ids


class UserIds(msgspec.Struct, rename="camel"):
    user_ids: Ids


class ApplicationIds(msgspec.Struct, rename="camel"):
    application_ids: Ids


class RoleIds(msgspec.Struct, rename="camel"):
    role_ids: list[Annotated[str, Meta(min_length=1)]]


class AssignedRoles(msgspec.Struct, rename="camel"):
    role_ids: list[str]
    added_role_ids: list[str]


class ReplacedRoles(msgspec.Struct, rename="camel"):
    role_ids: list[str]
