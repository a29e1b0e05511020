"""Loading the user a Users sub-resource hangs off, with Logto's 404 when there is none."""

from typing import Any

from gatehouse_platform.errors import NotFound
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.api.users import User
from gatehouse_schema.events import Actor, UserDataUpdated
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.persistence.users import UserRecord, UserStore


async def user_record(
    store: UserStore, conn: AsyncConnection, tenant_id: str, user_id: str, *, lock: bool = False
) -> UserRecord:
    record = await store.record(conn, tenant_id, user_id, lock=lock)
    if record is None:
        raise NotFound("entity.not_exists_with_id", name="user", id=user_id)
    return record


async def update_user_data(
    store: UserStore,
    outbox: Outbox,
    conn: AsyncConnection,
    tenant_id: str,
    user_id: str,
    values: dict[str, Any],
    changed: list[str],
    actor: Actor | None,
) -> User:
    """Writes `values` and appends `User.Data.Updated` naming `changed`, in the caller's transaction."""
    user = await store.update(conn, tenant_id, user_id, values)
    await outbox.append(conn, UserDataUpdated(data=user, changed=changed), tenant_id=tenant_id, actor=actor)
    return user


def mfa_factor_types(record: UserRecord) -> list[str]:
    """The types of the user's MFA factors (Totp, WebAuthn, BackupCode), as a sign-in's verification names them."""
    return [f.get("type", "") for f in record.mfa_verifications if isinstance(f, dict)]
