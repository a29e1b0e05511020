"""Subject tokens (Logto's "Subject tokens" group): a token an application exchanges, once, for an
access token of the user it names (the token-exchange grant)."""

from typing import Annotated, Any

import msgspec
from gatehouse_platform.actors import actor_of
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, post
from litestar.params import Body
from litestar.status_codes import HTTP_201_CREATED
from msgspec import UNSET, UnsetType

from gatehouse_identity.services.subject_tokens import SubjectTokenService


class CreateSubjectToken(msgspec.Struct, kw_only=True, rename="camel"):
    user_id: str
    context: dict[str, Any] | UnsetType = UNSET


class SubjectTokenOut(msgspec.Struct, rename="camel"):
    subject_token: str
    expires_in: int


@post(
    "/api/subject-tokens",
    operation_id="CreateSubjectToken",
    tags=["Subject tokens"],
    status_code=HTTP_201_CREATED,
    summary="Create a new subject token.",
)
async def create_subject_token(
    request: Request[Any, Any, Any], subject_tokens: SubjectTokenService, data: Annotated[CreateSubjectToken, Body()]
) -> SubjectTokenOut:
    context = {} if data.context is UNSET else data.context
    issued = await subject_tokens.create(tenant_of(request), data.user_id, context, actor_of(request).id)
    return SubjectTokenOut(issued.subject_token, issued.expires_in)


ROUTES = [create_subject_token]
