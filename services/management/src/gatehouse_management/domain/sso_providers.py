"""The enterprise SSO providers (Logto's `ssoConnectorFactories`, `packages/core/src/sso`): each one's protocol,
English name and description, logos, and the config it takes (its zod `configGuard`).

A config is checked as zod checks it: the provider's fields with their types, unknown keys dropped, and for the
SAML providers the first of Logto's three shapes that fits (metadata URL, metadata XML, or the IdP's entity id,
sign-in endpoint and certificate). The logos are Gatehouse's own (a letter mark), not Logto's artwork."""

from base64 import b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from gatehouse_platform.errors import BadRequest
from gatehouse_schema.sso import PROVIDER_TYPES, ProviderType
from msgspec import UNSET, UnsetType

from gatehouse_management.api.sso_connector_bodies import SsoConnectorProvider

# the algorithms an AuthnRequest may be signed with (Logto refuses rsa-sha1 here)
SignatureAlgorithm = Literal[
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
]


class _Config(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    pass


class OidcConfig(_Config, kw_only=True):
    """Logto's `basicOidcConnectorConfigGuard` (OIDC, Okta, Microsoft Entra ID (OIDC))."""

    client_id: str
    client_secret: str
    issuer: str
    scope: str | UnsetType = UNSET


class GoogleWorkspaceConfig(_Config, kw_only=True):
    """The OIDC config without `issuer`: Google's is fixed (`https://accounts.google.com`)."""

    client_id: str
    client_secret: str
    scope: str | UnsetType = UNSET


class AttributeMapping(_Config, kw_only=True):
    """Which SAML attribute holds the user's id, email and name (defaults `nameID`, `email`, `name`)."""

    id: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    name: str | UnsetType = UNSET


class _SamlConfig(_Config, kw_only=True):
    """What every SAML shape takes besides the IdP's metadata: the attribute mapping, and whether (and with which
    algorithm) AuthnRequests are signed with the connector's active SP signing key."""

    attribute_mapping: AttributeMapping | UnsetType = UNSET
    sign_authn_request: bool | UnsetType = UNSET
    request_signature_algorithm: SignatureAlgorithm | UnsetType = UNSET


class SamlMetadataUrlConfig(_SamlConfig, kw_only=True):
    metadata_url: str


class SamlMetadataConfig(_SamlConfig, kw_only=True):
    metadata: str


class SamlManualConfig(_SamlConfig, kw_only=True):
    entity_id: str
    sign_in_endpoint: str
    x509_certificate: str


SAML_SHAPES: tuple[type[_Config], ...] = (SamlMetadataUrlConfig, SamlMetadataConfig, SamlManualConfig)


@dataclass(frozen=True)
class Provider:
    name: str  # Logto's `providerName`
    display_name: str
    description: str
    logo: str
    logo_dark: str
    shapes: Sequence[type[_Config]]

    @property
    def type(self) -> ProviderType:
        return PROVIDER_TYPES[self.name]

    def parse_config(self, config: dict[str, Any]) -> _Config:
        """The config in the first shape it fits; 400 `connector.invalid_config` if it fits none."""
        problems = []
        for shape in self.shapes:
            try:
                return msgspec.convert(config, shape)
            except msgspec.ValidationError as error:
                problems.append(str(error))
        raise BadRequest("connector.invalid_config", f"The connector's config is invalid: {'; '.join(problems)}")

    def detail(self) -> SsoConnectorProvider:
        return SsoConnectorProvider(
            provider_name=self.name,
            provider_type=self.type,
            logo=self.logo,
            logo_dark=self.logo_dark,
            description=self.description,
            name=self.display_name,
        )


def _logo(letters: str, background: str) -> str:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="24" height="24" rx="5" '
        f'fill="{background}"/><text x="12" y="16" font-size="{9 if len(letters) > 2 else 10}" '
        f'text-anchor="middle" fill="#fff" font-family="sans-serif">{letters}</text></svg>'
    )
    return "data:image/svg+xml;base64," + b64encode(svg.encode()).decode()


def _provider(name: str, display_name: str, description: str, letters: str, color: str, *shapes: Any) -> Provider:
    return Provider(name, display_name, description, _logo(letters, color), _logo(letters, "#34353f"), shapes)


MICROSOFT = "#0078d4"
PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        _provider(
            "OIDC",
            "OIDC",
            "Modern protocol built on OAuth 2.0 for identity verification in web and mobile apps.",
            "ID",
            "#ff9800",
            OidcConfig,
        ),
        _provider(
            "SAML",
            "SAML",
            "XML-based open standard for web single sign-on and identity federation.",
            "SAML",
            "#c1272d",
            *SAML_SHAPES,
        ),
        _provider(
            "AzureAD",
            "Microsoft Entra ID (SAML)",
            "Formerly Azure AD, a comprehensive cloud-based identity management service.",
            "ME",
            MICROSOFT,
            *SAML_SHAPES,
        ),
        _provider(
            "AzureAdOidc",
            "Microsoft Entra ID (OIDC)",
            "OpenID Connect on the Microsoft identity platform. Formerly known as Azure AD OIDC.",
            "ME",
            MICROSOFT,
            OidcConfig,
        ),
        _provider(
            "GoogleWorkspace",
            "Google Workspace",
            "Unified and secure management of user access within the Google ecosystem.",
            "G",
            "#4285f4",
            GoogleWorkspaceConfig,
        ),
        _provider(
            "Okta",
            "Okta",
            "Centralizes identity management for customers, employees, and partners.",
            "O",
            "#191919",
            OidcConfig,
        ),
    )
}
assert list(PROVIDERS) == list(PROVIDER_TYPES)
