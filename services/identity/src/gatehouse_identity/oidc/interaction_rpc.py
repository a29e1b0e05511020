"""The interaction commands experience calls: `<prefix>.rpc.identity.interaction.get` and
`<prefix>.rpc.identity.interaction.result` (Structs in `gatehouse_schema.rpc.identity`)."""

from gatehouse_platform.service import ServiceContext
from gatehouse_schema.rpc.identity import (
    INTERACTION_GET,
    INTERACTION_RESULT,
    InteractionDetails,
    InteractionGet,
    InteractionResult,
    InteractionResultReply,
)

from gatehouse_identity.oidc.authorization import AuthorizationService


def register_interaction_rpc(ctx: ServiceContext, authorization: AuthorizationService) -> None:
    tenant_id = ctx.settings.default_tenant_id

    async def get(request: InteractionGet) -> InteractionDetails:
        return await authorization.details(tenant_id, request)

    async def result(request: InteractionResult) -> InteractionResultReply:
        return await authorization.record_result(tenant_id, request)

    ctx.rpc_server.register(INTERACTION_GET, InteractionGet, get)
    ctx.rpc_server.register(INTERACTION_RESULT, InteractionResult, result)
