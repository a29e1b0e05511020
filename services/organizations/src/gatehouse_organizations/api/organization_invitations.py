"""Routes of the Organization invitations group (Logto's operation ids)."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.organizations import OrganizationInvitation
from litestar import Request, delete, get, post, put
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_organizations.api.organization_invitations_bodies import (
    CreateOrganizationInvitation,
    MessagePayload,
    ReplaceOrganizationInvitationStatus,
)
from gatehouse_organizations.persistence.organization_invitations import InvitationFilter
from gatehouse_organizations.services.organization_invitations import OrganizationInvitationService

TAGS = ["Organization invitations"]
AnyRequest = Request[Any, Any, Any]
BASE = "/api/organization-invitations"
INVITATION = BASE + "/{id:str}"


@get(BASE, operation_id="ListOrganizationInvitations", tags=TAGS, summary="Get organization invitations")
async def list_organization_invitations(
    request: AnyRequest,
    organization_invitations: OrganizationInvitationService,
    organization_id: Annotated[str | None, Parameter(query="organizationId")] = None,
    inviter_id: Annotated[str | None, Parameter(query="inviterId")] = None,
    invitee: str | None = None,
) -> list[OrganizationInvitation]:
    """Every matching invitation, newest first; Logto does not paginate this list. An empty filter is no filter,
    as in Logto."""
    where = InvitationFilter(
        organization_id=organization_id or None, inviter_id=inviter_id or None, invitee=invitee or None
    )
    return await organization_invitations.find(tenant_of(request), where)


@post(
    BASE,
    operation_id="CreateOrganizationInvitation",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Create organization invitation",
)
async def create_organization_invitation(
    request: AnyRequest,
    organization_invitations: OrganizationInvitationService,
    data: Annotated[CreateOrganizationInvitation, Body()],
) -> OrganizationInvitation:
    return await organization_invitations.create(tenant_of(request), data)


@get(INVITATION, operation_id="GetOrganizationInvitation", tags=TAGS, summary="Get organization invitation")
async def get_organization_invitation(
    request: AnyRequest, organization_invitations: OrganizationInvitationService, id: str
) -> OrganizationInvitation:
    return await organization_invitations.get(tenant_of(request), id)


@delete(
    INVITATION,
    operation_id="DeleteOrganizationInvitation",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete organization invitation",
)
async def delete_organization_invitation(
    request: AnyRequest, organization_invitations: OrganizationInvitationService, id: str
) -> None:
    await organization_invitations.delete(tenant_of(request), id)


@post(
    INVITATION + "/message",
    operation_id="CreateOrganizationInvitationMessage",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Resend invitation message",
)
async def create_organization_invitation_message(
    request: AnyRequest,
    organization_invitations: OrganizationInvitationService,
    id: str,
    data: Annotated[MessagePayload, Body()],
) -> None:
    await organization_invitations.send_message(tenant_of(request), id, data)


@put(
    INVITATION + "/status",
    operation_id="ReplaceOrganizationInvitationStatus",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Update organization invitation status",
)
async def replace_organization_invitation_status(
    request: AnyRequest,
    organization_invitations: OrganizationInvitationService,
    id: str,
    data: Annotated[ReplaceOrganizationInvitationStatus, Body()],
) -> OrganizationInvitation:
    return await organization_invitations.set_status(
        tenant_of(request), id, data.status, data.accepted_user_id, actor_of(request)
    )


ROUTES: list[Any] = [
    list_organization_invitations,
    create_organization_invitation,
    get_organization_invitation,
    delete_organization_invitation,
    create_organization_invitation_message,
    replace_organization_invitation_status,
]
