"""An SMTP server for tests: aiosmtpd's `Controller` (its own thread and event loop) on a free local port, with
AUTH (LOGIN and PLAIN, over plain TCP) and a record of every message it accepted. `refuse` makes it answer
every recipient with an error reply, as a server that does not relay for the sender would.

    with fake_smtp() as smtp:
        config = smtp.config()           # an SMTP connector config that sends here
        ...
        assert smtp.messages[0].text == "Your verification code is 000000."
"""

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from gatehouse_testing.plugin import free_port

USER, PASSWORD = "gatehouse", "smtp-secret"
FROM_EMAIL = "Gatehouse <notice@gatehouse.test>"

#: the templates of `FakeSmtp.config()`: Logto's four required usage types and an organization invitation
TEMPLATES = [
    {
        "usageType": "Generic",
        "contentType": "text/plain",
        "subject": "Your code",
        "content": "Your verification code is {{code}}.",
    },
    {
        "usageType": "SignIn",
        "contentType": "text/plain",
        "subject": "Sign in {{ code }}",
        "content": "Sign in with {{  code}}.",
    },
    {"usageType": "Register", "contentType": "text/plain", "subject": "Register", "content": "Register: {{code}}"},
    {
        "usageType": "ForgotPassword",
        "contentType": "text/plain",
        "subject": "Reset",
        "content": "Reset with {{code}}",
    },
    {
        "usageType": "OrganizationInvitation",
        "contentType": "text/html",
        "subject": "Join {{organization.name}}",
        "content": '<p>{{inviter.name}} invites you: <a href="{{link}}">{{link}}</a></p>',
    },
]


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope and the parsed message."""

    mail_from: str
    recipients: list[str]
    login: str | None
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain", "html"))
        assert isinstance(part, EmailMessage)
        return str(part.get_content()).rstrip("\r\n")

    @property
    def content_type(self) -> str:
        part = self.message.get_body(("plain", "html"))
        assert part is not None
        return part.get_content_type()


@dataclass
class FakeSmtp:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    refusal: str | None = None  # e.g. "550 5.7.1 Relaying denied": the reply to every RCPT

    def config(self, **overrides: Any) -> dict[str, Any]:
        """An SMTP connector's config (Logto's `smtpConfigGuard`) for this server."""
        return {
            "host": self.host,
            "port": self.port,
            "auth": {"type": "login", "user": USER, "pass": PASSWORD},
            "fromEmail": FROM_EMAIL,
            "templates": TEMPLATES,
            **overrides,
        }

    def refuse(self, reply: str = "550 5.7.1 Relaying denied") -> None:
        self.refusal = reply


class _Handler:
    def __init__(self, smtp: FakeSmtp) -> None:
        self.smtp = smtp

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.smtp.refusal:
            return self.smtp.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        assert isinstance(content, bytes)
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        received = Received(str(envelope.mail_from), list(envelope.rcpt_tos), login, message)
        self.smtp.messages.append(received)
        return "250 Message accepted for delivery"


def _authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


@contextmanager
def fake_smtp() -> Iterator[FakeSmtp]:
    smtp = FakeSmtp(port=free_port())
    controller = Controller(
        _Handler(smtp),
        hostname=smtp.host,
        port=smtp.port,
        server_hostname="fake-smtp.test",
        authenticator=_authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield smtp
    finally:
        controller.stop()
