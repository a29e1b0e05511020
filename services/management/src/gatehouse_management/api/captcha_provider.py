"""Captcha provider routes (Logto's `routes/captcha-provider`)."""

from typing import Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, delete, get, put
from litestar.status_codes import HTTP_204_NO_CONTENT

from gatehouse_management.api.captcha_provider_bodies import CaptchaProvider, UpdateCaptchaProvider
from gatehouse_management.services.captcha_provider import CaptchaProviderService

TAGS = ["Captcha provider"]
AnyRequest = Request[Any, Any, Any]


@get("/api/captcha-provider", operation_id="GetCaptchaProvider", tags=TAGS, summary="Get captcha provider")
async def get_captcha_provider(request: AnyRequest, captcha_provider: CaptchaProviderService) -> CaptchaProvider:
    return await captcha_provider.get(tenant_of(request))


@put("/api/captcha-provider", operation_id="UpdateCaptchaProvider", tags=TAGS, summary="Update captcha provider")
async def update_captcha_provider(
    request: AnyRequest, captcha_provider: CaptchaProviderService, data: UpdateCaptchaProvider
) -> CaptchaProvider:
    return await captcha_provider.put(tenant_of(request), data.config)


@delete(
    "/api/captcha-provider",
    operation_id="DeleteCaptchaProvider",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete captcha provider",
)
async def delete_captcha_provider(request: AnyRequest, captcha_provider: CaptchaProviderService) -> None:
    await captcha_provider.delete(tenant_of(request), actor_of(request))


ROUTES = [get_captcha_provider, update_captcha_provider, delete_captcha_provider]
