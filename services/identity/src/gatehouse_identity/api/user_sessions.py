"""The Users routes over identity's OIDC state: a user's sessions and grants (operation ids are Logto's).

Rendered in the shape Logto serves (node-oidc-provider's stored payloads): a session's `jti` and `uid`
are its id, `authorizations` maps each client to its grant; payload times are epoch seconds,
`expiresAt` epoch milliseconds. `lastSubmission` (the sign-in's verification records) stays with
experience, so it is `null`; `clientId` is the first client the session signed in to.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, delete, get
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT
from msgspec import UNSET, UnsetType

from gatehouse_identity.oidc.user_sessions import (
    OFFLINE_ACCESS,
    AppType,
    ListedGrant,
    RevokeTarget,
    SessionRow,
    UserSessionService,
)

TAGS = ["Users"]
AnyRequest = Request[Any, Any, Any]
USER = "/api/users/{userId:str}"


class Authorization(msgspec.Struct, kw_only=True, rename="camel"):
    sid: str
    grant_id: str
    persists_logout: bool


class SessionPayload(msgspec.Struct, kw_only=True, rename="camel"):
    exp: int
    iat: int
    jti: str
    uid: str
    kind: Literal["Session"]
    login_ts: int
    account_id: str
    authorizations: dict[str, Authorization]


class UserSession(msgspec.Struct, kw_only=True, rename="camel"):
    payload: SessionPayload
    last_submission: dict[str, Any] | None
    client_id: str | None
    account_id: str | None
    expires_at: int


class UserSessions(msgspec.Struct, kw_only=True):
    sessions: list[UserSession]


class OpenIdGrant(msgspec.Struct, kw_only=True):
    scope: str


class GrantPayload(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    exp: int
    iat: int
    jti: str
    kind: Literal["Grant"]
    client_id: str
    account_id: str
    openid: OpenIdGrant
    resources: dict[str, str]  # indicator -> space-separated scopes
    session_uid: str | UnsetType = UNSET


class GrantApplication(msgspec.Struct, kw_only=True):
    id: str
    name: str


class UserGrant(msgspec.Struct, kw_only=True, rename="camel"):
    id: str
    payload: GrantPayload
    expires_at: int
    application: GrantApplication


class UserGrants(msgspec.Struct, kw_only=True):
    grants: list[UserGrant]


def _s(at: datetime) -> int:
    return int(at.timestamp())


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def render_session(session: SessionRow) -> UserSession:
    authorizations = {
        g.client_id: Authorization(sid=session.id, grant_id=g.id, persists_logout=OFFLINE_ACCESS in g.scopes)
        for g in session.grants
    }
    payload = SessionPayload(
        exp=_s(session.expires_at),
        iat=_s(session.created_at),
        jti=session.id,
        uid=session.id,
        kind="Session",
        login_ts=_s(session.login_at),
        account_id=session.account_id,
        authorizations=authorizations,
    )
    return UserSession(
        payload=payload,
        last_submission=None,
        client_id=session.grants[0].client_id if session.grants else None,
        account_id=session.account_id,
        expires_at=_ms(session.expires_at),
    )


def render_grant(listed: ListedGrant) -> UserGrant:
    g = listed.grant
    payload = GrantPayload(
        exp=_s(g.expires_at),
        iat=_s(g.created_at),
        jti=g.id,
        kind="Grant",
        client_id=g.client_id,
        account_id=g.account_id,
        openid=OpenIdGrant(scope=" ".join(g.scopes)),
        resources={indicator: " ".join(scopes) for indicator, scopes in g.resources.items()},
        session_uid=g.session_id if g.session_id is not None else UNSET,
    )
    return UserGrant(
        id=g.id,
        payload=payload,
        expires_at=_ms(g.expires_at),
        application=GrantApplication(id=g.client_id, name=listed.application_name),
    )


@get(f"{USER}/grants", operation_id="ListUserGrants", tags=TAGS, summary="List user grants")
async def list_user_grants(
    request: AnyRequest,
    user_sessions: UserSessionService,
    userId: str,
    app_type: Annotated[AppType | None, Parameter(query="appType")] = None,
) -> UserGrants:
    return UserGrants(
        grants=[render_grant(g) for g in await user_sessions.grants(tenant_of(request), userId, app_type)]
    )


@delete(
    f"{USER}/grants/{{grantId:str}}",
    operation_id="DeleteUserGrant",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Revoke a user grant",
)
async def delete_user_grant(request: AnyRequest, user_sessions: UserSessionService, userId: str, grantId: str) -> None:
    await user_sessions.revoke_grant(tenant_of(request), userId, grantId)


@get(f"{USER}/sessions", operation_id="ListUserSessions", tags=TAGS, summary="List user sessions")
async def list_user_sessions(request: AnyRequest, user_sessions: UserSessionService, userId: str) -> UserSessions:
    return UserSessions(sessions=[render_session(s) for s in await user_sessions.sessions(tenant_of(request), userId)])


@get(f"{USER}/sessions/{{sessionId:str}}", operation_id="GetUserSession", tags=TAGS, summary="Get a user session")
async def get_user_session(
    request: AnyRequest, user_sessions: UserSessionService, userId: str, sessionId: str
) -> UserSession:
    return render_session(await user_sessions.session(tenant_of(request), userId, sessionId))


@delete(
    f"{USER}/sessions/{{sessionId:str}}",
    operation_id="DeleteUserSession",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Revoke a user session",
)
async def delete_user_session(
    request: AnyRequest,
    user_sessions: UserSessionService,
    userId: str,
    sessionId: str,
    revoke_grants_target: Annotated[RevokeTarget | None, Parameter(query="revokeGrantsTarget")] = None,
) -> None:
    await user_sessions.revoke_session(tenant_of(request), userId, sessionId, revoke_grants_target)


ROUTES = [list_user_grants, delete_user_grant, list_user_sessions, get_user_session, delete_user_session]
