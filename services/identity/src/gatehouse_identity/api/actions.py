"""Routes of Logto's Actions configs (`/api/configs/actions*`, tag Configs); the use cases are
`services/actions.py`."""

from typing import Annotated, Any, Literal

import msgspec
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, Response, delete, get, patch, post, put
from litestar.openapi import ResponseSpec
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, UnsetType

from gatehouse_identity.services.actions import NO_RESULT, ActionConfigService, execute

TAGS = ["Configs"]
AnyRequest = Request[Any, Any, Any]
ACTIONS = "/api/configs/actions"
ACTION = ACTIONS + "/{actionType:str}"
ActionType = Literal["action.postFirstFactorVerification", "action.postSignIn"]
Policy = Literal["block", "allow"]


class ActionConfig(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    """Logto's `logtoActionGuard` (strict: unknown keys are refused); stored as given."""

    script: str
    environment_variables: dict[str, str] | UnsetType = UNSET
    context_sample: Any = UNSET
    enabled: bool | UnsetType = UNSET
    on_execution_error: Policy | UnsetType = UNSET


class ActionConfigPatch(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    script: str | UnsetType = UNSET
    environment_variables: dict[str, str] | UnsetType = UNSET
    context_sample: Any = UNSET
    enabled: bool | UnsetType = UNSET
    on_execution_error: Policy | UnsetType = UNSET


class ActionEntry(msgspec.Struct, kw_only=True):
    key: ActionType
    value: ActionConfig


class ActionTest(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    script: str
    action_type: ActionType
    event: Any
    environment_variables: dict[str, str] = msgspec.field(default_factory=dict)


def _config(value: dict[str, Any]) -> ActionConfig:
    return msgspec.convert(value, ActionConfig)


@get(ACTIONS, operation_id="ListActions", tags=TAGS, summary="Get all actions")
async def list_actions(request: AnyRequest, action_configs: ActionConfigService) -> list[ActionEntry]:
    return [
        ActionEntry(key=entry["key"], value=_config(entry["value"]))
        for entry in await action_configs.list(tenant_of(request))
    ]


@get(ACTION, operation_id="GetAction", tags=TAGS, summary="Get action")
async def get_action(request: AnyRequest, action_configs: ActionConfigService, actionType: ActionType) -> ActionConfig:
    return _config(await action_configs.get(tenant_of(request), actionType))


@put(
    ACTION,
    operation_id="UpsertAction",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Create or update action",
    responses={HTTP_201_CREATED: ResponseSpec(data_container=ActionConfig, description="The created action.")},
)
async def put_action(
    request: AnyRequest,
    action_configs: ActionConfigService,
    actionType: ActionType,
    data: Annotated[ActionConfig, Body()],
) -> Response[ActionConfig]:
    created, value = await action_configs.put(tenant_of(request), actionType, msgspec.to_builtins(data))
    return Response(_config(value), status_code=HTTP_201_CREATED if created else HTTP_200_OK)


@patch(ACTION, operation_id="UpdateAction", tags=TAGS, summary="Update action")
async def patch_action(
    request: AnyRequest,
    action_configs: ActionConfigService,
    actionType: ActionType,
    data: Annotated[ActionConfigPatch, Body()],
) -> ActionConfig:
    return _config(await action_configs.patch(tenant_of(request), actionType, msgspec.to_builtins(data)))


@delete(ACTION, operation_id="DeleteAction", tags=TAGS, status_code=HTTP_204_NO_CONTENT, summary="Delete action")
async def delete_action(request: AnyRequest, action_configs: ActionConfigService, actionType: ActionType) -> None:
    await action_configs.delete(tenant_of(request), actionType)


@post(f"{ACTIONS}/test", operation_id="TestAction", tags=TAGS, status_code=HTTP_200_OK, summary="Test action")
async def test_action(data: Annotated[ActionTest, Body()]) -> Response[Any]:
    """A dry run with the sample `event`: the script's result as it is (no validation, nothing saved); 204 when
    it returns nothing; 422 `action.general` when it fails."""
    secrets = _event_secrets(data.event)
    result = await execute(data.script, data.event, data.environment_variables, secrets=secrets, undefined=NO_RESULT)
    if result is NO_RESULT:
        return Response(None, status_code=HTTP_204_NO_CONTENT)
    return Response(msgspec.json.encode(result), status_code=HTTP_200_OK, media_type="application/json")


def _event_secrets(event: Any) -> list[str]:
    password = event.get("password") if isinstance(event, dict) else None
    return [password] if isinstance(password, str) else []


ROUTES = [list_actions, get_action, put_action, patch_action, delete_action, test_action]
