"""Enterprise SSO connectors' shared facts (Logto's `SsoProviderName`, `SsoProviderType` and the SAML connector's
service-provider URLs): management serves the connectors, identity and experience sign users in with them."""

from typing import Literal

ProviderType = Literal["oidc", "saml"]

# Logto's `ssoConnectorFactories`, in its order: each provider and the protocol it speaks
PROVIDER_TYPES: dict[str, ProviderType] = {
    "OIDC": "oidc",
    "SAML": "saml",
    "AzureAD": "saml",
    "AzureAdOidc": "oidc",
    "GoogleWorkspace": "oidc",
    "Okta": "oidc",
}

# the providers whose OIDC issuer is their own, not the connector's config (Logto's Google Workspace connector)
FIXED_ISSUERS: dict[str, str] = {"GoogleWorkspace": "https://accounts.google.com"}


def saml_sp_entity_id(public_url: str, connector_id: str) -> str:
    """The SP entity id a SAML connector presents to its IdP (Logto's `buildSpEntityId`)."""
    return f"{public_url.rstrip('/')}/enterprise-sso/{connector_id}"


def saml_acs_url(public_url: str, connector_id: str) -> str:
    """Where the IdP posts its SAML response (Logto's `buildAssertionConsumerServiceUrl`)."""
    return f"{public_url.rstrip('/')}/api/authn/single-sign-on/saml/{connector_id}"
