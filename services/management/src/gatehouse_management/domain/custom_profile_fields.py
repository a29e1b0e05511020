"""Logto's checks of a custom profile field (`libraries/custom-profile-fields/utils.ts`), after the body guard.

Every failure is a 400 with Logto's code. `strict` is Logto's update mode (`PUT .../{name}`): it also needs a
Checkbox's default value, a Select's options, a valid Regex and valid Address/Fullname parts."""

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec
from gatehouse_platform.errors import BadRequest

from gatehouse_management.api.custom_profile_field_bodies import (
    AddressField,
    CheckboxField,
    FieldData,
    FullnameField,
    NewField,
    NumberField,
    RegexField,
    SelectField,
    TextField,
)

NAME = re.compile(r"^[\dA-Za-z]+$")  # @logto/core-kit's numberAndAlphabetRegEx
# @logto/schemas: reservedBuiltInProfileKeys, reservedCustomDataKeys, reservedSignInIdentifierKeys
RESERVED_BUILT_IN_PROFILE_KEYS = frozenset({"preferredUsername"})
RESERVED_CUSTOM_DATA_KEYS = frozenset({"onboarding", "guideRequests", "adminConsolePreferences", "defaultTenantId"})
RESERVED_SIGN_IN_IDENTIFIER_KEYS = frozenset({"username", "primaryEmail", "primaryPhone", "email", "phone"})
COMPOSITE_TYPES = ("Address", "Fullname")
SMALLINT = (-32768, 32767)


def check_name(name: str) -> None:
    if not NAME.match(name):
        raise BadRequest("custom_profile_fields.invalid_name")
    if name in RESERVED_BUILT_IN_PROFILE_KEYS:
        raise BadRequest("custom_profile_fields.name_conflict_built_in_prop", name=name)
    if name in RESERVED_CUSTOM_DATA_KEYS:
        raise BadRequest("custom_profile_fields.name_conflict_custom_data", name=name)
    if name in RESERVED_SIGN_IN_IDENTIFIER_KEYS:
        raise BadRequest("custom_profile_fields.name_conflict_sign_in_identifier", name=name)


def _ordered(low: Any, high: Any) -> bool:
    return low is msgspec.UNSET or high is msgspec.UNSET or low <= high


def _is_regex(pattern: str) -> bool:
    """Logto compiles the format as a JavaScript RegExp; Python's `re` is the closest dialect at hand."""
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def validate(name: str, data: FieldData, *, strict: bool = False) -> None:
    check_name(name)
    if isinstance(data, TextField) and data.config:
        if not _ordered(data.config.min_length, data.config.max_length):
            raise BadRequest("custom_profile_fields.invalid_min_max_input")
    elif isinstance(data, NumberField) and data.config:
        if not _ordered(data.config.min_value, data.config.max_value):
            raise BadRequest("custom_profile_fields.invalid_min_max_input")
    elif isinstance(data, CheckboxField):
        if strict and not data.config:
            raise BadRequest("custom_profile_fields.invalid_default_value")
    elif isinstance(data, SelectField):
        if strict and not data.config.options:
            raise BadRequest("custom_profile_fields.invalid_options")
    elif isinstance(data, RegexField):
        if strict and not _is_regex(data.config.format):
            raise BadRequest("custom_profile_fields.invalid_regex_format")
    elif isinstance(data, AddressField | FullnameField):
        _validate_parts(data, strict)


def _validate_parts(data: AddressField | FullnameField, strict: bool) -> None:
    parts = data.config.parts
    if not parts:
        kind = "address" if isinstance(data, AddressField) else "fullname"
        raise BadRequest(f"custom_profile_fields.invalid_{kind}_components")
    if any(part.type in COMPOSITE_TYPES for part in parts):
        raise BadRequest("custom_profile_fields.invalid_sub_component_type")
    if strict:
        for part in parts:
            # a part is checked as a field of its own type (Logto parses it with that type's guard)
            try:
                field = msgspec.convert(msgspec.to_builtins(part), NewField)
            except msgspec.ValidationError as error:
                raise BadRequest("guard.invalid_input", f"The request body is invalid: {error}") from error
            validate(field.name, field, strict=True)


def sie_order(value: int | float) -> int:
    """The order as Logto's `::smallint` cast stores it: rounded half away from zero, within smallint."""
    if not math.isfinite(value) or not SMALLINT[0] - 1 < value < SMALLINT[1] + 1:
        raise BadRequest("guard.invalid_input", "The request body is invalid: `sieOrder` is out of range.")
    rounded = int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if not SMALLINT[0] <= rounded <= SMALLINT[1]:
        raise BadRequest("guard.invalid_input", "The request body is invalid: `sieOrder` is out of range.")
    return rounded
