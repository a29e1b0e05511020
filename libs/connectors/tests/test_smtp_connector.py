"""The SMTP email connector against a real SMTP server (aiosmtpd, in-process): Logto's config guard, template
selection with the `Generic` fallback, `{{variable}}` rendering and the errors of a failed delivery."""

from collections.abc import Iterator
from typing import Any

import pytest
from gatehouse_connectors import FACTORIES
from gatehouse_connectors.http import ConnectorError
from gatehouse_connectors.smtp import FACTORY_ID, render
from gatehouse_platform.errors import GatehouseError
from gatehouse_testing.fake_smtp import FROM_EMAIL, USER, FakeSmtp, fake_smtp

SMTP = FACTORIES[FACTORY_ID]


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with fake_smtp() as server:
        yield server


async def send(config: dict[str, Any], usage_type: str, payload: dict[str, Any], to: str = "ada@example.com") -> None:
    await SMTP.send_message(config, to, usage_type, payload)


def test_the_factory_is_logtos_smtp_email_connector() -> None:
    metadata = SMTP.metadata
    assert (metadata.id, metadata.target, metadata.type, metadata.platform) == (FACTORY_ID, "smtp", "Email", None)
    assert metadata.name["en"] == "SMTP" and metadata.is_standard is False
    keys = [item.key for item in metadata.form_items or []]
    assert keys[:6] == ["host", "port", "auth", "fromEmail", "replyTo", "templates"]
    assert "customHeaders" in keys and "requireTLS" in keys


async def test_a_usage_types_own_template_is_rendered_and_sent(smtp: FakeSmtp) -> None:
    await send(smtp.config(), "SignIn", {"code": "123456"})
    [received] = smtp.messages
    assert received.subject == "Sign in 123456" and received.body == "Sign in with 123456."
    assert received.content_type == "text/plain"
    assert received.recipients == ["ada@example.com"] and received.mail_from == "notice@gatehouse.test"
    assert received.message["From"] == FROM_EMAIL and received.message["To"] == "ada@example.com"
    assert received.login == USER


async def test_a_usage_type_without_a_template_falls_back_to_generic(smtp: FakeSmtp) -> None:
    await send(smtp.config(), "MfaVerification", {"code": "654321"})
    assert [(m.subject, m.body) for m in smtp.messages] == [("Your code", "Your verification code is 654321.")]


async def test_html_templates_nested_variables_reply_to_and_custom_headers(smtp: FakeSmtp) -> None:
    config = smtp.config(replyTo="help@gatehouse.test", customHeaders={"X-Tenant": "default", "X-Tag": ["a", "b"]})
    payload = {"link": "https://app.test/invite?id=1", "organization": {"name": "Acme"}, "inviter": {"name": "Bo"}}
    await send(config, "OrganizationInvitation", payload)
    [received] = smtp.messages
    assert received.subject == "Join Acme" and received.content_type == "text/html"
    assert (
        received.body
        == '<p>Bo invites you: <a href="https://app.test/invite?id=1">https://app.test/invite?id=1</a></p>'
    )
    assert received.message["Reply-To"] == "help@gatehouse.test" and received.message["X-Tenant"] == "default"
    assert received.message.get_all("X-Tag") == ["a", "b"]


def test_rendering_follows_connector_kit() -> None:
    payload = {"code": "42", "organization": {"name": "Acme", "branding": {}}, "n": 1.0, "flag": True, "none": None}
    assert render("{{code}} {{ code }} {{organization.name}}", payload) == "42 42 Acme"
    assert render("[{{organization.branding.logoUrl}}] [{{none}}]", payload) == "[] []"  # present roots: empty
    assert render("{{link}} {{inviter.name}}", payload) == "{{link}} {{inviter.name}}"  # absent roots stay
    assert render("{{n}} {{flag}} {{organization}}", payload) == "1 true [object Object]"


@pytest.mark.parametrize(
    "change",
    [
        {"host": None},
        {"port": "25"},
        {"auth": {"type": "login", "user": "u"}},  # no password
        {"auth": {"type": "apikey", "user": "u", "pass": "p"}},
        {"templates": [{"usageType": "Generic", "contentType": "text/plain", "subject": "s", "content": "c"}]},
        {"templates": [{"usageType": "Generic", "contentType": "text/markdown", "subject": "s", "content": "c"}]},
        {"customHeaders": {"X-A": 1}},
    ],
)
def test_the_config_guard_is_logtos(smtp: FakeSmtp, change: dict[str, Any]) -> None:
    config = {key: value for key, value in {**smtp.config(), **change}.items() if value is not None}
    with pytest.raises(GatehouseError) as caught:
        SMTP.parse_config(config)
    assert (caught.value.status, caught.value.code) == (400, "connector.invalid_config")


def test_the_guard_names_the_missing_templates(smtp: FakeSmtp) -> None:
    config = smtp.config(templates=[t for t in smtp.config()["templates"] if t["usageType"] != "Register"])
    with pytest.raises(GatehouseError, match=r"Template with UsageType \(Register\) should be provided"):
        SMTP.parse_config(config)


def test_oauth2_and_nodemailer_options_are_accepted(smtp: FakeSmtp) -> None:
    auth = {"type": "oauth2", "user": "u", "clientId": "c", "accessToken": "t"}
    SMTP.parse_config(smtp.config(auth=auth, logger=True, tls={"rejectUnauthorized": False}, requireTLS=False))
    SMTP.parse_config(smtp.config(auth={"user": "u", "serviceClient": "s", "privateKey": "k"}))


async def test_a_refused_recipient_is_a_502_connector_general(smtp: FakeSmtp) -> None:
    smtp.refuse("550 5.7.1 Relaying denied")
    with pytest.raises(ConnectorError) as caught:
        await send(smtp.config(), "Generic", {"code": "000000"})
    assert (caught.value.status, caught.value.code) == (502, "connector.general")
    assert "550 5.7.1 Relaying denied" in caught.value.message
    assert smtp.messages == []


async def test_wrong_credentials_and_an_unreachable_server_are_connector_errors(smtp: FakeSmtp) -> None:
    with pytest.raises(ConnectorError) as caught:
        await send(smtp.config(auth={"user": USER, "pass": "wrong"}), "Generic", {"code": "1"})
    assert (caught.value.status, caught.value.code) == (502, "connector.general")
    assert "535" in caught.value.message
    with fake_smtp() as gone:
        config = gone.config()
    with pytest.raises(ConnectorError) as caught:
        await send(config, "Generic", {"code": "1"})
    assert (caught.value.status, caught.value.code) == (502, "connector.general")
    assert "ConnectionRefusedError" in caught.value.message


async def test_require_tls_fails_without_starttls_and_oauth2_needs_an_access_token(smtp: FakeSmtp) -> None:
    with pytest.raises(ConnectorError, match="STARTTLS") as caught:
        await send(smtp.config(requireTLS=True), "Generic", {"code": "1"})
    assert caught.value.status == 502
    with pytest.raises(ConnectorError) as caught:
        await send(smtp.config(auth={"type": "oauth2", "user": "u", "refreshToken": "r"}), "Generic", {"code": "1"})
    assert (caught.value.status, caught.value.code) == (501, "connector.not_implemented")
    assert smtp.messages == []


async def test_a_line_break_in_a_header_is_refused_before_connecting(smtp: FakeSmtp) -> None:
    with pytest.raises(ConnectorError) as caught:
        await send(smtp.config(), "SignIn", {"code": "1\r\nBcc: eve@example.com"})
    assert (caught.value.status, caught.value.code) == (400, "connector.invalid_request_parameters")
    assert smtp.messages == []


async def test_a_social_factory_sends_no_messages_and_smtp_has_no_round_trip(smtp: FakeSmtp) -> None:
    with pytest.raises(GatehouseError) as caught:
        await FACTORIES["oidc"].send_message({}, "ada@example.com", "Generic", {})
    assert (caught.value.status, caught.value.code) == (400, "connector.unexpected_type")
    with pytest.raises(GatehouseError) as caught:
        SMTP.authorization_uri(smtp.config(), "state", "https://app.test/callback")
    assert (caught.value.status, caught.value.code) == (400, "connector.unexpected_type")
