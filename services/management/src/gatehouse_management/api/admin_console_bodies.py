"""Bodies of the admin console config routes: Logto's `adminConsoleDataGuard`."""

import msgspec
from msgspec import UNSET, UnsetType


class DevelopmentTenantMigrationNotification(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    is_paid_tenant: bool
    tag: str
    read_at: float | UnsetType = UNSET


class CheckedChargeNotification(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    token: bool | UnsetType = UNSET
    api_resource: bool | UnsetType = UNSET
    machine_to_machine_app: bool | UnsetType = UNSET
    tenant_member: bool | UnsetType = UNSET


class AdminConsoleData(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    sign_in_experience_customized: bool
    organization_created: bool
    development_tenant_migration_notification: DevelopmentTenantMigrationNotification | UnsetType = UNSET
    checked_charge_notification: CheckedChargeNotification | UnsetType = UNSET


class UpdateAdminConsoleData(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """A partial update: each field given replaces the stored one whole."""

    sign_in_experience_customized: bool | UnsetType = UNSET
    organization_created: bool | UnsetType = UNSET
    development_tenant_migration_notification: DevelopmentTenantMigrationNotification | UnsetType = UNSET
    checked_charge_notification: CheckedChargeNotification | UnsetType = UNSET


def default_admin_console() -> AdminConsoleData:
    """What a new Logto tenant starts with."""
    return AdminConsoleData(sign_in_experience_customized=False, organization_created=False)
