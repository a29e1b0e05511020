"""Routes of the device authorization grant (RFC 8628): `POST /oidc/device/auth` for the device, and
the user-code pages `GET|POST /oidc/device` and `GET /oidc/device/{uid}` for the user's browser.
Thin: parse, call `DeviceFlow`, render (JSON for the device, small HTML pages for the browser)."""

import html
from typing import Any
from urllib.parse import parse_qsl

from gatehouse_platform.oauth_errors import OAuthError
from gatehouse_platform.service import ServiceContext
from litestar import Request, Response, get, post, route
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER

from gatehouse_identity.api.oidc import NO_STORE, per_method
from gatehouse_identity.oidc.authorization import CookieChange
from gatehouse_identity.oidc.cookies import INTERACTION_COOKIE, SESSION_COOKIE
from gatehouse_identity.oidc.device import XSRF_COOKIE, DeviceAuthorizationResponse, DeviceFlow, DeviceOutcome

AnyRequest = Request[Any, Any, Any]

TITLES = {
    "form": "Connect a device",
    "done": "Device connected",
    "denied": "Device not connected",
    "error": "Device sign-in",
}


def _cookies(changes: list[CookieChange], ctx: ServiceContext) -> list[Cookie]:
    common: dict[str, Any] = {
        "path": "/",
        "httponly": True,
        "samesite": "lax",
        "secure": ctx.settings.public_url.startswith("https://"),
    }
    return [
        Cookie(key=c.name, value="", max_age=0, expires=0, **common)
        if c.value is None
        else Cookie(key=c.name, value=c.value, max_age=c.max_age, **common)
        for c in changes
    ]


def _page(outcome: DeviceOutcome, ctx: ServiceContext, flow: DeviceFlow) -> Response[Any]:
    changes = list(outcome.cookies)
    body = ""
    if outcome.message:
        body += f'<p role="alert">{html.escape(outcome.message)}</p>'
    if outcome.page == "form":
        token, cookie = flow.new_form()
        changes = [c for c in changes if c.name != XSRF_COOKIE] + [cookie]
        body += (
            '<form method="post" action="/oidc/device">'
            '<label for="user_code">Enter the code shown on your device</label> '
            f'<input id="user_code" name="user_code" value="{html.escape(outcome.user_code, quote=True)}"'
            ' autocomplete="off" autocapitalize="characters" placeholder="XXXX-XXXX" required> '
            f'<input type="hidden" name="xsrf" value="{html.escape(token, quote=True)}">'
            '<button type="submit">Continue</button></form>'
        )
    title = TITLES.get(outcome.page, "Device sign-in")
    head = f"<!DOCTYPE html><html><head><meta charset=utf-8><title>{title}</title></head>"
    document = f"{head}<body><h1>{title}</h1>{body}</body></html>"
    return Response(
        document,
        media_type=MediaType.HTML,
        status_code=outcome.status,
        headers=NO_STORE,
        cookies=_cookies(changes, ctx),
    )


def _render(outcome: DeviceOutcome, ctx: ServiceContext, flow: DeviceFlow) -> Response[Any]:
    if outcome.location is None:
        return _page(outcome, ctx, flow)
    return Response(
        None,
        status_code=HTTP_303_SEE_OTHER,
        headers={"Location": outcome.location, **NO_STORE},
        cookies=_cookies(outcome.cookies, ctx),
    )


@post(
    "/oidc/device/auth",
    operation_id="CreateDeviceAuthorization",
    tags=["OIDC"],
    status_code=HTTP_200_OK,
    summary="Device authorization endpoint (RFC 8628)",
)
async def device_authorization(request: AnyRequest, ctx: ServiceContext, device_flow: DeviceFlow) -> Response[Any]:
    try:
        result: DeviceAuthorizationResponse = await device_flow.authorize(
            ctx.settings.default_tenant_id,
            request.headers.get("authorization"),
            request.headers.get("content-type"),
            await request.body(),
        )
    except OAuthError as exc:
        headers = dict(NO_STORE)
        if exc.error == "invalid_client" and request.headers.get("authorization", "")[:6].lower() == "basic ":
            headers["WWW-Authenticate"] = 'Basic realm="gatehouse"'
        return Response(exc.body(), status_code=exc.status, headers=headers)
    return Response(result, headers=NO_STORE)


@route(
    "/oidc/device",
    http_method=["GET", "POST"],
    operation_id=per_method("DeviceVerification"),
    status_code=HTTP_200_OK,
    tags=["OIDC"],
    summary="User code entry of the device authorization grant",
)
async def device_verification(request: AnyRequest, ctx: ServiceContext, device_flow: DeviceFlow) -> Response[Any]:
    if request.method == "GET":
        prefill = request.query_params.get("user_code") or ""
        return _page(DeviceOutcome(user_code=prefill), ctx, device_flow)
    content_type = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    try:
        if content_type != "application/x-www-form-urlencoded":
            raise ValueError
        params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    except (ValueError, UnicodeDecodeError):
        unreadable = DeviceOutcome(message="The form could not be read. Please try again.", status=400)
        return _page(unreadable, ctx, device_flow)
    outcome = await device_flow.submit(
        ctx.settings.default_tenant_id, params, request.cookies.get(XSRF_COOKIE), request.cookies.get(SESSION_COOKIE)
    )
    return _render(outcome, ctx, device_flow)


@get(
    "/oidc/device/{uid:str}",
    operation_id="ResumeDeviceVerification",
    tags=["OIDC"],
    summary="Finish a device authorization after the sign-in interaction",
)
async def device_resume(uid: str, request: AnyRequest, ctx: ServiceContext, device_flow: DeviceFlow) -> Response[Any]:
    outcome = await device_flow.resume(
        ctx.settings.default_tenant_id,
        uid,
        request.cookies.get(INTERACTION_COOKIE),
        request.cookies.get(SESSION_COOKIE),
    )
    return _render(outcome, ctx, device_flow)


ROUTES = [device_authorization, device_verification, device_resume]
