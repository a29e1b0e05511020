"""Routes of the organization template: Organization scopes and Organization roles (operation ids are Logto's)."""

from typing import Any

from gatehouse_organizations.api import organization_roles, organization_scopes

ROUTES: list[Any] = [*organization_scopes.ROUTES, *organization_roles.ROUTES]
