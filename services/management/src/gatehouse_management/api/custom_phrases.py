"""Custom phrases routes (Logto's `routes/custom-phrase.ts`)."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, delete, get, put
from litestar.params import Body
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_management.api.custom_phrase_bodies import CustomPhrase
from gatehouse_management.services.custom_phrases import CustomPhraseService

TAGS = ["Custom phrases"]
AnyRequest = Request[Any, Any, Any]


@get("/api/custom-phrases", operation_id="ListCustomPhrases", tags=TAGS, summary="Get all custom phrases")
async def list_custom_phrases(request: AnyRequest, custom_phrases: CustomPhraseService) -> list[CustomPhrase]:
    return await custom_phrases.list(tenant_of(request))


@get(
    "/api/custom-phrases/{languageTag:str}",
    operation_id="GetCustomPhrase",
    tags=TAGS,
    summary="Get custom phrases",
)
async def get_custom_phrase(request: AnyRequest, custom_phrases: CustomPhraseService, languageTag: str) -> CustomPhrase:
    return await custom_phrases.get(tenant_of(request), languageTag)


@put(
    "/api/custom-phrases/{languageTag:str}",
    operation_id="ReplaceCustomPhrase",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Upsert custom phrases",
)
async def replace_custom_phrase(
    request: AnyRequest,
    custom_phrases: CustomPhraseService,
    languageTag: str,
    data: Annotated[dict[str, Any], Body()],
) -> CustomPhrase:
    return await custom_phrases.replace(tenant_of(request), languageTag, data, actor_of(request))


@delete(
    "/api/custom-phrases/{languageTag:str}",
    operation_id="DeleteCustomPhrase",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete custom phrase",
)
async def delete_custom_phrase(request: AnyRequest, custom_phrases: CustomPhraseService, languageTag: str) -> None:
    await custom_phrases.delete(tenant_of(request), languageTag, actor_of(request))


ROUTES = [list_custom_phrases, get_custom_phrase, replace_custom_phrase, delete_custom_phrase]
