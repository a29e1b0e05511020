"""The SAML social connector (Logto's `saml`, a standard connector): its config, and the IdP and SP it
describes. Unlike the OAuth connectors, its round trip is stateful (the AuthnRequest's id and the relay state
must meet the posted Response), so identity runs it: `saml.begin` builds the sign-in URL and remembers the
request, the assertion consumer service (`POST /api/authn/saml/{connectorId}`) verifies the Response, and
`saml.result` hands the verified user to the sign-in flow."""

from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType

from gatehouse_connectors.http import ConnectorError
from gatehouse_connectors.saml import (
    UNSPECIFIED_NAME_ID,
    Assertion,
    IdentityProvider,
    ServiceProvider,
    parse_metadata,
)
from gatehouse_connectors.social import SocialUserInfo


class SamlProfileMap(msgspec.Struct, kw_only=True):
    """Which assertion attribute holds each profile field; `id` defaults to the subject's NameID."""

    id: str = "nameID"
    email: str = "email"
    phone: str = "phone"
    name: str = "name"
    avatar: str = "avatar"


class SamlConfig(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    entity_id: str = msgspec.field(name="entityID")
    assertion_consumer_service_url: str
    sign_in_endpoint: str | UnsetType = UNSET
    x509_certificate: str | UnsetType = msgspec.field(default=UNSET, name="x509Certificate")
    idp_metadata_xml: str | UnsetType = UNSET
    name_id_format: str = msgspec.field(default=UNSPECIFIED_NAME_ID, name="nameIDFormat")
    timeout: int = 5000
    sign_authn_request: bool = False
    encrypt_assertion: bool = False
    profile_map: SamlProfileMap = msgspec.field(default_factory=SamlProfileMap)
    message_signing_order: Literal["sign-then-encrypt", "encrypt-then-sign"] = "sign-then-encrypt"

    def identity_provider(self) -> IdentityProvider:
        if self.sign_authn_request or self.encrypt_assertion:
            raise ConnectorError(
                "connector.invalid_config", "Signed AuthnRequests and encrypted assertions are not supported."
            )
        if isinstance(self.idp_metadata_xml, str) and self.idp_metadata_xml.strip():
            return parse_metadata(self.idp_metadata_xml)
        if isinstance(self.sign_in_endpoint, str) and isinstance(self.x509_certificate, str):
            return IdentityProvider(
                entity_id="", sign_in_endpoint=self.sign_in_endpoint, certificate=self.x509_certificate
            )
        raise ConnectorError(
            "connector.invalid_config", "Give `idpMetadataXml`, or `signInEndpoint` and `x509Certificate`."
        )

    def service_provider(self) -> ServiceProvider:
        return ServiceProvider(
            entity_id=self.entity_id, acs_url=self.assertion_consumer_service_url, name_id_format=self.name_id_format
        )

    def user_info(self, assertion: Assertion) -> SocialUserInfo:
        fields = self.profile_map

        def attribute(name: str) -> str | UnsetType:
            value = assertion.name_id if name == "nameID" else assertion.first(name)
            return value if value else UNSET

        user_id = attribute(fields.id)
        if isinstance(user_id, UnsetType):
            raise ConnectorError("connector.invalid_response", f"The assertion has no `{fields.id}`.")
        raw = {"nameID": assertion.name_id, **{k: v[0] if len(v) == 1 else v for k, v in assertion.attributes.items()}}
        return SocialUserInfo(
            id=user_id,
            email=attribute(fields.email),
            phone=attribute(fields.phone),
            name=attribute(fields.name),
            avatar=attribute(fields.avatar),
            raw_data=raw,
        )
