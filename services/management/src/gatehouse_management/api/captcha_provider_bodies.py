"""Bodies of the Captcha provider routes: Logto's `CaptchaProviders` row and its `captchaConfigGuard`."""

from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType


class Turnstile(msgspec.Struct, kw_only=True, rename="camel", tag_field="type", tag="Turnstile"):
    site_key: str
    secret_key: str


class RecaptchaEnterprise(
    msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True, tag_field="type", tag="RecaptchaEnterprise"
):
    site_key: str
    secret_key: str
    project_id: str
    domain: str | UnsetType = UNSET
    mode: Literal["invisible", "checkbox"] | UnsetType = UNSET


CaptchaConfig = Turnstile | RecaptchaEnterprise


class UpdateCaptchaProvider(msgspec.Struct, kw_only=True):
    config: CaptchaConfig


class CaptchaProvider(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    id: str
    config: CaptchaConfig
    created_at: int
    updated_at: int
