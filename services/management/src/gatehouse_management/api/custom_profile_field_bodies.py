"""Bodies of the Custom profile fields routes: Logto's `CustomProfileFields` row and the per-type guards of
`@logto/schemas` (`types/custom-profile-fields.ts`), one tagged Struct per `type`.

A create body is the field's data plus `name`; an update body (`PUT .../{name}`) is the data alone. As zod's
object guards, unknown keys are dropped (a Checkbox's `description` too)."""

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

FieldType = Literal["Text", "Number", "Date", "Checkbox", "Select", "Url", "Regex", "Address", "Fullname"]
Number = int | float
Label = Annotated[str, Meta(min_length=1, max_length=128)]  # the column is varchar(128)
Description = Annotated[str, Meta(max_length=256)]
Placeholder = Annotated[str, Meta(max_length=256)]
Format = Annotated[str, Meta(max_length=128)]
NonNegative = Annotated[int, Meta(ge=0)]
AddressPart = Literal["formatted", "streetAddress", "locality", "region", "postalCode", "country"]
FullnamePart = Literal["givenName", "middleName", "familyName"]


class _Shape(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    pass


class Option(_Shape):
    value: str
    label: str | UnsetType = UNSET


class TextConfig(_Shape):
    placeholder: str | UnsetType = UNSET
    min_length: Number | UnsetType = UNSET
    max_length: Number | UnsetType = UNSET


class NumberConfig(_Shape):
    placeholder: str | UnsetType = UNSET
    min_value: Number | UnsetType = UNSET
    max_value: Number | UnsetType = UNSET


class DateConfig(_Shape):
    format: str
    placeholder: str | UnsetType = UNSET
    custom_format: str | UnsetType = UNSET


class CheckboxConfig(_Shape):
    default_value: Literal["true", "false"]


class SelectConfig(_Shape):
    options: list[Option]
    placeholder: str | UnsetType = UNSET


class UrlConfig(_Shape):
    placeholder: str | UnsetType = UNSET


class RegexConfig(_Shape):
    format: str
    placeholder: str | UnsetType = UNSET


class PartConfig(_Shape):
    """Logto's `baseConfigGuard`: the config of an Address or Fullname part."""

    placeholder: Placeholder | UnsetType = UNSET
    min_length: NonNegative | UnsetType = UNSET
    max_length: NonNegative | UnsetType = UNSET
    min_value: NonNegative | UnsetType = UNSET
    max_value: NonNegative | UnsetType = UNSET
    format: Format | UnsetType = UNSET
    custom_format: Format | UnsetType = UNSET
    options: list[Option] | UnsetType = UNSET
    default_value: str | UnsetType = UNSET


class _Part(_Shape):
    enabled: bool
    type: FieldType
    required: bool
    label: Label | UnsetType = UNSET
    description: str | UnsetType = UNSET
    config: PartConfig | UnsetType = UNSET


class AddressFieldPart(_Part, kw_only=True):
    name: AddressPart


class FullnameFieldPart(_Part, kw_only=True):
    name: FullnamePart


class AddressConfig(_Shape):
    parts: list[AddressFieldPart]


class FullnameConfig(_Shape):
    parts: list[FullnameFieldPart]


class _Field(_Shape, tag_field="type", kw_only=True):
    required: bool
    label: Label | UnsetType = UNSET


class _Described(_Field, kw_only=True):
    description: Description | UnsetType = UNSET


class TextField(_Described, tag="Text", kw_only=True):
    config: TextConfig | UnsetType = UNSET


class NumberField(_Described, tag="Number", kw_only=True):
    config: NumberConfig | UnsetType = UNSET


class DateField(_Described, tag="Date", kw_only=True):
    config: DateConfig | UnsetType = UNSET


class CheckboxField(_Field, tag="Checkbox", kw_only=True):
    required: Literal[False]
    config: CheckboxConfig | UnsetType = UNSET


class SelectField(_Described, tag="Select", kw_only=True):
    config: SelectConfig


class UrlField(_Described, tag="Url", kw_only=True):
    config: UrlConfig | UnsetType = UNSET


class RegexField(_Described, tag="Regex", kw_only=True):
    config: RegexConfig


class AddressField(_Described, tag="Address", kw_only=True):
    config: AddressConfig


class FullnameField(_Described, tag="Fullname", kw_only=True):
    config: FullnameConfig


FieldData = (
    TextField
    | NumberField
    | DateField
    | CheckboxField
    | SelectField
    | UrlField
    | RegexField
    | AddressField
    | FullnameField
)


class NewTextField(TextField, tag="Text", kw_only=True):
    name: str


class NewNumberField(NumberField, tag="Number", kw_only=True):
    name: str


class NewDateField(DateField, tag="Date", kw_only=True):
    name: str


class NewCheckboxField(CheckboxField, tag="Checkbox", kw_only=True):
    name: str


class NewSelectField(SelectField, tag="Select", kw_only=True):
    name: str


class NewUrlField(UrlField, tag="Url", kw_only=True):
    name: str


class NewRegexField(RegexField, tag="Regex", kw_only=True):
    name: str


class NewAddressField(AddressField, tag="Address", kw_only=True):
    name: str


class NewFullnameField(FullnameField, tag="Fullname", kw_only=True):
    name: str


NewField = (
    NewTextField
    | NewNumberField
    | NewDateField
    | NewCheckboxField
    | NewSelectField
    | NewUrlField
    | NewRegexField
    | NewAddressField
    | NewFullnameField
)
BATCH_LIMIT = 20  # Logto's `batchItemsLimit`
BatchOfNewFields = Annotated[list[NewField], Meta(max_length=BATCH_LIMIT)]


class SieOrderItem(msgspec.Struct, kw_only=True, rename="camel"):
    name: str
    sie_order: Number


class SieOrder(msgspec.Struct, kw_only=True):
    order: list[SieOrderItem]


class CustomProfileField(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    id: str
    name: str
    type: FieldType
    label: str
    description: str | None
    required: bool
    config: dict[str, Any]
    created_at: int
    sie_order: int
