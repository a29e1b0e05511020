"""Logto's pagination bounds, settings from the environment, and the error bodies clients see."""

import msgspec
import pytest
from gatehouse_platform.config import Settings, load_settings
from gatehouse_platform.errors import BadRequest, GatehouseError, NotFound, error_from_body
from gatehouse_platform.oauth_errors import OAuthError, invalid_client
from gatehouse_platform.pagination import Page, parse_page

# --- pagination ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "page_size"),
    [("0", None), ("-1", None), (None, "0"), (None, "101"), ("abc", None), (None, "ten"), ("1.5", None)],
)
def test_out_of_bounds_or_non_numeric_pagination_is_bad_request(page: str | None, page_size: str | None) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_page(page, page_size)

    assert caught.value.status == 400
    assert caught.value.body() == {
        "code": "guard.invalid_pagination",
        "message": "The request pagination value is invalid.",
    }


def test_pagination_accepts_bounds() -> None:
    assert parse_page("1", "1") == Page(1, 1)
    assert parse_page("7", "100") == Page(7, 100)


def test_pagination_defaults_to_first_page_of_twenty() -> None:
    assert parse_page(None, None) == Page(1, 20)
    assert parse_page("", "") == Page(1, 20)


def test_optional_pagination_without_parameters_is_none() -> None:
    assert parse_page(None, None, optional=True) is None


def test_optional_pagination_with_one_parameter_paginates() -> None:
    assert parse_page(None, "5", optional=True) == Page(1, 5)


def test_page_offset_and_limit() -> None:
    page = parse_page("3", "10")

    assert page is not None and (page.offset, page.limit) == (20, 10)


# --- settings -----------------------------------------------------------------------------


class ServiceSettings(Settings):
    service_name: str = "identity"
    port: int = 3101
    signing_key_rotation_days: int = 90
    debug: bool = False


def test_load_settings_reads_upper_case_env_names_and_converts_types() -> None:
    settings = load_settings(
        ServiceSettings,
        environ={"PORT": "3201", "OUTBOX_POLL_INTERVAL": "0.5", "DEBUG": "true", "SIGNING_KEY_ROTATION_DAYS": "30"},
    )

    assert settings.port == 3201 and isinstance(settings.port, int)
    assert settings.outbox_poll_interval == 0.5
    assert settings.debug is True
    assert settings.signing_key_rotation_days == 30


def test_load_settings_ignores_lower_case_and_empty_values() -> None:
    settings = load_settings(ServiceSettings, environ={"port": "1", "NATS_URL": "", "LOG_LEVEL": "debug"})

    assert settings.port == 3101
    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert settings.log_level == "debug"


def test_load_settings_overrides_win_over_environment() -> None:
    settings = load_settings(ServiceSettings, environ={"PORT": "3201"}, port=4000)

    assert settings.port == 4000


def test_load_settings_rejects_unconvertible_value() -> None:
    with pytest.raises(msgspec.ValidationError):
        load_settings(ServiceSettings, environ={"PORT": "not-a-port"})


def test_load_settings_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "3")

    assert load_settings(Settings).db_pool_size == 3


def test_issuer_is_public_url_plus_oidc() -> None:
    assert (
        load_settings(Settings, environ={"PUBLIC_URL": "https://auth.example/"}).issuer == "https://auth.example/oidc"
    )


# --- errors -------------------------------------------------------------------------------


def test_error_body_renders_logto_message_from_params() -> None:
    error = NotFound("entity.not_exists_with_id", name="user", id="x")

    assert error.status == 404
    assert error.body() == {"code": "entity.not_exists_with_id", "message": "The user with ID `x` does not exist."}


def test_error_body_includes_data_when_given() -> None:
    error = BadRequest("guard.invalid_input", type="body", data={"field": "name"})

    assert error.body() == {
        "code": "guard.invalid_input",
        "message": "The request body is invalid.",
        "data": {"field": "name"},
    }


def test_error_with_unknown_code_uses_code_as_message() -> None:
    assert GatehouseError("some.new_code").body() == {"code": "some.new_code", "message": "some.new_code"}


def test_error_with_missing_params_keeps_template() -> None:
    assert NotFound("entity.not_exists", nothing="here").message == "The {name} does not exist."


def test_status_override_applies_to_instance_only() -> None:
    error = GatehouseError("rpc.timeout", status=504, context="x")

    assert error.status == 504
    assert GatehouseError.status == 400


def test_error_from_body_rebuilds_error_across_process_boundary() -> None:
    original = NotFound("entity.not_exists_with_id", name="user", id="x", data={"k": 1})

    rebuilt = error_from_body(original.status, original.body())

    assert isinstance(rebuilt, GatehouseError)
    assert (rebuilt.status, rebuilt.code, rebuilt.message, rebuilt.data) == (
        404,
        "entity.not_exists_with_id",
        "The user with ID `x` does not exist.",
        {"k": 1},
    )


def test_oauth_error_body_has_logto_and_rfc6749_fields() -> None:
    error = OAuthError("invalid_target", "resource indicator is missing")

    assert error.status == 400
    assert error.body() == {
        "code": "oidc.invalid_target",
        "message": "Invalid resource indicator.",
        "error": "invalid_target",
        "error_description": "resource indicator is missing",
    }


def test_oauth_error_description_defaults_to_message() -> None:
    error = invalid_client()

    assert error.status == 401
    assert error.body()["error"] == "invalid_client"
    assert OAuthError("invalid_target").body()["error_description"] == "Invalid resource indicator."
