"""RFC 6749 errors, built from one table, carrying Logto's `oidc.*` code and message too."""

from typing import Any

from gatehouse_platform.errors import GatehouseError

# error -> (status, Logto message)
OAUTH_ERRORS: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "Request is invalid."),
    "invalid_client": (401, "Client authentication failed."),
    "invalid_grant": (400, "Grant request is invalid."),
    "unauthorized_client": (400, "The client is not authorized to use this grant type."),
    "unsupported_grant_type": (400, "Unsupported `grant_type` requested."),
    "invalid_scope": (400, "Invalid scope: {error_description}."),
    "invalid_target": (400, "Invalid resource indicator."),
    "invalid_token": (401, "Invalid token provided."),
    "unsupported_token_type": (400, "Unsupported token type."),
    "access_denied": (400, "Access denied."),
    "insufficient_scope": (403, "Access token missing requested scope: {error_description}."),
    "unsupported_response_type": (400, "Unsupported `response_type` requested."),
    "invalid_redirect_uri": (400, "`redirect_uri` did not match any of the client's registered `redirect_uris`."),
    "login_required": (400, "An OIDC error occurred: login_required."),
    "consent_required": (400, "An OIDC error occurred: consent_required."),
    "interaction_required": (400, "An OIDC error occurred: interaction_required."),
    "authorization_pending": (400, "An OIDC error occurred: authorization_pending."),
    "slow_down": (400, "An OIDC error occurred: slow_down."),
    "expired_token": (400, "An OIDC error occurred: expired_token."),
    "server_error": (500, "An unknown OIDC error occurred. Please try again later."),
}


class OAuthError(GatehouseError):
    def __init__(self, error: str, description: str | None = None) -> None:
        status, template = OAUTH_ERRORS[error]
        self.error = error
        self.error_description = description or ("the requested scope is invalid" if "{" in template else template)
        super().__init__(f"oidc.{error}", template.format(error_description=self.error_description), status=status)

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "error": self.error,
            "error_description": self.error_description,
        }


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_client(description: str = "client authentication failed") -> OAuthError:
    return OAuthError("invalid_client", description)
