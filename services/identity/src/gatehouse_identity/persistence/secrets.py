"""SQL for the secret vault: encrypted token sets of social identities and which identity each belongs to."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from gatehouse_schema.tables.identity import secret_social_connector_relations as relations
from gatehouse_schema.tables.identity import secrets
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.domain.secret_vault import Sealed

FEDERATED_TOKEN_SET = "federated_token_set"


@dataclass(frozen=True)
class TokenSetSecret:
    """A token set's secret without its sealed parts (Logto's desensitized secret)."""

    tenant_id: str
    id: str
    user_id: str
    type: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    connector_id: str
    identity_id: str
    target: str


_COLUMNS = (
    secrets.c.tenant_id,
    secrets.c.id,
    secrets.c.user_id,
    secrets.c.type,
    secrets.c.metadata,
    secrets.c.created_at,
    secrets.c.updated_at,
    relations.c.connector_id,
    relations.c.identity_id,
    relations.c.target,
)
_JOIN = secrets.join(
    relations, sa.and_(relations.c.tenant_id == secrets.c.tenant_id, relations.c.secret_id == secrets.c.id)
)


class SecretStore:
    """Every method runs on the caller's connection (its transaction)."""

    async def put_token_set(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        secret_id: str,
        *,
        user_id: str,
        connector_id: str,
        target: str,
        identity_id: str,
        sealed: Sealed,
        metadata: dict[str, Any],
    ) -> None:
        """Replaces the user's token set for `target` (Logto's upsert: delete, then insert)."""
        await conn.execute(
            sa.delete(secrets).where(
                secrets.c.tenant_id == tenant_id,
                secrets.c.user_id == user_id,
                secrets.c.id.in_(
                    sa.select(relations.c.secret_id).where(
                        relations.c.tenant_id == tenant_id, relations.c.target == target
                    )
                ),
            )
        )
        await conn.execute(
            sa.insert(secrets).values(
                tenant_id=tenant_id,
                id=secret_id,
                user_id=user_id,
                type=FEDERATED_TOKEN_SET,
                encrypted_dek=sealed.encrypted_dek,
                iv=sealed.iv,
                auth_tag=sealed.auth_tag,
                ciphertext=sealed.ciphertext,
                metadata=metadata,
            )
        )
        await conn.execute(
            sa.insert(relations).values(
                tenant_id=tenant_id,
                secret_id=secret_id,
                connector_id=connector_id,
                target=target,
                identity_id=identity_id,
            )
        )

    async def token_sets(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, target: str | None = None
    ) -> dict[str, TokenSetSecret]:
        """The user's token sets by target."""
        query = (
            sa.select(*_COLUMNS)
            .select_from(_JOIN)
            .where(secrets.c.tenant_id == tenant_id, secrets.c.user_id == user_id)
        )
        if target is not None:
            query = query.where(relations.c.target == target)
        return {row.target: TokenSetSecret(**row._mapping) for row in await conn.execute(query)}

    async def sealed_token_set(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, target: str, *, lock: bool = False
    ) -> tuple[TokenSetSecret, Sealed] | None:
        """The user's token set for `target` with its sealed parts."""
        query = (
            sa.select(*_COLUMNS, secrets.c.encrypted_dek, secrets.c.iv, secrets.c.auth_tag, secrets.c.ciphertext)
            .select_from(_JOIN)
            .where(secrets.c.tenant_id == tenant_id, secrets.c.user_id == user_id, relations.c.target == target)
        )
        if lock:
            query = query.with_for_update(of=secrets)
        row = (await conn.execute(query)).one_or_none()
        if row is None:
            return None
        values = dict(row._mapping)
        sealed = Sealed(**{k: values.pop(k) for k in ("encrypted_dek", "iv", "auth_tag", "ciphertext")})
        return TokenSetSecret(**values), sealed

    async def reseal(
        self, conn: AsyncConnection, tenant_id: str, secret_id: str, sealed: Sealed, metadata: dict[str, Any]
    ) -> None:
        await conn.execute(
            sa.update(secrets)
            .where(secrets.c.tenant_id == tenant_id, secrets.c.id == secret_id)
            .values(**msgspec.structs.asdict(sealed), metadata=metadata, updated_at=sa.func.now())
        )

    async def delete(self, conn: AsyncConnection, tenant_id: str, secret_id: str) -> bool:
        result = await conn.execute(
            sa.delete(secrets).where(secrets.c.tenant_id == tenant_id, secrets.c.id == secret_id)
        )
        return bool(result.rowcount)

    async def delete_of_connector(self, conn: AsyncConnection, tenant_id: str, connector_id: str) -> int:
        owned = sa.select(relations.c.secret_id).where(
            relations.c.tenant_id == tenant_id, relations.c.connector_id == connector_id
        )
        result = await conn.execute(sa.delete(secrets).where(secrets.c.tenant_id == tenant_id, secrets.c.id.in_(owned)))
        return int(result.rowcount or 0)
