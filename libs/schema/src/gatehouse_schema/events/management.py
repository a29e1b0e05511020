"""Events of the management context."""

from typing import ClassVar, Literal

import msgspec

from gatehouse_schema.api.applications import Application
from gatehouse_schema.api.resources import Resource, Scope
from gatehouse_schema.api.roles import Role
from gatehouse_schema.events.envelope import EventData


class _ManagementEvent(EventData, kw_only=True):
    context: ClassVar[str] = "management"


class ApplicationCreated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Application.Created"
    description: ClassVar[str] = "An application was created."
    data: Application

    def entity_id(self) -> str:
        return self.data.id


class ApplicationDataUpdated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Application.Data.Updated"
    description: ClassVar[str] = (
        "An application's data changed (including its secrets: the payload names the change, never the value)."
    )
    data: Application
    changed: list[str]

    def entity_id(self) -> str:
        return self.data.id


class ApplicationDeleted(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Application.Deleted"
    description: ClassVar[str] = "An application was deleted."
    data: Application

    def entity_id(self) -> str:
        return self.data.id


class ResourceCreated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Resource.Created"
    description: ClassVar[str] = "An API resource was created."
    data: Resource

    def entity_id(self) -> str:
        return self.data.id


class ResourceDataUpdated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Resource.Data.Updated"
    description: ClassVar[str] = "An API resource's name, token TTL or default flag changed."
    data: Resource

    def entity_id(self) -> str:
        return self.data.id


class ResourceDeleted(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Resource.Deleted"
    description: ClassVar[str] = "An API resource was deleted, with its scopes and their role links."
    data: Resource

    def entity_id(self) -> str:
        return self.data.id


class ScopeCreated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Scope.Created"
    description: ClassVar[str] = "A permission (scope) was added to an API resource."
    data: Scope

    def entity_id(self) -> str:
        return self.data.id


class ScopeDataUpdated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Scope.Data.Updated"
    description: ClassVar[str] = "A scope's name or description changed."
    data: Scope

    def entity_id(self) -> str:
        return self.data.id


class ScopeDeleted(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Scope.Deleted"
    description: ClassVar[str] = "A scope was deleted (and removed from every role)."
    data: Scope

    def entity_id(self) -> str:
        return self.data.id


class RoleCreated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Role.Created"
    description: ClassVar[str] = "A role was created."
    data: Role

    def entity_id(self) -> str:
        return self.data.id


class RoleDataUpdated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Role.Data.Updated"
    description: ClassVar[str] = "A role's name, description or default flag changed."
    data: Role

    def entity_id(self) -> str:
        return self.data.id


class RoleDeleted(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Role.Deleted"
    description: ClassVar[str] = "A role was deleted (and removed from every user and application)."
    data: Role

    def entity_id(self) -> str:
        return self.data.id


class RoleScopesUpdated(_ManagementEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "Role.Scopes.Updated"
    description: ClassVar[str] = "Scopes were linked to or unlinked from a role."
    role_id: str
    added_scope_ids: list[str]
    removed_scope_ids: list[str]

    def entity_id(self) -> str:
        return self.role_id


class RoleUsersUpdated(_ManagementEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "Role.Users.Updated"
    description: ClassVar[str] = "Users were assigned to or removed from a role."
    role_id: str
    added_user_ids: list[str]
    removed_user_ids: list[str]

    def entity_id(self) -> str:
        return self.role_id


class RoleApplicationsUpdated(_ManagementEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "Role.Applications.Updated"
    description: ClassVar[str] = (
        "Machine-to-machine applications were assigned to or removed from a role: their next client_credentials "
        "token carries the new scopes."
    )
    role_id: str
    added_application_ids: list[str]
    removed_application_ids: list[str]

    def entity_id(self) -> str:
        return self.role_id


class SignInExperienceUpdated(_ManagementEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "SignInExperience.Updated"
    description: ClassVar[str] = (
        "The tenant's sign-in experience changed (`PATCH /api/sign-in-exp`); `changed` names the top-level "
        "fields the request wrote. Logto has no data hook for it, so it is not delivered to webhooks; it lets "
        "readers of the settings (the hosted sign-in pages) drop their copy, and the audit log record the change."
    )
    changed: list[str]

    def entity_id(self) -> str:
        return "default"


class CustomPhraseUpdated(_ManagementEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "CustomPhrase.Updated"
    description: ClassVar[str] = (
        "The custom phrases of a language were written (`PUT`) or deleted (`deleted`). The payload names the "
        "language only. Logto has no data hook for it, so it is not delivered to webhooks."
    )
    language_tag: str
    deleted: bool = False

    def entity_id(self) -> str:
        return self.language_tag


class ConnectorBrief(msgspec.Struct, kw_only=True, rename="camel"):
    """A connector as its events name it: its id, its factory's id (`connectorId`, e.g. `oidc`), the target its
    social identities are kept under (the connector's own for a standard factory), the factory's type (`null`
    for a connector whose factory Gatehouse no longer ships) and whether it stores token sets. Never its config:
    that holds the provider's client secret."""

    id: str
    connector_id: str
    target: str
    type: Literal["Email", "Sms", "Social"] | None
    enable_token_storage: bool


class ConnectorCreated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Connector.Created"
    description: ClassVar[str] = (
        "A connector was created (`POST /api/connectors`). Logto has no data hook for connectors, so it is not "
        "delivered to webhooks; it reaches the audit log."
    )
    data: ConnectorBrief

    def entity_id(self) -> str:
        return self.data.id


class ConnectorUpdated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Connector.Updated"
    description: ClassVar[str] = (
        "A connector was updated (`PATCH /api/connectors/{id}`); `changed` names the fields the request wrote. "
        "When `enableTokenStorage` is false, identity drops the token sets it stored through this connector. "
        "Not delivered to webhooks."
    )
    data: ConnectorBrief
    changed: list[str]

    def entity_id(self) -> str:
        return self.data.id


class ConnectorDeleted(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Connector.Deleted"
    description: ClassVar[str] = (
        "A connector was deleted; identity drops the token sets it stored through it. Not delivered to webhooks."
    )
    data: ConnectorBrief

    def entity_id(self) -> str:
        return self.data.id


class SsoConnectorBrief(msgspec.Struct, kw_only=True, rename="camel"):
    """An enterprise SSO connector as its events name it: id, provider (`OIDC`, `SAML`, `AzureAD`, ...) and its
    protocol, name, email domains, and whether it syncs profiles and stores token sets. Never its config: that
    holds the IdP's client secret."""

    id: str
    provider_name: str
    provider_type: Literal["oidc", "saml"]
    connector_name: str
    domains: list[str]
    sync_profile: bool
    enable_token_storage: bool


class SsoConnectorCreated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "SsoConnector.Created"
    description: ClassVar[str] = (
        "An enterprise SSO connector was created (`POST /api/sso-connectors`). Logto has no data hook for it, "
        "so it is not delivered to webhooks; it reaches the audit log."
    )
    data: SsoConnectorBrief

    def entity_id(self) -> str:
        return self.data.id


class SsoConnectorUpdated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "SsoConnector.Updated"
    description: ClassVar[str] = (
        "An enterprise SSO connector was updated (`PATCH /api/sso-connectors/{id}`); `changed` names the fields "
        "the request wrote (`config` without its content). When `enableTokenStorage` is false, identity drops the "
        "token sets it kept through this connector. Not delivered to webhooks."
    )
    data: SsoConnectorBrief
    changed: list[str]

    def entity_id(self) -> str:
        return self.data.id


class SsoConnectorDeleted(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "SsoConnector.Deleted"
    description: ClassVar[str] = (
        "An enterprise SSO connector was deleted, with its SAML signing keys. In Logto the users' SSO identities "
        "through it go with it (a foreign key); in Gatehouse they live in identity, which drops them, and their "
        "token sets, on this event. Not delivered to webhooks."
    )
    data: SsoConnectorBrief

    def entity_id(self) -> str:
        return self.data.id
