"""The secret vault's route (Logto's tag Secrets)."""

from typing import Any

from gatehouse_platform.tenancy import tenant_of
from litestar import Request, delete
from litestar.status_codes import HTTP_204_NO_CONTENT

from gatehouse_identity.services.social_links import SocialLinkService

AnyRequest = Request[Any, Any, Any]


@delete(
    "/api/secrets/{id:str}",
    operation_id="DeleteSecret",
    tags=["Secrets"],
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete secret",
)
async def delete_secret(request: AnyRequest, social_links: SocialLinkService, id: str) -> None:
    await social_links.delete_secret(tenant_of(request), id)


ROUTES = [delete_secret]
