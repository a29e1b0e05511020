"""The sample payloads of `POST /api/hooks/{id}/test` (Logto's `generateHookTestPayload`): an interaction
event gets a sample user and application, any other event a sample Management API request."""

from datetime import UTC, datetime
from typing import Any

from gatehouse_hooks_audit.events.webhooks import iso_ms
from gatehouse_hooks_audit.hook_events import INTERACTION_HOOK_EVENTS

_SAMPLE_USER_ID = "fake-id"


def _interaction_context(now_ms: int) -> dict[str, Any]:
    return {
        "sessionId": "fake-session-id",
        "userIp": "fake-user-ip",
        "userId": _SAMPLE_USER_ID,
        "user": {
            "id": _SAMPLE_USER_ID,
            "username": "fake-user",
            "primaryEmail": "fake-user@fake-service.com",
            "primaryPhone": "1234567890",
            "name": "Fake User",
            "avatar": "https://fake-service.com/avatars/fake-user.png",
            "customData": {"theme": "light"},
            "identities": {"google": {"userId": "fake-google-user-id"}},
            "profile": {},
            "applicationId": "fake-application-id",
            "cimdClientId": None,
            "isSuspended": False,
            "lastSignInAt": now_ms,
            "createdAt": now_ms,
            "updatedAt": now_ms,
        },
        "application": {
            "id": "fake-spa-application-id",
            "type": "SPA",
            "name": "Fake Application",
            "description": "Fake application data for testing",
        },
    }


_DATA_CONTEXT: dict[str, Any] = {
    "path": "/fake-path/:id",
    "method": "POST",
    "status": 200,
    "params": {"id": _SAMPLE_USER_ID},
    "data": {"result": "success"},
}


def hook_test_payload(hook_id: str, event: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "event": event,
        "hookId": hook_id,
        "createdAt": iso_ms(now),
        "userAgent": "fake-user-agent",
    }
    if event in INTERACTION_HOOK_EVENTS:
        payload.update(_interaction_context(int(now.timestamp() * 1000)))
    else:
        payload.update(_DATA_CONTEXT)
    return payload
