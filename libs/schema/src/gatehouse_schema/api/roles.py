"""Logto's Role object and the shapes the Roles routes return."""

from typing import Literal

import msgspec

from gatehouse_schema.api.resources import Resource, Scope
from gatehouse_schema.api.users import FeaturedUser

RoleType = Literal["User", "MachineToMachine"]


class Role(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    id: str
    name: str
    description: str
    type: RoleType
    is_default: bool


class FeaturedApplication(msgspec.Struct, rename="camel"):
    id: str
    name: str
    type: str


class RoleWithStats(Role, kw_only=True):
    users_count: int
    featured_users: list[FeaturedUser]
    applications_count: int
    featured_applications: list[FeaturedApplication]


class ScopeWithResource(Scope, kw_only=True):
    resource: Resource
