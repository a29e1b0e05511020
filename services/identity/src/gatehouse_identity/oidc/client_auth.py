"""Client authentication at the token endpoint: client_secret_basic and client_secret_post."""

import base64
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from gatehouse_platform.oauth_errors import OAuthError, invalid_client, invalid_request
from gatehouse_schema.queries.management import ClientRecord


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str | None
    method: str


def read_credentials(authorization: str | None, form: Mapping[str, str]) -> ClientCredentials:
    basic = authorization is not None and authorization[:6].lower() == "basic "
    if basic and "client_secret" in form:
        raise invalid_request("client authentication must only be provided using one mechanism")
    if basic:
        assert authorization is not None
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            raw_id, sep, raw_secret = decoded.partition(":")
        except (ValueError, UnicodeDecodeError):
            raise invalid_request("invalid authorization header value format") from None
        if not sep:
            raise invalid_request("invalid authorization header value format")
        client_id: str = unquote_plus(raw_id)
        secret: str | None = unquote_plus(raw_secret)
        if form.get("client_id") not in (None, client_id):
            raise invalid_request("mismatch in body and authorization client ids")
        return ClientCredentials(client_id, secret, "client_secret_basic")
    posted_id = form.get("client_id")
    if not posted_id:
        raise invalid_request("no client authentication mechanism provided")
    posted_secret = form.get("client_secret")
    return ClientCredentials(posted_id, posted_secret, "client_secret_post" if posted_secret is not None else "none")


def verify_secret(client: ClientRecord, secret: str | None, now: datetime | None = None) -> None:
    """The legacy secret or any named secret that has not expired."""
    if secret is None:
        raise OAuthError("invalid_client", "client authentication failed")
    now = now or datetime.now(UTC)
    candidates = [s.value for s in client.secrets if s.expires_at is None or s.expires_at > now]
    if client.legacy_secret:
        candidates.append(client.legacy_secret)
    given = secret.encode()
    if not any(hmac.compare_digest(given, c.encode()) for c in candidates):
        raise invalid_client("invalid secret provided")
