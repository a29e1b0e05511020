"""Logto's SSO connector rules (`routes/sso-connector/utils.ts`, `sso/SamlConnector`, `sso/OidcConnector`): the
email domains a connector may serve, the config check, the IdP settings derived from a config
(`providerConfig`) and the records the routes and events return.

Logto also checks a config against the IdP when it is written (it fetches the OIDC discovery document or the
SAML metadata URL) and derives `providerConfig` from what it fetched. Gatehouse makes no outbound call here:
a SAML config's metadata XML or manual settings are parsed and checked (the same errors as Logto), an OIDC
issuer or a SAML metadata URL is stored unchecked, and `providerConfig` holds only what the config itself
gives (for OIDC: no endpoints)."""

import re
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_schema.events import SsoConnectorBrief
from gatehouse_schema.sso import saml_acs_url, saml_sp_entity_id

from gatehouse_management.api.sso_connector_bodies import SsoBranding, SsoConnector, SsoConnectorWithProviderConfig
from gatehouse_management.domain.sso_providers import PROVIDERS, Provider
from gatehouse_management.persistence.rows import epoch_ms

# Logto's `singleSignOnDomainBlackList`: public email domains no enterprise connector may claim
DOMAIN_BLOCKLIST = frozenset(
    {
        *("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "icloud.com", "aol.com"),
        *("yandex.com", "mail.com", "protonmail.com", "yanex.com", "gmx.com", "mail.ru", "zoho.com", "qq.com"),
        *("163.com", "126.com", "sina.com", "sohu.com"),
    }
)
DEFAULT_ATTRIBUTE_MAPPING = {"id": "nameID", "email": "email", "name": "name"}
OIDC_SCOPES = ("openid", "profile", "email")
GOOGLE_ISSUER = "https://accounts.google.com"
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
PEM_PREFIX, PEM_SUFFIX = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"


def provider(row: Any) -> Provider:
    """The stored connector's provider; 404 `connector.not_found` for one Gatehouse does not know (Logto's
    `getSsoConnectorById`)."""
    found = PROVIDERS.get(row.provider_name)
    if found is None:
        raise NotFound("connector.not_found", f"The SSO provider `{row.provider_name}` is not supported.")
    return found


def check_domains(domains: list[str]) -> None:
    """Logto's `validateConnectorDomains`: no public email domain, no domain twice (422, `data` lists them)."""
    forbidden = [domain for domain in dict.fromkeys(domains) if domain in DOMAIN_BLOCKLIST]
    if forbidden:
        raise Unprocessable("single_sign_on.forbidden_domains", data=forbidden)
    seen: set[str] = set()
    duplicated: list[str] = []
    for domain in domains:
        if domain in seen and domain not in duplicated:
            duplicated.append(domain)
        seen.add(domain)
    if duplicated:
        raise Unprocessable("single_sign_on.duplicated_domains", data=duplicated)


def clean_config(provider: Provider, config: dict[str, Any]) -> dict[str, Any]:
    """The config as Logto stores it: parsed by the provider's guard, unknown keys dropped."""
    cleaned: dict[str, Any] = msgspec.to_builtins(provider.parse_config(config))
    return cleaned


def signs_requests(config: dict[str, Any]) -> bool:
    """Whether a SAML config turns on signed AuthnRequests (`signAuthnRequest: true`)."""
    return config.get("signAuthnRequest") is True


def check_connection(provider: Provider, config: dict[str, Any]) -> None:
    """Logto's `validateConnectorConfigConnectionStatus` without its network calls: a SAML config's IdP metadata
    (XML or manual settings) must parse, with a valid certificate."""
    if provider.type == "saml":
        saml_identity_provider(config)


def saml_identity_provider(config: dict[str, Any]) -> dict[str, Any] | None:
    """Logto's `SamlIdentityProviderMetadata` (`entityId`, `signInEndpoint`, `x509Certificate` as PEM,
    `certificateExpiresAt`, `isCertificateValid`) of a SAML config; None for a metadata URL (not fetched).
    400 `connector.invalid_certificate` or `connector.invalid_metadata` when it cannot be read."""
    if "metadataUrl" in config:
        return None
    if "metadata" in config:
        entity_id, endpoint, raw_certificate = _parse_metadata(config["metadata"])
    else:
        entity_id, endpoint, raw_certificate = config["entityId"], config["signInEndpoint"], config["x509Certificate"]
    certificate = _certificate(raw_certificate)
    if not entity_id or not endpoint:
        raise BadRequest("connector.invalid_metadata", "The SAML metadata names no entity id or redirect endpoint.")
    expires_at = certificate.not_valid_after_utc
    return {
        "entityId": entity_id,
        "signInEndpoint": endpoint,
        "x509Certificate": certificate.public_bytes(Encoding.PEM).decode(),
        "certificateExpiresAt": epoch_ms(expires_at),
        "isCertificateValid": expires_at > datetime.now(UTC),
    }


def _parse_metadata(xml: str) -> tuple[str | None, str | None, str | None]:
    """The IdP's entity id, HTTP-Redirect sign-in endpoint and signing certificate from SAML metadata. A document
    type declaration is refused (metadata needs none; it is how entity expansion attacks come in)."""
    if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
        raise BadRequest("connector.invalid_metadata", "The SAML metadata may not declare a document type.")
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as error:
        raise BadRequest("connector.invalid_metadata", f"The SAML metadata is not valid XML: {error}") from None
    entity = root if root.tag == f"{MD}EntityDescriptor" else root.find(f".//{MD}EntityDescriptor")
    idp = entity.find(f"{MD}IDPSSODescriptor") if entity is not None else None
    if entity is None or idp is None:
        raise BadRequest("connector.invalid_metadata", "The SAML metadata describes no identity provider.")
    endpoint = next(
        (s.get("Location") for s in idp.iter(f"{MD}SingleSignOnService") if s.get("Binding") == REDIRECT_BINDING),
        None,
    )
    certificate = next(
        (
            element.text
            for key in idp.iter(f"{MD}KeyDescriptor")
            if key.get("use") in (None, "signing")
            for element in key.iter(f"{DS}X509Certificate")
            if element.text
        ),
        None,
    )
    return entity.get("entityID"), endpoint, certificate


def _certificate(text: str | None) -> x509.Certificate:
    """Logto's `getPemCertificate`: a PEM certificate, or the base64 body of one (as metadata carries it)."""
    if text and not (text.startswith(PEM_PREFIX + "\n") and text.rstrip().endswith("\n" + PEM_SUFFIX)):
        body = re.sub(r"\s+", "", text)
        text = "\n".join([PEM_PREFIX, *(body[i : i + 64] for i in range(0, len(body), 64)), PEM_SUFFIX])
    try:
        return x509.load_pem_x509_certificate((text or "").encode())
    except ValueError:
        raise BadRequest("connector.invalid_certificate", "The IdP's X.509 certificate cannot be read.") from None


def provider_config(row: Any, provider: Provider, public_url: str) -> dict[str, Any] | None:
    """Logto's `providerConfig`, from the config alone: for SAML, the default attribute mapping, this connector's
    SP entity id and ACS URL, and the IdP's metadata when the config holds it; for OIDC, the config with the
    issuer and Logto's scope (`openid profile email` first). None when the config is not a valid one."""
    try:
        config = clean_config(provider, row.config)
    except BadRequest:
        return None
    if provider.type == "oidc":
        return {**config, "issuer": config.get("issuer", GOOGLE_ISSUER), "scope": oidc_scope(config.get("scope"))}
    result: dict[str, Any] = {
        "defaultAttributeMapping": DEFAULT_ATTRIBUTE_MAPPING,
        "serviceProvider": {
            "entityId": saml_sp_entity_id(public_url, row.id),
            "assertionConsumerServiceUrl": saml_acs_url(public_url, row.id),
        },
    }
    try:
        identity_provider = saml_identity_provider(config)
    except BadRequest:
        identity_provider = None
    if identity_provider is not None:
        result["identityProvider"] = identity_provider
    return result


def oidc_scope(scope: str | None) -> str:
    """Logto's `scopePostProcessor`: `openid profile email`, then the configured scopes (space or `+` separated)."""
    extra = [s for s in re.split(r"[ +]", scope or "") if s]
    return " ".join(dict.fromkeys([*OIDC_SCOPES, *extra]))


def to_connector(row: Any) -> SsoConnector:
    return SsoConnector(**_fields(row))


def _fields(row: Any) -> dict[str, Any]:
    return {
        "tenant_id": row.tenant_id,
        "id": row.id,
        "provider_name": row.provider_name,
        "connector_name": row.connector_name,
        "config": row.config,
        "domains": list(row.domains),
        "branding": msgspec.convert(row.branding, SsoBranding),
        "sync_profile": row.sync_profile,
        "enable_token_storage": row.enable_token_storage,
        "created_at": epoch_ms(row.created_at),
    }


def with_provider(row: Any, provider: Provider, public_url: str) -> SsoConnectorWithProviderConfig:
    """Logto's `fetchConnectorProviderDetails`: the connector, its provider's name, protocol and logos, and the
    derived IdP config (left out when there is none)."""
    derived = provider_config(row, provider, public_url)
    return SsoConnectorWithProviderConfig(
        **_fields(row),
        name=provider.display_name,
        provider_type=provider.type,
        provider_logo=provider.logo,
        provider_logo_dark=provider.logo_dark,
        provider_config=msgspec.UNSET if derived is None else derived,
    )


def brief(row: Any, provider: Provider) -> SsoConnectorBrief:
    """What the connector's events carry (never its config)."""
    return SsoConnectorBrief(
        id=row.id,
        provider_name=row.provider_name,
        provider_type=provider.type,
        connector_name=row.connector_name,
        domains=list(row.domains),
        sync_profile=row.sync_profile,
        enable_token_storage=row.enable_token_storage,
    )
