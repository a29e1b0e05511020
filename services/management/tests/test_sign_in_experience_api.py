"""The tenant's sign-in experience: Logto's defaults after the seed, its validation rules for a tenant without
email or SMS connectors and with an Email one, the password policy check and the username case-conflict report."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_connectors.smtp import FACTORY_ID as SMTP
from gatehouse_management.seed import seed_tenant
from gatehouse_management.services.sign_in_experience import default_settings
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables.identity import users
from gatehouse_schema.tables.management import connectors, custom_phrases, outbox, sign_in_experiences
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

NO_PWNED = {"rejects": {"pwned": False, "repetitionAndSequence": True, "userInfo": True, "words": []}}


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The seeded tenant, its sign-in experience back to Logto's defaults, no custom phrases and no connectors."""
    engine = create_engine(database_url, pool_size=1)
    await seed_tenant(engine, "default")
    async with engine.begin() as conn:
        settings = msgspec.to_builtins(default_settings())
        await conn.execute(sa.update(sign_in_experiences).values(settings=settings))
        await conn.execute(sa.delete(custom_phrases))
        await conn.execute(sa.delete(connectors))
    yield engine
    await engine.dispose()


async def patch(client: AsyncClient, auth: dict[str, str], body: dict[str, Any]) -> Any:
    return await client.patch("/api/sign-in-exp", json=body, headers=auth)


def error_code(response: Any) -> str:
    return str(response.json()["code"])


async def test_seeded_tenant_has_logtos_default_sign_in_experience(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    response = await client.get("/api/sign-in-exp", headers=auth)
    assert response.status_code == 200, response.text
    sie = response.json()
    assert sie["tenantId"] == "default" and sie["id"] == "default"
    assert sie["signIn"]["methods"] == [
        {"identifier": "username", "password": True, "verificationCode": False, "isPasswordPrimary": True}
    ]
    assert sie["signUp"] == {"identifiers": ["username"], "password": True, "verify": False}
    assert sie["languageInfo"] == {"autoDetect": True, "fallbackLanguage": "en"}
    assert sie["passwordPolicy"] == {} and sie["mfa"] == {"factors": [], "policy": "UserControlled"}
    assert sie["signInMode"] == "SignInAndRegister" and sie["socialSignInConnectorTargets"] == []
    assert sie["termsOfUseUrl"] is None and sie["customUiAssets"] is None and sie["forgotPasswordMethods"] == []
    assert sie["usernamePolicy"]["caseSensitive"] is True


async def test_seeding_again_keeps_the_tenants_changes(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    assert (await patch(client, auth, {"customCss": "body{}"})).status_code == 200
    await seed_tenant(engine, "default")
    assert (await client.get("/api/sign-in-exp", headers=auth)).json()["customCss"] == "body{}"


async def test_patch_replaces_the_given_fields_whole_and_publishes_the_change(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    body = {
        "color": {"primaryColor": "#123", "isDarkModeEnabled": True, "darkPrimaryColor": "#abcdef"},
        "branding": {"logoUrl": "https://example.com/logo.png"},
        "passwordPolicy": {"length": {"min": 10}},
        "termsOfUseUrl": "",
        "signInMode": "SignIn",
    }
    response = await patch(client, auth, body)
    assert response.status_code == 200, response.text
    sie = response.json()
    assert sie["color"] == body["color"] and sie["branding"] == body["branding"]
    assert sie["passwordPolicy"] == {"length": {"min": 10, "max": 256}}
    assert sie["termsOfUseUrl"] == "" and sie["signInMode"] == "SignIn"
    assert sie["signUp"]["identifiers"] == ["username"]  # untouched fields stay
    assert (await client.get("/api/sign-in-exp", headers=auth)).json() == sie
    async with engine.connect() as conn:
        event = (
            await conn.execute(
                sa.select(outbox.c.payload)
                .where(outbox.c.subject.like("%.SignInExperience.Updated"))
                .order_by(outbox.c.id.desc())
                .limit(1)
            )
        ).scalar_one()
    data = msgspec.json.decode(event)["data"]
    assert data["changed"] == ["branding", "color", "passwordPolicy", "signInMode", "termsOfUseUrl"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"signUp": {"identifiers": ["email"], "password": True, "verify": True}}, "enabled_connector_not_found"),
        ({"signUp": {"identifiers": ["phone"], "password": False, "verify": True}}, "enabled_connector_not_found"),
        ({"signUp": {"identifiers": ["email"], "password": True, "verify": False}}, "passwordless_requires_verify"),
        (
            {"signUp": {"identifiers": ["username", "username"], "password": True, "verify": False}},
            "duplicated_sign_up_identifiers",
        ),
        (
            {
                "signUp": {
                    "identifiers": [],
                    "password": True,
                    "verify": False,
                    "secondaryIdentifiers": [{"identifier": "username"}],
                }
            },
            "missing_sign_up_identifiers",
        ),
        (
            {
                "signIn": {
                    "methods": [
                        {"identifier": "email", "password": True, "verificationCode": False, "isPasswordPrimary": True}
                    ]
                }
            },
            "miss_sign_up_identifier_in_sign_in",
        ),
        (
            {
                "signIn": {
                    "methods": [
                        {
                            "identifier": "username",
                            "password": False,
                            "verificationCode": False,
                            "isPasswordPrimary": True,
                        }
                    ]
                }
            },
            "at_least_one_authentication_factor",
        ),
        (
            {
                "signIn": {
                    "methods": [
                        {"identifier": "email", "password": False, "verificationCode": True, "isPasswordPrimary": False}
                    ]
                }
            },
            "enabled_connector_not_found",
        ),
        ({"mfa": {"factors": ["Totp", "Totp"], "policy": "UserControlled"}}, "duplicated_mfa_factors"),
        ({"mfa": {"factors": ["BackupCode"], "policy": "UserControlled"}}, "backup_code_cannot_be_enabled_alone"),
        ({"languageInfo": {"autoDetect": True, "fallbackLanguage": "fi"}}, "unsupported_default_language"),
        ({"forgotPasswordMethods": ["EmailVerificationCode"]}, "forgot_password_method_requires_connector"),
        ({"emailBlocklistPolicy": {"customBlocklist": ["not an email"]}}, "invalid_custom_email_blocklist_format"),
    ],
)
async def test_logtos_sign_in_experience_rules_are_400(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, body: dict[str, Any], code: str
) -> None:
    response = await patch(client, auth, body)
    assert response.status_code == 400, response.text
    assert error_code(response) == f"sign_in_experiences.{code}"


async def test_missing_connector_is_named(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    response = await patch(client, auth, {"signUp": {"identifiers": ["phone"], "password": False, "verify": True}})
    assert response.json()["message"] == "Enabled Sms connector not found."


async def add_smtp_connector(engine: AsyncEngine) -> None:
    """An SMTP (Email) connector row, as `POST /api/connectors` writes it (nothing is sent here)."""
    config = {"host": "127.0.0.1", "port": 2525, "auth": {"user": "u", "pass": "p"}, "fromEmail": "a@b.test"}
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(connectors).values(
                tenant_id="default",
                id="smtp-sie",
                connector_id=SMTP,
                config=config,
                metadata={},
                sync_profile=False,
                enable_token_storage=False,
                created_at=sa.func.now(),
            )
        )


EMAIL_CODE_SIGN_IN = {"identifier": "email", "password": False, "verificationCode": True, "isPasswordPrimary": False}


async def test_an_email_connector_enables_email_sign_up_and_sign_in_by_code(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    body = {
        "signUp": {"identifiers": ["email"], "password": False, "verify": True},
        "signIn": {"methods": [EMAIL_CODE_SIGN_IN]},
    }
    refused = await patch(client, auth, body)
    assert refused.status_code == 400 and refused.json()["message"] == "Enabled Email connector not found."
    await add_smtp_connector(engine)
    accepted = await patch(client, auth, body)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["signUp"] == body["signUp"] and accepted.json()["signIn"] == body["signIn"]
    email_forgot = await patch(client, auth, {"forgotPasswordMethods": ["EmailVerificationCode"]})
    assert email_forgot.status_code == 200, email_forgot.text
    # still no SMS connector: phone stays refused, as before
    for refused_body in (
        {
            "signUp": {
                "identifiers": ["email"],
                "password": False,
                "verify": True,
                "secondaryIdentifiers": [{"identifier": "phone", "verify": True}],
            }
        },
        {"signIn": {"methods": [EMAIL_CODE_SIGN_IN, {**EMAIL_CODE_SIGN_IN, "identifier": "phone"}]}},
    ):
        response = await patch(client, auth, refused_body)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "sign_in_experiences.enabled_connector_not_found"
        assert response.json()["message"] == "Enabled Sms connector not found."
    sms_forgot = await patch(
        client, auth, {"forgotPasswordMethods": ["EmailVerificationCode", "PhoneVerificationCode"]}
    )
    assert error_code(sms_forgot) == "sign_in_experiences.forgot_password_method_requires_connector"
    assert (
        sms_forgot.json()["message"]
        == "Forgot password method requires a corresponding sms connector to be configured."
    )


@pytest.mark.parametrize(
    "body",
    [
        {"adaptiveMfa": {"enabled": True}},
        {"mfa": {"factors": ["Totp"], "policy": "PromptOnlyAtSignInMandatory"}},
        {"adaptiveMfa": {"enabled": True}, "mfa": {"factors": ["Totp"], "policy": "UserControlled"}},
    ],
)
async def test_adaptive_mfa_rules_are_422(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, body: dict[str, Any]
) -> None:
    response = await patch(client, auth, body)
    assert response.status_code == 422 and error_code(response).startswith("sign_in_experiences."), response.text


async def test_mfa_can_be_enabled_and_disabling_it_resets_adaptive_mfa(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    mfa = {"factors": ["Totp", "BackupCode"], "policy": "PromptOnlyAtSignInMandatory"}
    enabled = await patch(client, auth, {"mfa": mfa, "adaptiveMfa": {"enabled": True}})
    assert enabled.status_code == 200, enabled.text
    disabled = await patch(client, auth, {"mfa": {"factors": [], "policy": "UserControlled"}})
    assert disabled.status_code == 200 and disabled.json()["adaptiveMfa"] == {"enabled": False}


async def test_email_sign_up_with_sign_in_consistency_and_connector_targets(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    body = {
        "signUp": {"identifiers": ["username"], "password": True, "verify": False},
        "signIn": {
            "methods": [
                {"identifier": "username", "password": True, "verificationCode": False, "isPasswordPrimary": True},
                {"identifier": "email", "password": True, "verificationCode": False, "isPasswordPrimary": True},
            ]
        },
        "socialSignInConnectorTargets": ["google", "github"],
        "singleSignOnEnabled": True,
    }
    response = await client.patch("/api/sign-in-exp?removeUnusedDemoSocialConnector=1", json=body, headers=auth)
    assert response.status_code == 200, response.text
    sie = response.json()
    assert len(sie["signIn"]["methods"]) == 2 and sie["singleSignOnEnabled"] is True
    assert sie["socialSignInConnectorTargets"] == []  # only targets of existing social connectors are kept: none


async def test_a_language_with_custom_phrases_can_be_the_fallback(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    assert (
        await client.put("/api/custom-phrases/fi", json={"input": {"username": "Käyttäjä"}}, headers=auth)
    ).status_code == 201
    response = await patch(client, auth, {"languageInfo": {"autoDetect": False, "fallbackLanguage": "fi"}})
    assert response.status_code == 200 and response.json()["languageInfo"]["fallbackLanguage"] == "fi"


@pytest.mark.parametrize(
    "body",
    [
        {"color": {"primaryColor": "blue", "isDarkModeEnabled": False, "darkPrimaryColor": "#000"}},
        {"color": {"primaryColor": "#000"}},
        {"termsOfUseUrl": "not a url"},
        {"supportEmail": "nobody"},
        {"branding": {"logoUrl": "logo.png"}},
        {"languageInfo": {"autoDetect": True, "fallbackLanguage": "xx-XX"}},
        {"passwordPolicy": {"characterTypes": {"min": 5}}},
        {"passwordPolicy": {"length": {"min": 0}}},
        {"mfa": {"factors": ["Sms"], "policy": "UserControlled"}},
        {"signInMode": "Everything"},
    ],
)
async def test_malformed_settings_are_guard_errors(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, body: dict[str, Any]
) -> None:
    response = await patch(client, auth, body)
    assert response.status_code == 400 and error_code(response) == "guard.invalid_input", response.text


@pytest.mark.parametrize(
    "body",
    [
        {"hideLogtoBranding": True},
        {"customUiCsp": {"scriptSrc": ["https://cdn.example.com"]}},
        {"emailBlocklistPolicy": {"blockDisposableAddresses": True}},
        {"passwordExpiration": {"enabled": True, "validPeriodDays": 90}},
    ],
)
async def test_cloud_and_dev_features_are_refused_as_in_open_source_logto(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, body: dict[str, Any]
) -> None:
    response = await patch(client, auth, body)
    assert response.status_code == 400 and error_code(response) == "request.invalid_input", response.text


async def test_dev_gated_fields_are_ignored(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    response = await patch(client, auth, {"usernamePolicy": {"caseSensitive": False}, "signUpProfileFields": []})
    assert response.status_code == 200 and response.json()["usernamePolicy"]["caseSensitive"] is True


async def check(client: AsyncClient, auth: dict[str, str], body: dict[str, Any]) -> Any:
    return await client.post("/api/sign-in-exp/default/check-password", json=body, headers=auth)


async def test_check_password_accepts_a_strong_password(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    rejects = {**NO_PWNED["rejects"], "userInfo": False}
    await patch(client, auth, {"passwordPolicy": {"rejects": rejects}})
    response = await check(client, auth, {"password": "Tr0ub4dor&horse"})
    assert response.status_code == 200 and response.json() == {"result": True}


async def test_check_password_lists_logtos_issues_with_400(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    policy = {**NO_PWNED, "characterTypes": {"min": 3}, "rejects": {**NO_PWNED["rejects"], "userInfo": False}}
    await patch(client, auth, {"passwordPolicy": policy})
    response = await check(client, auth, {"password": "123456"})
    assert response.status_code == 400
    assert response.json() == {
        "result": False,
        "issues": [
            {"code": "password_rejected.too_short", "interpolation": {"min": 8}},
            {"code": "password_rejected.character_types", "interpolation": {"min": 3}},
            {"code": "password_rejected.restricted.sequence"},
        ],
    }


async def test_check_password_rejects_the_users_own_information(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, make_user: Callable[..., Any]
) -> None:
    await patch(client, auth, {"passwordPolicy": NO_PWNED})
    user_id = await make_user(name="Grace Hopper")
    async with engine.begin() as conn:
        await conn.execute(sa.update(users).where(users.c.id == user_id).values(username="amazinggrace"))
    response = await check(client, auth, {"password": "AmazingGrace1", "userId": user_id})
    assert response.status_code == 400
    assert response.json()["issues"] == [{"code": "password_rejected.restricted.user_info"}]


async def test_check_password_needs_a_user_when_the_policy_rejects_user_info(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    await patch(client, auth, {"passwordPolicy": NO_PWNED})
    missing = await check(client, auth, {"password": "whatever-it-is"})
    assert missing.status_code == 400 and error_code(missing) == "request.invalid_input"
    unknown = await check(client, auth, {"password": "whatever-it-is", "userId": "nobody"})
    assert unknown.status_code == 404 and error_code(unknown) == "entity.not_exists_with_id"


async def test_pwned_rule_is_skipped_without_a_configured_range_api(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    rejects = {"pwned": True, "repetitionAndSequence": False, "userInfo": False, "words": []}
    await patch(client, auth, {"passwordPolicy": {"rejects": rejects}})
    assert (await check(client, auth, {"password": "password1"})).json() == {"result": True}


async def test_username_case_conflicts_report(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, make_user: Callable[..., Any]
) -> None:
    await make_user(name="Ada")
    response = await client.get("/api/sign-in-exp/username-policy/case-sensitivity-conflicts", headers=auth)
    # identity keeps usernames unique case-insensitively, so no two can collide
    assert response.status_code == 200 and response.json() == {"totalConflicts": 0, "samples": []}
    for limit in ("0", "101", "many"):
        bad = await client.get(
            "/api/sign-in-exp/username-policy/case-sensitivity-conflicts", params={"limit": limit}, headers=auth
        )
        assert bad.status_code == 400 and error_code(bad) == "guard.invalid_input"
