"""SQL for the secret vault: encrypted token sets of social and enterprise SSO identities and which identity each
belongs to. Both kinds share the `secrets` row (sealed parts and metadata); a `TokenSetKind` names the relation table
that ties one to its identity: `SOCIAL` (connector id, target, identity id) or `SSO` (SSO connector id, issuer,
identity id)."""

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Generic, TypeVar

import msgspec
import sqlalchemy as sa
from gatehouse_schema.tables.identity import secret_enterprise_sso_connector_relations, secrets
from gatehouse_schema.tables.identity import secret_social_connector_relations as social_relations
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.domain.secret_vault import Sealed

FEDERATED_TOKEN_SET = "federated_token_set"


@dataclass(frozen=True)
class TokenSetSecret:
    """A token set's secret without its sealed parts (Logto's desensitized secret); each kind adds its relation."""

    tenant_id: str
    id: str
    user_id: str
    type: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SocialTokenSetSecret(TokenSetSecret):
    """A social identity's token set, desensitized."""

    connector_id: str
    identity_id: str
    target: str


@dataclass(frozen=True)
class SsoTokenSetSecret(TokenSetSecret):
    """An enterprise SSO identity's token set, desensitized (Logto's `EnterpriseSsoTokenSetSecret`)."""

    sso_connector_id: str
    issuer: str
    identity_id: str


S = TypeVar("S", bound=TokenSetSecret)

_SECRET_FIELDS = tuple(f.name for f in fields(TokenSetSecret))
_SEALED_COLUMNS = Sealed.__struct_fields__


@dataclass(frozen=True)
class TokenSetKind(Generic[S]):
    """Where a kind of token set names its identity: the relation `table` (its columns are `secret`'s own fields),
    the column of the identity's slot a new token set replaces the user's one in (`slot`), the column the user's
    token sets are read by (`key`) and the connector's column (`connector`)."""

    table: sa.Table
    secret: type[S]
    slot: str
    key: str
    connector: str

    def columns(self) -> tuple[sa.ColumnElement[Any], ...]:
        relation = (self.table.c[f.name] for f in fields(self.secret) if f.name not in _SECRET_FIELDS)
        return (*(secrets.c[name] for name in _SECRET_FIELDS), *relation)

    def joined(self) -> sa.Join:
        return secrets.join(
            self.table, sa.and_(self.table.c.tenant_id == secrets.c.tenant_id, self.table.c.secret_id == secrets.c.id)
        )

    def of_user(self, tenant_id: str, user_id: str, key: str | None, *sealed: str) -> sa.Select[Any]:
        """The user's token sets (through `key` only, when given), with the `sealed` columns too."""
        query = (
            sa.select(*self.columns(), *(secrets.c[name] for name in sealed))
            .select_from(self.joined())
            .where(
                secrets.c.tenant_id == tenant_id,
                secrets.c.user_id == user_id,
                secrets.c.type == FEDERATED_TOKEN_SET,
            )
        )
        return query if key is None else query.where(self.table.c[self.key] == key)


SOCIAL = TokenSetKind(social_relations, SocialTokenSetSecret, slot="target", key="target", connector="connector_id")
SSO = TokenSetKind(
    secret_enterprise_sso_connector_relations,
    SsoTokenSetSecret,
    slot="issuer",
    key="sso_connector_id",
    connector="sso_connector_id",
)


class SecretStore:
    """Every method runs on the caller's connection (its transaction)."""

    async def put_token_set(
        self,
        conn: AsyncConnection,
        kind: TokenSetKind[Any],
        tenant_id: str,
        secret_id: str,
        *,
        user_id: str,
        sealed: Sealed,
        metadata: dict[str, Any],
        **relation: str,
    ) -> None:
        """Replaces the user's token set in the identity's slot (a social target, an SSO IdP's issuer: Logto's
        upserts, delete then insert); `relation` is the kind's relation row (an SSO identity must be kept in
        `user_sso_identities` already)."""
        table = kind.table
        await conn.execute(
            sa.delete(secrets).where(
                secrets.c.tenant_id == tenant_id,
                secrets.c.user_id == user_id,
                secrets.c.id.in_(
                    sa.select(table.c.secret_id).where(
                        table.c.tenant_id == tenant_id, table.c[kind.slot] == relation[kind.slot]
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
                **msgspec.structs.asdict(sealed),
                metadata=metadata,
            )
        )
        await conn.execute(sa.insert(table).values(tenant_id=tenant_id, secret_id=secret_id, **relation))

    async def token_sets(
        self, conn: AsyncConnection, kind: TokenSetKind[S], tenant_id: str, user_id: str, key: str | None = None
    ) -> dict[str, S]:
        """The user's token sets by the kind's key (a social target, an SSO connector id)."""
        query = kind.of_user(tenant_id, user_id, key).order_by(secrets.c.created_at, secrets.c.id)
        rows = await conn.execute(query)
        return {getattr(row, kind.key): kind.secret(**row._mapping) for row in rows}

    async def sealed_token_set(
        self, conn: AsyncConnection, kind: TokenSetKind[S], tenant_id: str, user_id: str, key: str
    ) -> tuple[S, Sealed] | None:
        """The user's (latest) token set through `key`, with its sealed parts (Logto's
        `findEnterpriseSsoTokenSetSecretByUserIdAndConnectorId` for SSO)."""
        query = kind.of_user(tenant_id, user_id, key, *_SEALED_COLUMNS)
        query = query.order_by(secrets.c.created_at.desc(), secrets.c.id).limit(1)
        row = (await conn.execute(query)).one_or_none()
        if row is None:
            return None
        values = dict(row._mapping)
        sealed = Sealed(**{k: values.pop(k) for k in _SEALED_COLUMNS})
        return kind.secret(**values), sealed

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

    async def delete_of_connector(
        self, conn: AsyncConnection, kind: TokenSetKind[Any], tenant_id: str, connector_id: str
    ) -> int:
        """The token sets kept through the connector (Logto's `deleteTokenSetSecretsByEnterpriseSsoConnectorId`
        for SSO)."""
        table = kind.table
        owned = sa.select(table.c.secret_id).where(
            table.c.tenant_id == tenant_id, table.c[kind.connector] == connector_id
        )
        result = await conn.execute(sa.delete(secrets).where(secrets.c.tenant_id == tenant_id, secrets.c.id.in_(owned)))
        return int(result.rowcount or 0)
