"""The breach-corpus lookup behind `rejects.pwned`: the k-anonymity range API of Have I Been Pwned
(`GET <url><first 5 hex of the SHA-1>`; only the prefix leaves the process).

Gatehouse makes no outbound call unless `PWNED_PASSWORDS_URL` is set (Logto's is
`https://api.pwnedpasswords.com/range/`); without it the `pwned` rule is skipped. When the service cannot
be reached Logto's `fetch` fails with a TypeError, which its route answers as 400 `request.invalid_input`:
`Unreachable` carries that here."""

from typing import Protocol

import aiohttp
from gatehouse_schema.password_policy import pwned_range_prefix, range_contains


class Unreachable(Exception):
    """The range API could not be asked (connection refused, DNS, timeout)."""


class PwnedPasswords(Protocol):
    enabled: bool

    async def is_pwned(self, password: str) -> bool: ...


class RangeApi:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self.enabled = bool(url)
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def is_pwned(self, password: str) -> bool:
        prefix, suffix = pwned_range_prefix(password)
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as session,
                session.get(f"{self.url}{prefix}") as response,
            ):
                # like Logto, any answer counts: a non-2xx body simply does not list the suffix
                body = await response.text()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise Unreachable(str(error) or "fetch failed") from error
        return range_contains(body, suffix)
