"""The connector factories Gatehouse ships (Logto's installable connectors): each one's metadata, config
rules and provider round trips (Social) or message delivery (Email). A factory id is what `POST /api/connectors`
takes as `connectorId`."""

from base64 import b64encode
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from gatehouse_platform.errors import BadRequest, NotFound

from gatehouse_connectors.http import ConnectorError
from gatehouse_connectors.metadata import FactoryMetadata, FormItem
from gatehouse_connectors.oauth2 import OAuth2Config, oauth2_authorization_uri, oauth2_user_info, refresh_tokens
from gatehouse_connectors.oidc import OidcConfig, oidc_authorization_uri, oidc_user_info
from gatehouse_connectors.saml_connector import SamlConfig
from gatehouse_connectors.smtp import FACTORY_ID as SMTP_FACTORY_ID
from gatehouse_connectors.smtp import SmtpConfig, send_email
from gatehouse_connectors.social import SocialResult, TokenSet


def _logo(letters: str) -> str:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" '
        f'fill="#5d34f2"/><text x="32" y="40" font-size="20" text-anchor="middle" fill="#fff" '
        f'font-family="sans-serif">{letters}</text></svg>'
    )
    return "data:image/svg+xml;base64," + b64encode(svg.encode()).decode()


def _text(key: str, label: str, *, required: bool = True, confidential: bool = False, **extra: Any) -> FormItem:
    return FormItem(
        type="Text",
        key=key,
        label=label,
        required=required,
        is_confidential=True if confidential else msgspec.UNSET,
        **extra,
    )


_AUTH_METHODS = [
    {"value": "client_secret_post", "title": "client_secret_post"},
    {"value": "client_secret_basic", "title": "client_secret_basic"},
    {"value": "client_secret_jwt", "title": "client_secret_jwt"},
]
_COMMON_ITEMS = [
    _text("authorizationEndpoint", "Authorization Endpoint"),
    _text("tokenEndpoint", "Token Endpoint"),
    _text("clientId", "Client ID"),
    _text("clientSecret", "Client Secret", confidential=True),
    FormItem(
        type="Select",
        key="tokenEndpointAuthMethod",
        label="Token Endpoint Auth Method",
        select_items=_AUTH_METHODS,
        default_value="client_secret_post",
    ),
]

OIDC = FactoryMetadata(
    id="oidc",
    target="oidc",
    type="Social",
    platform="Universal",
    name={"en": "OIDC"},
    description={"en": "OpenID Connect: sign in with any provider that issues ID tokens."},
    logo=_logo("ID"),
    logo_dark=None,
    readme="Sign in with any OpenID Connect provider. The ID token is verified against `jwksUri`; "
    "`openid` is always part of the scope.",
    config_template=msgspec.json.encode(
        {
            "authorizationEndpoint": "<authorization-endpoint>",
            "tokenEndpoint": "<token-endpoint>",
            "clientId": "<client-id>",
            "clientSecret": "<client-secret>",
            "scope": "openid profile email",
            "idTokenVerificationConfig": {"jwksUri": "<jwks-uri>"},
        }
    ).decode(),
    form_items=[
        *_COMMON_ITEMS,
        _text("scope", "Scope", placeholder="openid profile email"),
        FormItem(type="Json", key="idTokenVerificationConfig", label="ID Token Verification Config", required=True),
        FormItem(type="Json", key="authRequestOptionalConfig", label="Authorization Request Optional Config"),
        FormItem(type="Json", key="customConfig", label="Custom Config"),
    ],
    is_standard=True,
    is_token_storage_supported=True,
)

OAUTH2 = FactoryMetadata(
    id="oauth2",
    target="oauth2",
    type="Social",
    platform="Universal",
    name={"en": "OAuth 2.0"},
    description={"en": "OAuth 2.0: sign in with any provider that has a user info endpoint."},
    logo=_logo("O2"),
    logo_dark=None,
    readme="Sign in with any OAuth 2.0 provider. The user is read from `userInfoEndpoint`; `profileMap` says "
    "which of its keys hold the id, email, phone, name and avatar.",
    config_template=msgspec.json.encode(
        {
            "authorizationEndpoint": "<authorization-endpoint>",
            "tokenEndpoint": "<token-endpoint>",
            "userInfoEndpoint": "<user-info-endpoint>",
            "clientId": "<client-id>",
            "clientSecret": "<client-secret>",
            "tokenEndpointResponseType": "json",
            "profileMap": {"id": "id", "email": "email", "phone": "phone", "name": "name", "avatar": "avatar"},
        }
    ).decode(),
    form_items=[
        *_COMMON_ITEMS,
        _text("userInfoEndpoint", "User Info Endpoint"),
        _text("scope", "Scope", required=False),
        FormItem(
            type="Select",
            key="tokenEndpointResponseType",
            label="Token Endpoint Response Type",
            select_items=[{"value": "query-string", "title": "query-string"}, {"value": "json", "title": "json"}],
            default_value="query-string",
        ),
        FormItem(type="Json", key="profileMap", label="Profile Map"),
        FormItem(type="Json", key="customConfig", label="Custom Config"),
    ],
    is_standard=True,
    is_token_storage_supported=True,
)


SAML = FactoryMetadata(
    id="saml",
    target="saml",
    type="Social",
    platform="Universal",
    name={"en": "SAML"},
    description={"en": "SAML 2.0: sign in with any identity provider that speaks SAML's Web Browser SSO profile."},
    logo=_logo("SA"),
    logo_dark=None,
    readme="Sign in with a SAML 2.0 identity provider. Give its metadata (`idpMetadataXml`) or its sign-in endpoint "
    "and signing certificate; `assertionConsumerServiceUrl` is `<public url>/api/authn/saml/<connector id>`. "
    "Responses must be signed; encrypted assertions and signed AuthnRequests are not supported.",
    config_template=msgspec.json.encode(
        {
            "entityID": "<service-provider-entity-id>",
            "assertionConsumerServiceUrl": "<public-url>/api/authn/saml/<connector-id>",
            "idpMetadataXml": "<identity-provider-metadata>",
            "profileMap": {"id": "nameID", "email": "email", "name": "name", "avatar": "avatar"},
        }
    ).decode(),
    form_items=[
        _text("entityID", "Service Provider Entity ID"),
        _text("assertionConsumerServiceUrl", "Assertion Consumer Service URL"),
        FormItem(type="MultilineText", key="idpMetadataXml", label="Identity Provider Metadata"),
        _text("signInEndpoint", "Identity Provider Sign-in Endpoint", required=False),
        FormItem(type="MultilineText", key="x509Certificate", label="Identity Provider Signing Certificate"),
        FormItem(type="Json", key="profileMap", label="Profile Map"),
    ],
    is_standard=True,
    is_token_storage_supported=False,
)


def _switch(key: str, label: str, **extra: Any) -> FormItem:
    return FormItem(type="Switch", key=key, label=label, required=False, **extra)


def _number(key: str, label: str, placeholder: str) -> FormItem:
    return FormItem(type="Number", key=key, label=label, required=False, placeholder=placeholder)


_CODE_TEMPLATES = [
    ("SignIn", "Sign In", "sign-in verification code"),
    ("Register", "Register", "sign-up verification code"),
    ("ForgotPassword", "Forgot Password", "password change verification code"),
    ("Generic", "Generic", "verification code"),
]

SMTP = FactoryMetadata(
    id=SMTP_FACTORY_ID,
    target="smtp",
    type="Email",
    platform=None,
    name={"en": "SMTP", "zh-CN": "SMTP", "tr-TR": "SMTP", "ko": "SMTP"},
    description={
        "en": "The SMTP is an internet standard communication protocol for electronic mail transmission.",
    },
    logo=_logo("@"),
    logo_dark=None,
    readme="Send emails (verification codes, organization invitations) through any SMTP server. Each template "
    "(`usageType`, `contentType` `text/plain` or `text/html`, `subject`, `content`) may use `{{code}}`, "
    "`{{link}}` and the other values of the message, such as `{{organization.name}}` in an organization "
    "invitation; a usage type without a template of its own uses the `Generic` one. `secure` connects with "
    "TLS (port 465); otherwise STARTTLS is used when the server offers it.",
    form_items=[
        _text("host", "Host", placeholder="<host>"),
        FormItem(type="Number", key="port", label="Port", required=True, placeholder="25"),
        FormItem(
            type="Json",
            key="auth",
            label="Auth",
            required=True,
            default_value={"type": "login", "user": "<username>", "pass": "<password>"},
        ),
        _text("fromEmail", "From Email", placeholder="<from_email_address@your.domain>"),
        _text("replyTo", "Reply To", required=False, placeholder="<do-reply@your.domain>"),
        FormItem(
            type="Json",
            key="templates",
            label="Templates",
            required=True,
            default_value=[
                {
                    "contentType": "text/plain",
                    "content": f"Your {what} is {{{{code}}}}. The code will remain active for 10 minutes.",
                    "subject": f"{title} with SMTP",
                    "usageType": usage,
                }
                for usage, title, what in _CODE_TEMPLATES
            ]
            + [
                {
                    "contentType": "text/plain",
                    "content": "You are invited to join {{organization.name}}: {{link}}",
                    "subject": "Organization invitation",
                    "usageType": "OrganizationInvitation",
                }
            ],
        ),
        _text("name", "Name", required=False, placeholder="<Logto-SMTP>"),
        _text("localAddress", "Local Address", required=False, placeholder="<local_address>"),
        _number("connectionTimeout", "Connection Timeout", "2 * 60 * 1000 (default is 2 minutes)"),
        _number("greetingTimeout", "Greeting Timeout", "30 * 1000 (default is 30 seconds)"),
        _number("socketTimeout", "Socket Timeout", "10 * 60 * 1000 (default is 10 minutes)"),
        _switch("secure", "Secure", default_value=False),
        FormItem(type="Json", key="tls", label="TLS", required=False, default_value={}),
        _switch("ignoreTLS", "Ignore TLS"),
        _switch("requireTLS", "Require TLS"),
        FormItem(
            type="Json",
            key="customHeaders",
            label="Custom Headers",
            required=False,
            default_value={},
            description="Custom headers to be added to original email headers when sending messages. Both keys "
            "and values should be string-typed.",
        ),
    ],
    is_standard=False,
)


def _not_social(*_: Any) -> Any:
    raise BadRequest("connector.unexpected_type")


def _saml_round_trip(*_: Any) -> Any:
    raise ConnectorError(
        "connector.not_implemented",
        "The SAML connector's sign-in runs through the Experience API (it needs the sign-in's session).",
        status=501,
    )


UserInfo = Callable[[aiohttp.ClientSession, Any, dict[str, Any]], Awaitable[SocialResult]]
Sender = Callable[[Any, str, str, Mapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class ConnectorFactory:
    """A Social factory has the round trips (`_authorization_uri`, `_user_info`); an Email or Sms one sends
    messages (`_send`). What a factory lacks is 400 `connector.unexpected_type`."""

    metadata: FactoryMetadata
    config_type: type[msgspec.Struct]
    _authorization_uri: Callable[[Any, str, str], str] = _not_social
    _user_info: UserInfo = _not_social
    _send: Sender | None = None

    @property
    def id(self) -> str:
        return self.metadata.id

    def parse_config(self, config: dict[str, Any]) -> Any:
        """The config as this factory's Struct; 400 `connector.invalid_config` (Logto's code) if it does not fit."""
        try:
            return msgspec.convert(config, self.config_type)
        except msgspec.ValidationError as error:
            raise BadRequest("connector.invalid_config", f"The connector's config is invalid: {error}") from None

    def authorization_uri(self, config: dict[str, Any], state: str, redirect_uri: str) -> str:
        return self._authorization_uri(self.parse_config(config), state, redirect_uri)

    async def user_info(
        self, session: aiohttp.ClientSession, config: dict[str, Any], data: dict[str, Any]
    ) -> SocialResult:
        """The provider's round trip for `data` (the query of the redirect back: `code`, `state`, and the
        `redirectUri` the authorization URI was built with)."""
        return await self._user_info(session, self.parse_config(config), data)

    async def send_message(self, config: dict[str, Any], to: str, usage_type: str, payload: Mapping[str, Any]) -> None:
        """Logto's `sendMessage({to, type, payload}, config)`: the message of this usage type (Logto's
        `TemplateType`: `Generic`, `OrganizationInvitation`...) with the payload's values, sent to `to`."""
        if self._send is None:
            raise BadRequest("connector.unexpected_type")
        await self._send(self.parse_config(config), to, usage_type, payload)

    async def refresh(self, session: aiohttp.ClientSession, config: dict[str, Any], refresh_token: str) -> TokenSet:
        """A new token set from the provider's refresh grant (both generic connectors have one)."""
        parsed = self.parse_config(config)
        query_string = getattr(parsed, "token_endpoint_response_type", "json") == "query-string"
        return await refresh_tokens(session, parsed, refresh_token, query_string=query_string)


FACTORIES: dict[str, ConnectorFactory] = {
    f.id: f
    for f in (
        ConnectorFactory(OIDC, OidcConfig, oidc_authorization_uri, oidc_user_info),
        ConnectorFactory(OAUTH2, OAuth2Config, oauth2_authorization_uri, oauth2_user_info),
        ConnectorFactory(SAML, SamlConfig, _saml_round_trip, _saml_round_trip),
        ConnectorFactory(SMTP, SmtpConfig, _send=send_email),
    )
}


def factory_of(factory_id: str) -> ConnectorFactory:
    factory = FACTORIES.get(factory_id)
    if factory is None:
        raise NotFound("entity.not_found")
    return factory
