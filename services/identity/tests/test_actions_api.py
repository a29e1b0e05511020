"""Logto's Actions configs (`/api/configs/actions*`): stored per action type as given, Logto's statuses, and the
dry run of a script in the QuickJS sandbox."""

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_schema.tables.identity import oidc_configs
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

Auth = dict[str, str]
BASE = "/api/configs/actions"
SIGN_IN = f"{BASE}/action.postSignIn"
FIRST_FACTOR = f"{BASE}/action.postFirstFactorVerification"
SCRIPT = "const runAction = async ({ event }) => ({ action: 'updateUser', user: { name: event.user.name } });"


@pytest_asyncio.fixture(autouse=True)
async def no_actions(db: AsyncEngine) -> AsyncIterator[None]:
    async def clear() -> None:
        async with db.begin() as conn:
            await conn.execute(sa.delete(oidc_configs).where(oidc_configs.c.key.like("action.%")))

    await clear()
    yield
    await clear()


def error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.json()


async def test_put_creates_with_201_then_replaces_with_200(client: AsyncClient, auth: Auth) -> None:
    value = {"script": SCRIPT, "environmentVariables": {"K": "v"}, "enabled": True, "onExecutionError": "allow"}
    created = await client.put(SIGN_IN, json=value, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json() == value
    replaced = await client.put(SIGN_IN, json={"script": SCRIPT}, headers=auth)
    assert replaced.status_code == 200 and replaced.json() == {"script": SCRIPT}
    assert (await client.get(SIGN_IN, headers=auth)).json() == {"script": SCRIPT}


async def test_the_list_holds_only_configured_actions_in_logto_order(client: AsyncClient, auth: Auth) -> None:
    assert (await client.get(BASE, headers=auth)).json() == []
    await client.put(SIGN_IN, json={"script": "a", "contextSample": {"user": {}}}, headers=auth)
    await client.put(FIRST_FACTOR, json={"script": "b"}, headers=auth)
    listed = (await client.get(BASE, headers=auth)).json()
    assert listed == [
        {"key": "action.postFirstFactorVerification", "value": {"script": "b"}},
        {"key": "action.postSignIn", "value": {"script": "a", "contextSample": {"user": {}}}},
    ]


async def test_patch_merges_shallowly_and_a_missing_action_is_404(client: AsyncClient, auth: Auth) -> None:
    error(await client.patch(SIGN_IN, json={"enabled": True}, headers=auth), 404, "entity.not_exists_with_id")
    await client.put(SIGN_IN, json={"script": SCRIPT, "environmentVariables": {"A": "1", "B": "2"}}, headers=auth)
    patched = await client.patch(SIGN_IN, json={"enabled": True, "environmentVariables": {"C": "3"}}, headers=auth)
    assert patched.status_code == 200, patched.text
    assert patched.json() == {"script": SCRIPT, "environmentVariables": {"C": "3"}, "enabled": True}


async def test_get_and_delete_of_a_missing_action_are_404(client: AsyncClient, auth: Auth) -> None:
    error(await client.get(SIGN_IN, headers=auth), 404, "entity.not_exists_with_id")
    error(await client.delete(SIGN_IN, headers=auth), 404, "entity.not_found")
    await client.put(SIGN_IN, json={"script": SCRIPT}, headers=auth)
    assert (await client.delete(SIGN_IN, headers=auth)).status_code == 204
    error(await client.get(SIGN_IN, headers=auth), 404, "entity.not_exists_with_id")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"script": 1},
        {"script": "x", "unknown": True},
        {"script": "x", "onExecutionError": "ignore"},
        {"script": "x", "environmentVariables": {"A": 1}},
    ],
)
async def test_an_invalid_body_is_400_and_stores_nothing(
    client: AsyncClient, auth: Auth, body: dict[str, object]
) -> None:
    error(await client.put(SIGN_IN, json=body, headers=auth), 400, "guard.invalid_input")
    assert (await client.get(BASE, headers=auth)).json() == []


async def test_an_unknown_action_type_is_400(client: AsyncClient, auth: Auth) -> None:
    error(
        await client.put(f"{BASE}/action.postRegister", json={"script": "x"}, headers=auth), 400, "guard.invalid_input"
    )


async def test_the_dry_run_returns_what_the_script_returns(client: AsyncClient, auth: Auth) -> None:
    body = {"script": SCRIPT, "actionType": "action.postSignIn", "event": {"user": {"name": "Ada"}}}
    ran = await client.post(f"{BASE}/test", json=body, headers=auth)
    assert ran.status_code == 200, ran.text
    assert ran.json() == {"action": "updateUser", "user": {"name": "Ada"}}
    unchecked = {**body, "script": "const runAction = () => ({ action: 'whatever', user: { id: 'x' } });"}
    assert (await client.post(f"{BASE}/test", json=unchecked, headers=auth)).json()["action"] == "whatever"
    assert (await client.get(BASE, headers=auth)).json() == []  # nothing saved


async def test_the_dry_run_tells_undefined_from_null(client: AsyncClient, auth: Auth) -> None:
    body = {"actionType": "action.postSignIn", "event": None}
    nothing = await client.post(f"{BASE}/test", json={**body, "script": "const runAction = () => {};"}, headers=auth)
    assert nothing.status_code == 204 and nothing.content == b""
    null = await client.post(f"{BASE}/test", json={**body, "script": "const runAction = () => null;"}, headers=auth)
    assert null.status_code == 200 and null.json() is None
    text = await client.post(f"{BASE}/test", json={**body, "script": "const runAction = () => 'abc';"}, headers=auth)
    assert text.json() == "abc"


async def test_a_failing_script_is_422_action_general_with_secrets_redacted(client: AsyncClient, auth: Auth) -> None:
    script = (
        "const runAction = ({ environmentVariables, event }) => {"
        " throw new Error(environmentVariables.TOKEN + ' ' + event.password); };"
    )
    body = {
        "script": script,
        "actionType": "action.postFirstFactorVerification",
        "event": {"password": "hunter22"},
        "environmentVariables": {"TOKEN": "s3cr3t-value"},
    }
    response = await client.post(f"{BASE}/test", json=body, headers=auth)
    error(response, 422, "action.general")
    assert "s3cr3t-value" not in response.text and "hunter22" not in response.text
    assert "[redacted]" in response.json()["data"]["message"]


async def test_a_script_that_does_not_parse_or_never_ends_is_422(client: AsyncClient, auth: Auth) -> None:
    body = {"actionType": "action.postSignIn", "event": {}}
    error(
        await client.post(f"{BASE}/test", json={**body, "script": "const runAction = ("}, headers=auth),
        422,
        "action.general",
    )
    error(
        await client.post(f"{BASE}/test", json={**body, "script": "const x = 1;"}, headers=auth), 422, "action.general"
    )


async def test_the_routes_need_a_management_token(client: AsyncClient) -> None:
    assert (await client.get(BASE)).status_code == 401
    assert (await client.post(f"{BASE}/test", json={})).status_code == 401
