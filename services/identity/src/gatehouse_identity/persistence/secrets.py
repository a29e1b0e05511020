"""SQL for the secret vault: encrypted token sets of social and enterprise SSO identities and which identity each
belongs to."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from gatehouse_schema.tables.identity import secret_enterprise_sso_connector_relations as sso_relations
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


@dataclass(frozen=True)
class SsoTokenSetSecret:
    """An enterprise SSO identity's token set without its sealed parts (Logto's desensitized
    `EnterpriseSsoTokenSetSecret`)."""

    tenant_id: str
    id: str
    user_id: str
    type: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    sso_connector_id: str
    issuer: str
    identity_id: str


_SECRET_COLUMNS = (
    secrets.c.tenant_id,
    secrets.c.id,
    secrets.c.user_id,
    secrets.c.type,
    secrets.c.metadata,
    secrets.c.created_at,
    secrets.c.updated_at,
)
_SEALED_COLUMNS = (secrets.c.encrypted_dek, secrets.c.iv, secrets.c.auth_tag, secrets.c.ciphertext)
_SSO_COLUMNS = (
    *_SECRET_COLUMNS,
    sso_relations.c.sso_connector_id,
    sso_relations.c.issuer,
    sso_relations.c.identity_id,
)
_SSO_JOIN = secrets.join(
    sso_relations,
    sa.and_(sso_relations.c.tenant_id == secrets.c.tenant_id, sso_relations.c.secret_id == secrets.c.id),
)


def _split_sealed(values: dict[str, Any]) -> Sealed:
    return Sealed(**{k: values.pop(k) for k in ("encrypted_dek", "iv", "auth_tag", "ciphertext")})


_COLUMNS = (*_SECRET_COLUMNS, relations.c.connector_id, relations.c.identity_id, relations.c.target)
_JOIN = secrets.join(
    relations, sa.and_(relations.c.tenant_id == secrets.c.tenant_id, relations.c.secret_id == secrets.c.id)
)


class SecretStore:
    """Every method runs on the caller's connection (its transaction)."""

    async def _insert_secret(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        secret_id: str,
        user_id: str,
        sealed: Sealed,
        metadata: dict[str, Any],
    ) -> None:
        await conn.execute(
            sa.insert(secrets).values(
                tenant_id=tenant_id,
                id=secret_id,
                user_id=user_id,
                type=FEDERATED_TOKEN_SET,
                **msgspec.structs.asdict(sealed),
                metadata=metadata,
            )
        )

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
        await self._insert_secret(conn, tenant_id, secret_id, user_id, sealed, metadata)
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
            sa.select(*_COLUMNS, *_SEALED_COLUMNS)
            .select_from(_JOIN)
            .where(secrets.c.tenant_id == tenant_id, secrets.c.user_id == user_id, relations.c.target == target)
        )
        if lock:
            query = query.with_for_update(of=secrets)
        row = (await conn.execute(query)).one_or_none()
        if row is None:
            return None
        values = dict(row._mapping)
        sealed = _split_sealed(values)
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

    # enterprise SSO identities' token sets

    async def put_sso_token_set(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        secret_id: str,
        *,
        user_id: str,
        sso_connector_id: str,
        issuer: str,
        identity_id: str,
        sealed: Sealed,
        metadata: dict[str, Any],
    ) -> None:
        """Replaces the user's token set for the IdP `issuer` (Logto's `upsertEnterpriseSsoTokenSetSecret`: delete,
        then insert). The identity (`issuer`, `identity_id`) must be kept in `user_sso_identities` already."""
        await conn.execute(
            sa.delete(secrets).where(
                secrets.c.tenant_id == tenant_id,
                secrets.c.user_id == user_id,
                secrets.c.id.in_(
                    sa.select(sso_relations.c.secret_id).where(
                        sso_relations.c.tenant_id == tenant_id, sso_relations.c.issuer == issuer
                    )
                ),
            )
        )
        await self._insert_secret(conn, tenant_id, secret_id, user_id, sealed, metadata)
        await conn.execute(
            sa.insert(sso_relations).values(
                tenant_id=tenant_id,
                secret_id=secret_id,
                sso_connector_id=sso_connector_id,
                issuer=issuer,
                identity_id=identity_id,
            )
        )

    async def sso_token_sets(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, sso_connector_id: str | None = None
    ) -> dict[str, SsoTokenSetSecret]:
        """The user's enterprise SSO token sets by connector id."""
        query = (
            sa.select(*_SSO_COLUMNS)
            .select_from(_SSO_JOIN)
            .where(
                secrets.c.tenant_id == tenant_id,
                secrets.c.user_id == user_id,
                secrets.c.type == FEDERATED_TOKEN_SET,
            )
        )
        if sso_connector_id is not None:
            query = query.where(sso_relations.c.sso_connector_id == sso_connector_id)
        rows = await conn.execute(query.order_by(secrets.c.created_at, secrets.c.id))
        return {row.sso_connector_id: SsoTokenSetSecret(**row._mapping) for row in rows}

    async def sealed_sso_token_set(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, sso_connector_id: str
    ) -> tuple[SsoTokenSetSecret, Sealed] | None:
        """The user's token set kept through the connector, with its sealed parts (Logto's
        `findEnterpriseSsoTokenSetSecretByUserIdAndConnectorId`)."""
        query = (
            sa.select(*_SSO_COLUMNS, *_SEALED_COLUMNS)
            .select_from(_SSO_JOIN)
            .where(
                secrets.c.tenant_id == tenant_id,
                secrets.c.user_id == user_id,
                secrets.c.type == FEDERATED_TOKEN_SET,
                sso_relations.c.sso_connector_id == sso_connector_id,
            )
            .order_by(secrets.c.created_at.desc(), secrets.c.id)
            .limit(1)
        )
        row = (await conn.execute(query)).one_or_none()
        if row is None:
            return None
        values = dict(row._mapping)
        sealed = _split_sealed(values)
        return SsoTokenSetSecret(**values), sealed

    async def delete_of_sso_connector(self, conn: AsyncConnection, tenant_id: str, sso_connector_id: str) -> int:
        """Logto's `deleteTokenSetSecretsByEnterpriseSsoConnectorId`."""
        owned = sa.select(sso_relations.c.secret_id).where(
            sso_relations.c.tenant_id == tenant_id, sso_relations.c.sso_connector_id == sso_connector_id
        )
        result = await conn.execute(sa.delete(secrets).where(secrets.c.tenant_id == tenant_id, secrets.c.id.in_(owned)))
        return int(result.rowcount or 0)
