"""Bodies of the Custom phrases routes."""

from typing import Any

import msgspec


class CustomPhrase(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    id: str
    language_tag: str
    translation: dict[str, Any]
