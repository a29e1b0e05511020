"""Logto's hook events (`HookEvent` in `@logto/schemas`): the names a hook may subscribe to, and the data
hook events (`DataHookEvent`) that Gatehouse delivers from its event stream."""

from typing import Literal, get_args

# Sign-in flow events (experience); experience publishes `PostSignIn`, `PostRegister` and `PostResetPassword`
# (not the adaptive MFA one).
InteractionHookEvent = Literal["PostRegister", "PostSignIn", "PostSignInAdaptiveMfaTriggered", "PostResetPassword"]
DataHookEvent = Literal[
    "User.Created",
    "User.Deleted",
    "User.Data.Updated",
    "User.SuspensionStatus.Updated",
    "Role.Created",
    "Role.Deleted",
    "Role.Data.Updated",
    "Role.Scopes.Updated",
    "Scope.Created",
    "Scope.Deleted",
    "Scope.Data.Updated",
    "Organization.Created",
    "Organization.Deleted",
    "Organization.Data.Updated",
    "Organization.Membership.Updated",
    "OrganizationRole.Created",
    "OrganizationRole.Deleted",
    "OrganizationRole.Data.Updated",
    "OrganizationRole.Scopes.Updated",
    "OrganizationScope.Created",
    "OrganizationScope.Deleted",
    "OrganizationScope.Data.Updated",
]
# Security exceptions (lockouts, rate limits); Gatehouse publishes none yet.
ExceptionHookEvent = Literal["Identifier.Lockout", "Message.RateLimited", "Grant.LimitExceeded"]

HookEvent = Literal[InteractionHookEvent, DataHookEvent, ExceptionHookEvent]

INTERACTION_HOOK_EVENTS: frozenset[str] = frozenset(get_args(InteractionHookEvent))
DATA_HOOK_EVENTS: tuple[str, ...] = get_args(DataHookEvent)
EXCEPTION_HOOK_EVENTS: frozenset[str] = frozenset(get_args(ExceptionHookEvent))
#: the hook events Gatehouse's event stream carries, which the webhook consumer delivers
DELIVERED_EVENTS: tuple[str, ...] = (*DATA_HOOK_EVENTS, "PostSignIn", "PostRegister", "PostResetPassword")

# Logto refuses it while its dev features are off (400 `guard.invalid_input`), as in its open-source build.
ADAPTIVE_MFA_EVENT = "PostSignInAdaptiveMfaTriggered"

LOG_KEY_PREFIX = "TriggerHook."  # an execution log's key is `TriggerHook.<event>`


def subscribes(event: str | None, events: list[str], hook_event: str) -> bool:
    """Logto's rule: a hook with `events` listens to those; one without, to its legacy single `event`."""
    return hook_event in events if events else event == hook_event
