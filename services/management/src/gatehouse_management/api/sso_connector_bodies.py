"""Bodies of the SSO connectors and SSO connector providers routes: Logto's `SsoConnectors` guard (the stored
connector), `ssoConnectorWithProviderConfigGuard` (with the provider's details and the derived IdP config),
`ssoConnectorProvidersResponseGuard`, the create/patch guards of `routes/sso-connector/type.ts` and the SAML
signing keys' `samlSsoConnectorSigningKeyResponseGuard`. Unknown keys are dropped, as zod's object guards drop
them."""

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

Name = Annotated[str, Meta(min_length=1, max_length=128)]  # the columns are varchar(128)


class SsoBranding(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """Logto's `SsoBranding`: how the sign-in page shows the connector."""

    display_name: str | UnsetType = UNSET
    logo: str | UnsetType = UNSET
    dark_logo: str | UnsetType = UNSET


class NewSsoConnector(msgspec.Struct, kw_only=True, rename="camel"):
    """`POST /api/sso-connectors`: `providerName` is checked against the providers Gatehouse knows (422)."""

    provider_name: Name
    connector_name: Name
    config: dict[str, Any] | UnsetType = UNSET
    domains: list[str] | UnsetType = UNSET
    branding: SsoBranding | UnsetType = UNSET
    sync_profile: bool | UnsetType = UNSET
    enable_token_storage: bool | UnsetType = UNSET


class UpdateSsoConnector(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """`PATCH /api/sso-connectors/{id}`: `config`, `domains` and `branding` replace the stored ones whole."""

    config: dict[str, Any] | UnsetType = UNSET
    domains: list[str] | UnsetType = UNSET
    branding: SsoBranding | UnsetType = UNSET
    sync_profile: bool | UnsetType = UNSET
    connector_name: Name | UnsetType = UNSET
    enable_token_storage: bool | UnsetType = UNSET


class SsoConnector(msgspec.Struct, kw_only=True, rename="camel"):
    """The stored connector (`createdAt` in epoch milliseconds). `config` is returned whole, as Logto returns
    it: it holds the IdP's client secret."""

    tenant_id: str
    id: str
    provider_name: str
    connector_name: str
    config: dict[str, Any]
    domains: list[str]
    branding: SsoBranding
    sync_profile: bool
    enable_token_storage: bool
    created_at: int


class SsoConnectorWithProviderConfig(SsoConnector, kw_only=True):
    """The connector with its provider's `name`, `providerType` and logos, and `providerConfig`: the IdP settings
    derived from the config (see `domain/sso_connectors.provider_config`); absent when none can be derived."""

    name: str
    provider_type: Literal["oidc", "saml"]
    provider_logo: str
    provider_logo_dark: str
    provider_config: dict[str, Any] | UnsetType = UNSET


class SsoConnectorProvider(msgspec.Struct, kw_only=True, rename="camel"):
    """Logto's `parseFactoryDetail`: a provider, its protocol, logos and English name and description."""

    provider_name: str
    provider_type: Literal["oidc", "saml"]
    logo: str
    logo_dark: str
    description: str
    name: str


class Fingerprint(msgspec.Struct, kw_only=True):
    formatted: str
    unformatted: str


class Fingerprints(msgspec.Struct, kw_only=True):
    sha256: Fingerprint


class SigningKey(msgspec.Struct, kw_only=True, rename="camel"):
    """An SP signing key of a SAML connector: its certificate and fingerprints, never its private key."""

    id: str
    certificate: str
    created_at: int
    expires_at: int
    active: bool
    fingerprints: Fingerprints


class NewSigningKey(msgspec.Struct, kw_only=True):
    """`POST .../signing-keys`: inactive by default (the staged step of a rotation)."""

    active: bool = False


class UpdateSigningKey(msgspec.Struct, kw_only=True):
    active: bool
