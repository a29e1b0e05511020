"""Request bodies of the Organization invitations routes (Logto's field names and guards)."""

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

#: zod's `.email()` (v3), which Logto's guard uses for `invitee`
EMAIL_PATTERN = r"^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$"
Email = Annotated[str, Meta(pattern=EMAIL_PATTERN, max_length=256)]
OrganizationId = Annotated[str, Meta(min_length=1, max_length=21)]
UserId = Annotated[str, Meta(max_length=21)]


class MessagePayload(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """The values of Logto's `OrganizationInvitation` email template (`sendMessagePayloadGuard`)."""

    code: str | UnsetType = UNSET
    link: str | UnsetType = UNSET
    locale: str | UnsetType = UNSET
    ui_locales: str | UnsetType = UNSET


class CreateOrganizationInvitation(msgspec.Struct, kw_only=True, rename="camel"):
    invitee: Email
    organization_id: OrganizationId
    expires_at: float  # epoch milliseconds
    inviter_id: UserId | None = None
    organization_role_ids: list[str] = msgspec.field(default_factory=list)
    # an object: send the invitation by email; `false` (Logto's default): do not; `true` is refused
    message_payload: MessagePayload | bool = False


class ReplaceOrganizationInvitationStatus(msgspec.Struct, kw_only=True, rename="camel"):
    status: Literal["Accepted", "Revoked"]
    accepted_user_id: UserId | None = None
