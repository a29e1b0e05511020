"""What an Action's script may ask for, judged as Logto's `action-result-validation.ts` judges it, independent of
HTTP, SQL and the script runner.

The user patch of both actions takes only `username`, `primaryEmail`, `primaryPhone`, `name`, `avatar`,
`customData` and `profile` (any other key makes the result invalid; unknown `profile` keys are dropped)."""

import re
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from gatehouse_platform.errors import BadRequest, Conflict, Unprocessable
from msgspec import UNSET

from gatehouse_identity.api.user_bodies import UpdateUser

PATCH_FIELDS = frozenset({"username", "primaryEmail", "primaryPhone", "name", "avatar", "customData", "profile"})
IDENTIFIER_FIELDS = {"username": "username", "email": "primary_email", "phone": "primary_phone"}
IDENTIFIER_KEYS = {"username": "username", "email": "primaryEmail", "phone": "primaryPhone"}
UPDATE_USER = "updateUser"
CREATE_USER = "createUser"


def user_patch(value: Any) -> UpdateUser | None:
    """The script's `user` as a patch, or None when it is not one."""
    if not isinstance(value, dict) or not set(value) <= PATCH_FIELDS:
        return None
    try:
        return msgspec.convert(value, UpdateUser)
    except msgspec.ValidationError:
        return None


def verification_failed() -> BadRequest:
    return BadRequest("session.verification_failed")


def post_sign_in_patch(result: Any) -> UpdateUser | None:
    """The patch a PostSignIn result asks for; None to continue unchanged (`undefined`, `null`, `{}`,
    `{action: 'updateUser'}`); 400 `session.verification_failed` for anything else than a valid update."""
    if result is None:
        return None
    if not isinstance(result, dict):
        raise verification_failed()
    if not result:
        return None
    if result.get("action") != UPDATE_USER:
        raise verification_failed()
    if "user" not in result:  # `user: undefined` does not survive JSON either
        return None
    patch = user_patch(result["user"])
    if patch is None:
        raise verification_failed()
    return patch


@dataclass(frozen=True)
class Provisioning:
    """A PostFirstFactorVerification result that verified the password: create or update the user."""

    action: Literal["createUser", "updateUser"]
    patch: UpdateUser


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def changes_identifier(identifier_type: str, value: str, patch: UpdateUser) -> bool:
    """Whether the patch sets the sign-in identifier to another value (emails compare case-insensitively,
    phones by their digits; leaving the field out keeps it)."""
    returned = getattr(patch, IDENTIFIER_FIELDS[identifier_type])
    if returned is UNSET:
        return False
    if not isinstance(returned, str):
        return True
    if identifier_type == "email":
        return returned.lower() != value.lower()
    if identifier_type == "phone":
        return _digits(returned) != _digits(value)
    return returned != value


def first_factor_provisioning(
    result: Any, identifier_type: str, identifier_value: str, user_exists: bool
) -> Provisioning | None:
    """What a PostFirstFactorVerification result asks for; None when it does not verify the password (the
    sign-in then fails as it would have). 422 `action.sign_in_identifier_changed` when the patch changes the
    submitted identifier; 409 `session.identity_conflict` for `createUser` of a known user or `updateUser` of
    an unknown one."""
    if not isinstance(result, dict) or result.get("passwordVerified") is not True:
        return None
    action = result.get("action")
    if action not in (CREATE_USER, UPDATE_USER) or "user" not in result:
        return None
    patch = user_patch(result["user"])
    if patch is None:
        return None
    if changes_identifier(identifier_type, identifier_value, patch):
        raise Unprocessable("action.sign_in_identifier_changed", data={"identifierType": identifier_type})
    if (action == CREATE_USER) == user_exists:
        raise Conflict("session.identity_conflict")
    return Provisioning("createUser" if action == CREATE_USER else "updateUser", patch)
