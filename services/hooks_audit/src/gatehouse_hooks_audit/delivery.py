"""Sending a webhook request as Logto does (`libraries/hook/utils.ts`): a JSON POST with Logto's user agent,
the hook's custom headers and `logto-signature-sha-256` (HMAC-SHA256 of the exact body with the signing
key, hex), retried on a 5xx answer (`config.retries`, default and at most 3, ky's backoff 0.3 s, 0.6 s,
1.2 s) within one 10-second budget. Anything but a 2xx answer in the end is a failure.

One pooled aiohttp session serves every request. Nothing here logs a header, so the signing key and the
signature stay out of the logs."""

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec

USER_AGENT = "Logto (https://logto.io/)"
SIGNATURE_HEADER = "logto-signature-sha-256"
TIMEOUT_SECONDS = 10.0
MAX_RETRIES = 3
BACKOFF_SECONDS = 0.3
MAX_ANSWER_BYTES = 65_536  # what an execution log keeps of the endpoint's answer


def sign(signing_key: str, body: bytes) -> str:
    return hmac.new(signing_key.encode(), body, hashlib.sha256).hexdigest()


def request_headers(config: dict[str, Any], body: bytes, signing_key: str) -> dict[str, str]:
    """Logto's defaults, then the hook's headers (case-insensitively replacing a default), then the signature."""
    merged: dict[str, tuple[str, str]] = {
        "user-agent": ("user-agent", USER_AGENT),
        "content-type": ("content-type", "application/json"),
    }
    for name, value in (config.get("headers") or {}).items():
        merged[name.lower()] = (name, str(value))
    if signing_key:
        merged[SIGNATURE_HEADER] = (SIGNATURE_HEADER, sign(signing_key, body))
    return dict(merged.values())


@dataclass(frozen=True)
class Answer:
    status: int
    text: str  # the answer's body (its first 64 KiB)

    @property
    def body(self) -> Any:
        """The answer's JSON, or its text when it is not JSON."""
        try:
            return msgspec.json.decode(self.text)
        except msgspec.DecodeError:
            return self.text

    def as_log(self) -> dict[str, Any]:
        return {"statusCode": self.status, "body": self.body}


class EndpointError(Exception):
    """The endpoint answered, but not with a 2xx."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        super().__init__(f"HTTPError: Request failed with status code {answer.status}")


class EndpointNotAllowed(Exception):
    """Not an http(s) URL."""

    def __init__(self) -> None:
        super().__init__("Endpoint URL is not allowed.")


def describe(exc: BaseException) -> str:
    """The error as an execution log records it (`Name: message`, like Logto's `String(error)`)."""
    if isinstance(exc, TimeoutError):
        return f"TimeoutError: Request timed out after {TIMEOUT_SECONDS:g} seconds"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _read_some(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < MAX_ANSWER_BYTES:
        chunk = await response.content.read(MAX_ANSWER_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _retries(config: dict[str, Any]) -> int:
    value = config.get("retries")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(0, min(int(value), MAX_RETRIES))
    return MAX_RETRIES


class WebhookSender:
    def __init__(self, *, timeout: float = TIMEOUT_SECONDS, backoff: float = BACKOFF_SECONDS) -> None:
        self.timeout = timeout
        self.backoff = backoff
        self._session: aiohttp.ClientSession | None = None

    def _pool(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100), raise_for_status=False)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, config: dict[str, Any], payload: dict[str, Any], signing_key: str) -> Answer:
        """The endpoint's 2xx answer; raises EndpointError for another answer, EndpointNotAllowed for a URL
        that is not http(s), TimeoutError after 10 s, or the connection's error."""
        url = str(config.get("url", ""))
        if urlsplit(url).scheme not in {"http", "https"}:
            raise EndpointNotAllowed()
        body = msgspec.json.encode(payload)
        headers = request_headers(config, body, signing_key)
        retries = _retries(config)
        async with asyncio.timeout(self.timeout):
            attempt = 0
            while True:
                async with self._pool().post(url, data=body, headers=headers) as response:
                    raw = await _read_some(response)
                answer = Answer(response.status, raw.decode("utf-8", errors="replace"))
                if 200 <= answer.status < 300:
                    return answer
                if answer.status < 500 or attempt >= retries:
                    raise EndpointError(answer)
                attempt += 1
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
