"""Logto's SMTP email connector (`@logto/connector-smtp`): its config rules, template selection and rendering,
and the delivery itself (Python's `smtplib` in a worker thread).

- **Config.** Logto's `smtpConfigGuard` (nodemailer's SMTP transport options): `host`, `port`, `auth` (`{user,
  pass, type?: login}` or OAuth 2.0 `{type?: oauth2, user, accessToken?, ...}`), `fromEmail`, `replyTo?`,
  `templates` (`{usageType, contentType: text/plain|text/html, subject, content}`, with one for each of
  `Register`, `SignIn`, `ForgotPassword` and `Generic`), the connection timeouts (ms), `secure` (implicit TLS),
  `tls` (Node's TLS options: `rejectUnauthorized` is honoured), `ignoreTLS`, `requireTLS` and `customHeaders`.
  nodemailer's debugging, file and URL access and DNS options are accepted and have no effect here.
- **Templates.** The template of the message's usage type, else the `Generic` one (connector 1.5.1); none is
  400 `connector.template_not_found`. `{{name}}` and `{{a.b}}` are replaced as connector-kit's
  `replaceSendMessageHandlebars` does: by the payload's value (`""` for null), a variable whose root the payload
  lacks is left as it is.
- **Delivery.** `secure` connects with TLS; otherwise STARTTLS is used when the server offers it (unless
  `ignoreTLS`), and `requireTLS` fails when it does not. Each socket operation waits at most 30 s (less when
  the config says so). A refusal or a failure to reach the server is 502 `connector.general`, its message
  saying what the server answered (Logto's connector error handler answers 500; here the mail server, not
  Gatehouse, failed).
"""

import asyncio
import re
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any, Literal

import msgspec

from gatehouse_connectors.http import ConnectorError

FACTORY_ID = "simple-mail-transfer-protocol"  # Logto's factory id; `smtp` is its target
GENERIC = "Generic"
REQUIRED_USAGE_TYPES = ("Register", "SignIn", "ForgotPassword", GENERIC)
LOGIN_TYPES = ("login", "Login", "LOGIN")
OAUTH2_TYPES = ("oauth2", "OAuth2", "OAUTH2")
MAX_WAIT_MS = 30_000  # a request waits on the SMTP server at most this long per socket operation


class Template(msgspec.Struct, kw_only=True, rename="camel"):
    usage_type: str
    content_type: Literal["text/plain", "text/html"]
    subject: str
    content: str


class SmtpAuth(msgspec.Struct, kw_only=True, rename="camel"):
    """One of Logto's three auth guards: login (`user`, `pass`), OAuth 2.0 with a service key (`privateKey`,
    `serviceClient`) or OAuth 2.0 with tokens (all optional)."""

    user: str
    password: str | None = msgspec.field(default=None, name="pass")
    type: str | None = None
    private_key: str | dict[str, str] | None = None
    service_client: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    access_token: str | None = None
    expires: float | None = None
    access_url: str | None = None

    def __post_init__(self) -> None:
        if self.type is not None and self.type not in LOGIN_TYPES + OAUTH2_TYPES:
            raise ValueError("`auth.type` must be `login` or `oauth2`")
        if self.type in LOGIN_TYPES and self.password is None:
            raise ValueError("`auth.pass` is required for login")


class SmtpConfig(msgspec.Struct, kw_only=True, rename="camel"):
    host: str
    port: int
    auth: SmtpAuth
    from_email: str
    templates: list[Template]
    reply_to: str | None = None
    name: str | None = None  # the client's name in EHLO
    local_address: str | None = None
    connection_timeout: float = 2 * 60 * 1000
    greeting_timeout: float = 30 * 1000
    socket_timeout: float = 10 * 60 * 1000
    dns_timeout: float = 30 * 1000
    secure: bool = False
    tls: dict[str, Any] = msgspec.field(default_factory=dict)
    servername: str | None = None
    ignore_tls: bool | None = msgspec.field(default=None, name="ignoreTLS")
    require_tls: bool | None = msgspec.field(default=None, name="requireTLS")
    custom_headers: dict[str, str | list[str]] | None = None
    logger: bool | None = None
    debug: bool | None = None
    disable_file_access: bool | None = None
    disable_url_access: bool | None = None

    def __post_init__(self) -> None:
        usage_types = {template.usage_type for template in self.templates}
        missing = [usage for usage in REQUIRED_USAGE_TYPES if usage not in usage_types]
        if missing:
            raise ValueError(f"Template with UsageType ({', '.join(missing)}) should be provided!")


# rendering

_HANDLEBAR = re.compile(r"{{\s*([\w.]+)\s*}}", re.ASCII)


def _js_string(value: Any) -> str:
    """JavaScript's `String(value ?? '')`, for the JSON values a payload holds."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join(_js_string(item) for item in value)
    return str(value)


def render(template: str, payload: Mapping[str, Any]) -> str:
    """connector-kit's `replaceSendMessageHandlebars`: `{{code}}`, `{{organization.name}}`..."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        parts = key.split(".")
        if not parts[0] or parts[0] not in payload:
            return match.group(0)
        value: Any = payload
        for part in parts:
            value = value.get(part) if isinstance(value, Mapping) else None
        return _js_string(value)

    return _HANDLEBAR.sub(replace, template)


def template_for(config: SmtpConfig, usage_type: str) -> Template:
    """The usage type's template, else the `Generic` one."""
    for wanted in (usage_type, GENERIC):
        for template in config.templates:
            if template.usage_type == wanted:
                return template
    raise ConnectorError("connector.template_not_found", f"Template not found for type: {usage_type}", status=400)


def build_message(config: SmtpConfig, to: str, usage_type: str, payload: Mapping[str, Any]) -> EmailMessage:
    template = template_for(config, usage_type)
    message = EmailMessage()
    try:
        message["From"] = config.from_email
        message["To"] = to
        if config.reply_to:
            message["Reply-To"] = config.reply_to
        message["Subject"] = render(template.subject, payload)
        for name, values in (config.custom_headers or {}).items():
            for value in [values] if isinstance(values, str) else values:
                message[name] = value
        subtype = "html" if template.content_type == "text/html" else "plain"
        message.set_content(render(template.content, payload), subtype=subtype)
    except (ValueError, TypeError) as error:  # e.g. a line break in a header
        raise ConnectorError("connector.invalid_request_parameters", f"The email cannot be built: {error}") from None
    return message


# delivery


def _failure(message: str) -> ConnectorError:
    return ConnectorError("connector.general", message, status=502)


def _tls_context(options: Mapping[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if options.get("rejectUnauthorized") is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _authenticate(smtp: smtplib.SMTP, auth: SmtpAuth) -> None:
    if auth.password is not None and auth.type not in OAUTH2_TYPES:
        smtp.login(auth.user, auth.password)
    elif auth.access_token is not None:
        token = auth.access_token
        smtp.auth("XOAUTH2", lambda _=None: f"user={auth.user}\x01auth=Bearer {token}\x01\x01")
    elif auth.type in OAUTH2_TYPES or auth.private_key is not None or auth.refresh_token is not None:
        raise ConnectorError(
            "connector.not_implemented",
            "SMTP OAuth 2.0 needs `auth.accessToken`: Gatehouse does not fetch access tokens for SMTP.",
            status=501,
        )
    else:
        raise _failure("The SMTP connector has no credentials: `auth.pass` or `auth.accessToken` is required.")


def _deliver(config: SmtpConfig, message: EmailMessage, to: str) -> None:
    """Connects, secures, authenticates and sends (blocking: run in a worker thread)."""
    timeout = min(config.connection_timeout, config.greeting_timeout, config.socket_timeout, MAX_WAIT_MS) / 1000
    source = (config.local_address, 0) if config.local_address else None
    context = _tls_context(config.tls)
    smtp: smtplib.SMTP
    if config.secure:
        smtp = smtplib.SMTP_SSL(
            config.host, config.port, config.name, timeout=timeout, source_address=source, context=context
        )
    else:
        smtp = smtplib.SMTP(config.host, config.port, config.name, timeout=timeout, source_address=source)
    with smtp:
        smtp.ehlo()
        if not config.secure and not config.ignore_tls:
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif config.require_tls:
                raise _failure("The SMTP server does not offer STARTTLS, which `requireTLS` needs.")
        _authenticate(smtp, config.auth)
        sender = [address for _, address in getaddresses([config.from_email]) if address]
        smtp.send_message(message, from_addr=sender[0] if sender else config.from_email, to_addrs=[to])


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = [f"{code} {reply.decode(errors='replace')}" for code, reply in error.recipients.values()]
        return "the SMTP server refused the recipient: " + "; ".join(replies)
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"the SMTP server answered {error.smtp_code} {reply}"
    if isinstance(error, TimeoutError):
        return "the SMTP server did not answer in time"
    return f"{type(error).__name__}: {error}"


async def send_email(config: SmtpConfig, to: str, usage_type: str, payload: Mapping[str, Any]) -> None:
    """Sends the usage type's message to `to` (Logto's `sendMessage({to, type, payload})`)."""
    message = build_message(config, to, usage_type, payload)
    try:
        await asyncio.to_thread(_deliver, config, message, to)
    except ConnectorError:
        raise
    except (smtplib.SMTPException, OSError) as error:  # OSError: refused or dropped connections, TLS, timeouts
        raise _failure(f"The email could not be sent: {_describe(error)}.") from None
