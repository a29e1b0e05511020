import msgspec


class TokenResponse(msgspec.Struct, omit_defaults=True, kw_only=True):
    """RFC 6749 §5.1 successful token response."""

    access_token: str
    expires_in: int
    token_type: str
    scope: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    issued_token_type: str | None = None  # token exchange (RFC 8693 §2.2.1)
