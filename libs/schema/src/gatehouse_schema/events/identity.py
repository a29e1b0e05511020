"""Events of the identity context."""

from typing import ClassVar

from gatehouse_schema.api.users import User
from gatehouse_schema.events.envelope import EventData


class SigningKeyRotated(EventData, kw_only=True, rename="camel"):
    context: ClassVar[str] = "identity"
    event_type: ClassVar[str] = "SigningKey.Rotated"
    description: ClassVar[str] = (
        "The OIDC signing keys changed (created, rotated, promoted or deleted): token validators refetch the JWKS. "
        "`keyIds` lists the keys of that type after the change; `keyType` is `private-keys` or `cookie-keys`."
    )
    key_ids: list[str]
    key_type: str = "private-keys"


class _UserEvent(EventData, kw_only=True, rename="camel"):
    context: ClassVar[str] = "identity"
    data: User

    def entity_id(self) -> str:
        return self.data.id


class UserCreated(_UserEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "User.Created"
    description: ClassVar[str] = "A user was created (the payload never carries password material)."


class UserDataUpdated(_UserEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "User.Data.Updated"
    description: ClassVar[str] = (
        "A user's data changed: profile fields, custom data, password, password expiration, logto config, "
        "social identities or MFA factors (`changed` names the fields; the payload never carries password material, "
        "TOTP secrets or backup codes)."
    )
    changed: list[str]


class UserDeleted(_UserEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "User.Deleted"
    description: ClassVar[str] = "A user was deleted."


class UserSuspensionStatusUpdated(_UserEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "User.SuspensionStatus.Updated"
    description: ClassVar[str] = "A user was suspended or reinstated (`data.isSuspended`)."


class UserRegistered(EventData, kw_only=True, rename="camel"):
    context: ClassVar[str] = "identity"
    event_type: ClassVar[str] = "User.Registered"
    description: ClassVar[str] = (
        "A user registered through the Experience API (`user.create`, in the transaction that creates them, "
        "besides `User.Created`): their `primaryEmail` and, for an enterprise SSO registration, the "
        "`ssoConnectorId` it came through. Organizations provisions the user just in time by them (the connector's "
        "organizations, else the email domain's). Gatehouse's own: not delivered to webhooks."
    )
    user_id: str
    primary_email: str | None
    sso_connector_id: str | None

    def entity_id(self) -> str:
        return self.user_id


class UserSsoIdentityLinked(EventData, kw_only=True, rename="camel"):
    context: ClassVar[str] = "identity"
    event_type: ClassVar[str] = "User.SsoIdentity.Linked"
    description: ClassVar[str] = (
        "An enterprise SSO identity was linked to an existing user at an Experience API sign-in's submit (Logto's "
        "link by the IdP's email, `user.sso_sign_in`): organizations provisions the user just in time by the "
        "connector. Gatehouse's own: not delivered to webhooks."
    )
    user_id: str
    sso_connector_id: str

    def entity_id(self) -> str:
        return self.user_id


class TokenConfigUpdated(EventData, kw_only=True, rename="camel"):
    context: ClassVar[str] = "identity"
    event_type: ClassVar[str] = "TokenConfig.Updated"
    description: ClassVar[str] = (
        "A token claims configuration was written or deleted: a JWT customizer (`key` `jwt.accessToken` or "
        "`jwt.clientCredentials`) or the ID token's extended claims (`idToken`). Identity replicas drop their "
        "cached copy. The payload never carries the configuration (customizer variables may be confidential)."
    )
    key: str
    deleted: bool = False

    def entity_id(self) -> str:
        return self.key
