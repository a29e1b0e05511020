"""Custom profile fields: Logto's per-type validation, reserved names, unique names, `sieOrder`, and deletion
removing a field from the lists that name it."""

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_management.seed import seed_tenant
from gatehouse_management.services.sign_in_experience import default_settings
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables.management import account_centers, custom_profile_fields, sign_in_experiences
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

PATH = "/api/custom-profile-fields"
FULLNAME = {
    "name": "fullname",
    "type": "Fullname",
    "required": True,
    "config": {
        "parts": [
            {"enabled": True, "name": "givenName", "type": "Text", "required": True},
            {"enabled": True, "name": "familyName", "type": "Text", "required": True, "label": "Surname"},
        ]
    },
}


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    await seed_tenant(engine, "default")
    async with engine.begin() as conn:
        await conn.execute(sa.update(sign_in_experiences).values(settings=msgspec.to_builtins(default_settings())))
        await conn.execute(sa.delete(custom_profile_fields))
        await conn.execute(sa.delete(account_centers))
    yield engine
    await engine.dispose()


async def create(client: AsyncClient, auth: dict[str, str], body: dict[str, Any]) -> Response:
    return await client.post(PATH, json=body, headers=auth)


def error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


async def test_create_stores_logtos_row_with_defaults(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    response = await create(client, auth, {"name": "company", "type": "Text", "required": False})
    assert response.status_code == 201, response.text
    field = response.json()
    assert {k: field[k] for k in ("tenantId", "name", "type", "label", "description", "required", "config")} == {
        "tenantId": "default",
        "name": "company",
        "type": "Text",
        "label": "",
        "description": None,
        "required": False,
        "config": {},
    }
    assert len(field["id"]) == 21 and isinstance(field["createdAt"], int) and field["sieOrder"] == 1
    assert (await client.get(f"{PATH}/company", headers=auth)).json() == field


async def test_every_type_is_accepted_with_its_config(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    bodies = [
        {"name": "nickname2", "type": "Text", "required": True, "config": {"minLength": 1, "maxLength": 20}},
        {"name": "age", "type": "Number", "required": False, "config": {"minValue": 0, "maxValue": 150}},
        {"name": "joined", "type": "Date", "required": False, "config": {"format": "yyyy-MM-dd"}},
        {"name": "newsletter", "type": "Checkbox", "required": False, "config": {"defaultValue": "true"}},
        {"name": "plan", "type": "Select", "required": True, "config": {"options": [{"value": "a", "label": "A"}]}},
        {"name": "homepage", "type": "Url", "required": False},
        {"name": "code", "type": "Regex", "required": False, "config": {"format": "^[A-Z]{3}$"}},
        {
            "name": "home",
            "type": "Address",
            "required": False,
            "config": {
                "parts": [
                    {
                        "enabled": True,
                        "name": "country",
                        "type": "Select",
                        "required": True,
                        "config": {"options": [{"value": "FR"}]},
                    },
                ]
            },
        },
        FULLNAME,
    ]
    for body in bodies:
        response = await create(client, auth, body)
        assert response.status_code == 201, (body, response.text)
        assert response.json()["config"] == body.get("config", {})
    listed = (await client.get(PATH, headers=auth)).json()
    assert [f["name"] for f in listed] == [b["name"] for b in bodies]
    assert [f["sieOrder"] for f in listed] == list(range(1, len(bodies) + 1))


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "first-name", "type": "Text", "required": False}, "custom_profile_fields.invalid_name"),
        ({"name": "", "type": "Text", "required": False}, "custom_profile_fields.invalid_name"),
        (
            {"name": "preferredUsername", "type": "Text", "required": False},
            "custom_profile_fields.name_conflict_built_in_prop",
        ),
        (
            {"name": "adminConsolePreferences", "type": "Text", "required": False},
            "custom_profile_fields.name_conflict_custom_data",
        ),
        (
            {"name": "primaryEmail", "type": "Text", "required": False},
            "custom_profile_fields.name_conflict_sign_in_identifier",
        ),
        (
            {"name": "phone", "type": "Text", "required": False},
            "custom_profile_fields.name_conflict_sign_in_identifier",
        ),
        (
            {"name": "bio", "type": "Text", "required": False, "config": {"minLength": 5, "maxLength": 2}},
            "custom_profile_fields.invalid_min_max_input",
        ),
        (
            {"name": "age", "type": "Number", "required": False, "config": {"minValue": 9, "maxValue": 1}},
            "custom_profile_fields.invalid_min_max_input",
        ),
        (
            {"name": "home", "type": "Address", "required": False, "config": {"parts": []}},
            "custom_profile_fields.invalid_address_components",
        ),
        (
            {"name": "full", "type": "Fullname", "required": False, "config": {"parts": []}},
            "custom_profile_fields.invalid_fullname_components",
        ),
        (
            {
                "name": "home",
                "type": "Address",
                "required": False,
                "config": {"parts": [{"enabled": True, "name": "country", "type": "Fullname", "required": True}]},
            },
            "custom_profile_fields.invalid_sub_component_type",
        ),
    ],
)
async def test_logtos_field_checks_are_400(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, body: dict[str, Any], code: str
) -> None:
    error(await create(client, auth, body), 400, code)
    assert (await client.get(PATH, headers=auth)).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "type": "Password", "required": False},
        {"name": "x", "type": "Text"},
        {"type": "Text", "required": False},
        {"name": "x", "type": "Checkbox", "required": True},
        {"name": "x", "type": "Checkbox", "required": False, "config": {"defaultValue": "yes"}},
        {"name": "x", "type": "Select", "required": False},
        {"name": "x", "type": "Regex", "required": False, "config": {}},
        {"name": "x", "type": "Date", "required": False, "config": {"placeholder": "when"}},
        {"name": "x", "type": "Text", "required": False, "label": ""},
        {
            "name": "x",
            "type": "Fullname",
            "required": False,
            "config": {"parts": [{"enabled": True, "name": "nickname", "type": "Text", "required": False}]},
        },
        {"name": "x" * 129, "type": "Text", "required": False},
    ],
)
async def test_bodies_the_guard_refuses_are_400_guard_invalid_input(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, body: dict[str, Any]
) -> None:
    error(await create(client, auth, body), 400, "guard.invalid_input")


async def test_a_taken_name_is_422_unique_integrity_violation(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    assert (await create(client, auth, {"name": "company", "type": "Text", "required": False})).status_code == 201
    error(
        await create(client, auth, {"name": "company", "type": "Url", "required": True}),
        422,
        "entity.unique_integrity_violation",
    )


async def test_batch_creates_in_order_or_nothing(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    assert (await create(client, auth, {"name": "first", "type": "Text", "required": False})).status_code == 201
    batch = [{"name": "second", "type": "Url", "required": False}, FULLNAME]
    response = await client.post(f"{PATH}/batch", json=batch, headers=auth)
    assert response.status_code == 201, response.text
    assert [(f["name"], f["sieOrder"]) for f in response.json()] == [("second", 2), ("fullname", 3)]
    duplicate = [
        {"name": "third", "type": "Url", "required": False},
        {"name": "first", "type": "Url", "required": False},
    ]
    error(await client.post(f"{PATH}/batch", json=duplicate, headers=auth), 422, "entity.unique_integrity_violation")
    invalid = [
        {"name": "third", "type": "Url", "required": False},
        {"name": "bad-name", "type": "Url", "required": False},
    ]
    error(await client.post(f"{PATH}/batch", json=invalid, headers=auth), 400, "custom_profile_fields.invalid_name")
    assert [f["name"] for f in (await client.get(PATH, headers=auth)).json()] == ["first", "second", "fullname"]


async def test_batch_takes_at_most_20_fields(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    batch = [{"name": f"field{i}", "type": "Text", "required": False} for i in range(21)]
    error(await client.post(f"{PATH}/batch", json=batch, headers=auth), 400, "guard.invalid_input")
    assert (await client.post(f"{PATH}/batch", json=batch[:20], headers=auth)).status_code == 201


async def test_put_sets_the_given_keys_and_keeps_the_others(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    created = (
        await create(
            client,
            auth,
            {
                "name": "bio",
                "type": "Text",
                "required": False,
                "label": "Bio",
                "description": "About you",
                "config": {"maxLength": 10},
            },
        )
    ).json()
    response = await client.put(
        f"{PATH}/bio", json={"type": "Text", "required": True, "config": {"minLength": 2}}, headers=auth
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["required"] is True and updated["config"] == {"minLength": 2}
    assert updated["label"] == "Bio" and updated["description"] == "About you"
    assert updated["id"] == created["id"] and updated["sieOrder"] == created["sieOrder"]


async def test_put_checks_strictly(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    error(
        await client.put(f"{PATH}/agree", json={"type": "Checkbox", "required": False}, headers=auth),
        400,
        "custom_profile_fields.invalid_default_value",
    )
    error(
        await client.put(
            f"{PATH}/plan", json={"type": "Select", "required": False, "config": {"options": []}}, headers=auth
        ),
        400,
        "custom_profile_fields.invalid_options",
    )
    error(
        await client.put(
            f"{PATH}/code", json={"type": "Regex", "required": False, "config": {"format": "(["}}, headers=auth
        ),
        400,
        "custom_profile_fields.invalid_regex_format",
    )
    part_without_options = {
        "type": "Address",
        "required": False,
        "config": {"parts": [{"enabled": True, "name": "country", "type": "Select", "required": True}]},
    }
    error(await client.put(f"{PATH}/home", json=part_without_options, headers=auth), 400, "guard.invalid_input")
    error(
        await client.put(f"{PATH}/username", json={"type": "Url", "required": False}, headers=auth),
        400,
        "custom_profile_fields.name_conflict_sign_in_identifier",
    )


async def test_unknown_names_are_404(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    error(await client.get(f"{PATH}/nobody", headers=auth), 404, "entity.not_found")
    error(
        await client.put(f"{PATH}/nobody", json={"type": "Url", "required": False}, headers=auth),
        404,
        "entity.not_exists",
    )


async def test_sie_order_sets_the_order_of_the_named_fields(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    for name in ("a", "b", "c"):
        assert (await create(client, auth, {"name": name, "type": "Text", "required": False})).status_code == 201
    order = {"order": [{"name": "c", "sieOrder": 1}, {"name": "a", "sieOrder": 3}]}
    response = await client.post(f"{PATH}/properties/sie-order", json=order, headers=auth)
    assert response.status_code == 200, response.text
    assert [(f["name"], f["sieOrder"]) for f in response.json()] == [("c", 1), ("a", 3)]
    assert [f["name"] for f in (await client.get(PATH, headers=auth)).json()] == ["c", "b", "a"]
    empty = await client.post(f"{PATH}/properties/sie-order", json={"order": []}, headers=auth)
    assert empty.status_code == 200 and empty.json() == []


async def test_sie_order_refuses_unknown_duplicate_and_out_of_range_entries(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    assert (await create(client, auth, {"name": "a", "type": "Text", "required": False})).status_code == 201
    sie = f"{PATH}/properties/sie-order"
    body = error(
        await client.post(sie, json={"order": [{"name": "zz", "sieOrder": 1}]}, headers=auth),
        400,
        "custom_profile_fields.entity_not_exists_with_names",
    )
    assert body["message"] == "Cannot find entities with the given names: zz"
    twice = {"order": [{"name": "a", "sieOrder": 1}, {"name": "a", "sieOrder": 2}]}
    assert error(await client.post(sie, json=twice, headers=auth), 400, "request.invalid_input")["data"] == {
        "duplicateNames": ["a"]
    }
    error(
        await client.post(sie, json={"order": [{"name": "a", "sieOrder": 40000}]}, headers=auth),
        400,
        "guard.invalid_input",
    )
    error(await client.post(sie, json={"order": [{"name": "a"}]}, headers=auth), 400, "guard.invalid_input")
    huge = b'{"order": [{"name": "a", "sieOrder": 1e400}]}'
    headers = {**auth, "content-type": "application/json"}
    error(await client.post(sie, content=huge, headers=headers), 400, "guard.invalid_input")
    assert (await client.get(f"{PATH}/a", headers=auth)).json()["sieOrder"] == 1


async def test_delete_removes_the_field_from_the_lists_that_name_it(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    for name in ("company", "team"):
        assert (await create(client, auth, {"name": name, "type": "Text", "required": False})).status_code == 201
    patched = await client.patch(
        "/api/account-center", json={"profileFields": [{"name": "company"}, {"name": "team"}]}, headers=auth
    )
    assert patched.status_code == 200
    async with engine.begin() as conn:  # the sign-in experience PATCH ignores it (dev feature), so write it here
        settings = {**msgspec.to_builtins(default_settings()), "signUpProfileFields": [{"name": "company"}]}
        await conn.execute(sa.update(sign_in_experiences).values(settings=settings))
    assert (await client.delete(f"{PATH}/company", headers=auth)).status_code == 204
    error(await client.get(f"{PATH}/company", headers=auth), 404, "entity.not_found")
    assert (await client.get("/api/account-center", headers=auth)).json()["profileFields"] == [{"name": "team"}]
    assert (await client.get("/api/sign-in-exp", headers=auth)).json()["signUpProfileFields"] == []
    assert [f["name"] for f in (await client.get(PATH, headers=auth)).json()] == ["team"]


async def test_deleting_an_unknown_name_is_204_as_logto(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    assert (await client.delete(f"{PATH}/nobody", headers=auth)).status_code == 204
