"""Rules for applications, independent of HTTP and SQL."""

from typing import Any
from urllib.parse import urlsplit

from gatehouse_platform.errors import BadRequest
from gatehouse_schema.api.applications import ApplicationType, OidcClientMetadata

CONFIDENTIAL_TYPES: frozenset[str] = frozenset({"Traditional", "MachineToMachine"})
DEFAULT_SECRET_NAME = "Default secret"


def check_creatable(app_type: ApplicationType, is_third_party: bool) -> None:
    """Types this deployment can create here, with Logto's errors for the rest."""
    if app_type == "SAML":
        raise BadRequest("application.saml.use_saml_app_api")
    if app_type == "Protected":  # needs Logto Cloud's edge runtime, as in Logto's open-source edition
        raise BadRequest("application.protected_app_not_configured")
    if is_third_party and app_type != "Traditional":
        raise BadRequest("application.invalid_third_party_application_type")


def _check_uri(uri: str, app_type: str, field: str) -> None:
    parts = urlsplit(uri)
    web = app_type in {"SPA", "Traditional"}
    if not parts.scheme or (web and (parts.scheme not in {"http", "https"} or not parts.netloc)):
        raise BadRequest("guard.invalid_input", f"The request body is invalid: {field} `{uri}` is not a valid URI.")


def check_client_metadata(app_type: str, metadata: OidcClientMetadata) -> None:
    for uri in metadata.redirect_uris:
        _check_uri(uri, app_type, "redirectUris")
    for uri in metadata.post_logout_redirect_uris:
        _check_uri(uri, app_type, "postLogoutRedirectUris")


def merge_json(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Shallow merge of a JSON object column, as Logto's PATCH does."""
    return {**current, **patch}
