"""Subject tokens: `sub_` ids valid 600 s, stored with the user, the context and the requesting
application, and consumable exactly once by the token-exchange grant."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from gatehouse_identity.persistence.subject_tokens import SubjectTokenStore
from gatehouse_identity.services.subject_tokens import SubjectTokenService
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables.identity import subject_tokens
from gatehouse_testing.issuer import TestIssuer
from httpx import AsyncClient, Response

Auth = dict[str, str]


def error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


async def create_user(client: AsyncClient, auth: Auth) -> str:
    response = await client.post("/api/users", json={}, headers=auth)
    assert response.status_code == 200, response.text
    user_id: str = response.json()["id"]
    return user_id


async def test_create_a_subject_token(
    client: AsyncClient, auth: Auth, database_url: str, test_issuer: TestIssuer
) -> None:
    user_id = await create_user(client, auth)
    response = await client.post(
        "/api/subject-tokens", json={"userId": user_id, "context": {"ticket": 42}}, headers=auth
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"subjectToken", "expiresIn"} and body["expiresIn"] == 600
    token = body["subjectToken"]
    assert token.startswith("sub_") and len(token) == 25
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(subject_tokens).where(subject_tokens.c.id == token))).one()
    finally:
        await engine.dispose()
    assert row.user_id == user_id and row.context == {"ticket": 42} and row.consumed_at is None
    assert row.creator_id  # the application whose management token asked
    remaining = (row.expires_at - datetime.now(UTC)).total_seconds()
    assert 590 < remaining <= 600


async def test_context_defaults_to_empty(client: AsyncClient, auth: Auth, database_url: str) -> None:
    user_id = await create_user(client, auth)
    response = await client.post("/api/subject-tokens", json={"userId": user_id}, headers=auth)
    assert response.status_code == 201
    engine = create_engine(database_url, pool_size=1)
    service = SubjectTokenService(engine, SubjectTokenStore())
    try:
        consumed = await service.consume("default", response.json()["subjectToken"])
        assert consumed is not None and consumed.user_id == user_id and consumed.context == {}
    finally:
        await engine.dispose()


async def test_unknown_user_is_404(client: AsyncClient, auth: Auth) -> None:
    response = await client.post("/api/subject-tokens", json={"userId": "nosuchuser00"}, headers=auth)
    error(response, 404, "entity.relation_foreign_key_not_found")


async def test_body_is_validated(client: AsyncClient, auth: Auth) -> None:
    for body in ({}, {"userId": 1}, {"userId": "u", "context": []}):
        error(await client.post("/api/subject-tokens", json=body, headers=auth), 400, "guard.invalid_input")


async def test_a_subject_token_is_consumed_once(client: AsyncClient, auth: Auth, database_url: str) -> None:
    user_id = await create_user(client, auth)
    token = (await client.post("/api/subject-tokens", json={"userId": user_id}, headers=auth)).json()["subjectToken"]
    engine = create_engine(database_url, pool_size=4)
    service = SubjectTokenService(engine, SubjectTokenStore())
    try:
        results = await asyncio.gather(*(service.consume("default", token) for _ in range(4)))
        assert sum(r is not None for r in results) == 1
        assert await service.consume("default", token) is None
        assert await service.consume("default", "sub_unknown") is None
    finally:
        await engine.dispose()


async def test_an_expired_or_foreign_tenant_token_cannot_be_consumed(
    client: AsyncClient, auth: Auth, database_url: str
) -> None:
    user_id = await create_user(client, auth)
    token = (await client.post("/api/subject-tokens", json={"userId": user_id}, headers=auth)).json()["subjectToken"]
    engine = create_engine(database_url, pool_size=1)
    service = SubjectTokenService(engine, SubjectTokenStore())
    try:
        assert await service.consume("other-tenant", token) is None
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(subject_tokens)
                .where(subject_tokens.c.id == token)
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        assert await service.consume("default", token) is None
    finally:
        await engine.dispose()


async def test_subject_tokens_need_a_management_token(client: AsyncClient) -> None:
    assert (await client.post("/api/subject-tokens", json={"userId": "x"})).status_code == 401
