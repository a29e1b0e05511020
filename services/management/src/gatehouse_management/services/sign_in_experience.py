"""Use cases of the tenant's sign-in experience: read, update (Logto's validation, then one transaction with
its `SignInExperience.Updated`), check a password against its policy, and list username case conflicts."""

from collections.abc import Mapping
from typing import Any

import msgspec
from gatehouse_connectors import FACTORIES, ConnectorFactory
from gatehouse_platform.errors import BadRequest, NotFound
from gatehouse_platform.outbox import Outbox
from gatehouse_schema import password_policy
from gatehouse_schema.events import Actor, SignInExperienceUpdated
from gatehouse_schema.queries.identity import password_check_info, username_case_conflicts
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.api.sign_in_experience_bodies import (
    Branding,
    CaseConflict,
    CaseConflicts,
    LanguageInfo,
    PasswordAccepted,
    PasswordRejected,
    SignInExperience,
    SignInExperienceSettings,
    UpdateSignInExperience,
)
from gatehouse_management.domain import sign_in_experience as rules
from gatehouse_management.domain.connectors import installed, social_targets
from gatehouse_management.domain.languages import BUILT_IN_LANGUAGES, LANGUAGE_TAGS
from gatehouse_management.persistence.connectors import ConnectorStore
from gatehouse_management.persistence.custom_phrases import CustomPhraseStore
from gatehouse_management.persistence.sign_in_experience import SignInExperienceStore
from gatehouse_management.services.pwned_passwords import PwnedPasswords, Unreachable

# Dev-gated in Logto's release builds: written only with dev features on, silently ignored otherwise.
IGNORED_FIELDS = {"tenantId", "usernamePolicy", "verificationCodePolicy", "signUpProfileFields"}


def default_settings() -> SignInExperienceSettings:
    """A new open-source tenant's sign-in experience: Logto's `createDefaultSignInExperience(tenant, false)`
    plus the column defaults of its `sign_in_experiences` table."""
    return msgspec.convert(DEFAULTS, SignInExperienceSettings)


DEFAULTS: dict[str, Any] = {
    "color": {"primaryColor": "#6139F6", "isDarkModeEnabled": False, "darkPrimaryColor": "#8768F8"},
    "branding": {"logoUrl": "https://logto.io/logo.svg", "darkLogoUrl": "https://logto.io/logo-dark.svg"},
    "hideLogtoBranding": False,
    "languageInfo": {"autoDetect": True, "fallbackLanguage": "en"},
    "termsOfUseUrl": None,
    "privacyPolicyUrl": None,
    "agreeToTermsPolicy": "Automatic",
    "signIn": {
        "methods": [{"identifier": "username", "password": True, "verificationCode": False, "isPasswordPrimary": True}]
    },
    "signUp": {"identifiers": ["username"], "password": True, "verify": False},
    "socialSignIn": {},
    "socialSignInConnectorTargets": [],
    "signInMode": "SignInAndRegister",
    "customCss": None,
    "customContent": {},
    "customUiAssets": None,
    "customUiCsp": {},
    "passwordPolicy": {},
    "mfa": {"factors": [], "policy": "UserControlled"},
    "adaptiveMfa": {},
    "singleSignOnEnabled": False,
    "supportEmail": None,
    "supportWebsiteUrl": None,
    "unknownSessionRedirectUrl": None,
    "captchaPolicy": {},
    "sentinelPolicy": {},
    "emailBlocklistPolicy": {},
    "verificationCodePolicy": {},
    "forgotPasswordMethods": [],
    "passkeySignIn": {},
    "signUpProfileFields": [],
    "passwordExpiration": {},
    "usernamePolicy": {
        "caseSensitive": True,
        "minLength": 1,
        "maxLength": 128,
        "allowedChars": {"lowercase": True, "uppercase": True, "numbers": True, "underscore": True},
    },
}


def _check_input(body: UpdateSignInExperience) -> None:
    """What Logto's body guard refuses (400 `guard.invalid_input`), and the features an OSS build refuses."""
    if body.language_info and body.language_info.fallback_language not in LANGUAGE_TAGS:
        raise BadRequest("guard.invalid_input", "The request body is invalid: unknown `languageInfo.fallbackLanguage`.")
    for name in ("terms_of_use_url", "privacy_policy_url", "support_website_url", "unknown_session_redirect_url"):
        value = getattr(body, name)
        rules.check_url(None if value is UNSET else value, name)
    for url in msgspec.structs.astuple(body.branding) if isinstance(body.branding, Branding) else ():
        rules.check_url(None if url is UNSET else url, "branding")
    rules.check_email(None if body.support_email is UNSET else body.support_email, "supportEmail")
    if body.password_expiration is not UNSET:
        raise rules.invalid_input("Password expiration is not available")


def _validate(body: UpdateSignInExperience, current: SignInExperienceSettings, connector_types: set[str]) -> None:
    """`connector_types`: the types (Email, Sms, Social) of the tenant's connectors, for the rules that need one."""
    sign_up = body.sign_up or current.sign_up
    mfa = body.mfa or current.mfa
    if body.sign_up:
        rules.validate_sign_up(body.sign_up, connector_types)
    if body.sign_in:
        rules.validate_sign_in(body.sign_in, sign_up, mfa, connector_types)
    if body.mfa:
        rules.validate_mfa(body.mfa, body.sign_in or current.sign_in)
    rules.validate_adaptive_mfa(body.adaptive_mfa or None, body.mfa or None, current.mfa, current.adaptive_mfa)
    if body.forgot_password_methods:
        rules.validate_forgot_password_methods(list(body.forgot_password_methods), connector_types)
    if body.hide_logto_branding is True:
        raise rules.invalid_input("Hide Logto branding is not supported in this environment")


def _changes(body: UpdateSignInExperience, available_targets: set[str]) -> dict[str, Any]:
    """The top-level fields to write, by their API names, normalized as Logto stores them."""
    if body.custom_ui_csp:
        body.custom_ui_csp = rules.normalize_custom_ui_csp(body.custom_ui_csp)
    if body.email_blocklist_policy:
        body.email_blocklist_policy = rules.parse_email_blocklist_policy(body.email_blocklist_policy)
    if body.social_sign_in_connector_targets is not UNSET:
        # only the targets an existing social connector provides are kept, in the order given
        targets = body.social_sign_in_connector_targets
        body.social_sign_in_connector_targets = [target for target in targets if target in available_targets]
    fields: dict[str, Any] = msgspec.to_builtins(body)
    if body.mfa and not rules.mfa_enabled(body.mfa) and body.adaptive_mfa is UNSET:
        fields["adaptiveMfa"] = {"enabled": False}  # MFA turned off resets adaptive MFA, as Logto's console
    return {k: v for k, v in fields.items() if k not in IGNORED_FIELDS}


class SignInExperienceService:
    def __init__(
        self,
        engine: AsyncEngine,
        store: SignInExperienceStore,
        phrases: CustomPhraseStore,
        connectors: ConnectorStore,
        pwned: PwnedPasswords,
        outbox: Outbox,
        factories: Mapping[str, ConnectorFactory] = FACTORIES,
    ) -> None:
        self.engine = engine
        self.store = store
        self.phrases = phrases
        self.connectors = connectors
        self.pwned = pwned
        self.outbox = outbox
        self.factories = factories

    async def _settings(self, conn: AsyncConnection, tenant_id: str, *, lock: bool = False) -> SignInExperienceSettings:
        stored = await self.store.get(conn, tenant_id, lock=lock)
        if stored is None:
            raise NotFound("entity.not_exists_with_id", name="sign_in_experience", id="default")
        return msgspec.convert(stored, SignInExperienceSettings)

    async def get(self, tenant_id: str) -> SignInExperience:
        async with self.engine.connect() as conn:
            stored = await self.store.get(conn, tenant_id)
        if stored is None:
            raise NotFound("entity.not_exists_with_id", name="sign_in_experience", id="default")
        return msgspec.convert({**stored, "tenantId": tenant_id, "id": "default"}, SignInExperience)

    async def update(self, tenant_id: str, body: UpdateSignInExperience, actor: Actor | None) -> SignInExperience:
        _check_input(body)
        async with self.engine.begin() as conn:
            current = await self._settings(conn, tenant_id, lock=True)
            if body.language_info:
                await self._check_fallback_language(conn, tenant_id, body.language_info)
            _validate(body, current, await self._connector_types(conn, tenant_id))
            wants_targets = body.social_sign_in_connector_targets is not UNSET
            changes = _changes(body, await self._social_targets(conn, tenant_id) if wants_targets else set())
            stored = await self.store.replace_fields(conn, tenant_id, changes) if changes else None
            if changes:
                event = SignInExperienceUpdated(changed=sorted(changes))
                await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
        settings = stored if stored is not None else msgspec.to_builtins(current)
        return msgspec.convert({**settings, "tenantId": tenant_id, "id": "default"}, SignInExperience)

    async def _connector_types(self, conn: AsyncConnection, tenant_id: str) -> set[str]:
        """The types of the tenant's connectors (Logto's `getLogtoConnectors`), read in the update's transaction."""
        return {c.type for c in installed(await self.connectors.all(conn, tenant_id), self.factories)}

    async def _social_targets(self, conn: AsyncConnection, tenant_id: str) -> set[str]:
        """Read in the update's transaction: a connector deleted meanwhile takes the experience's row lock to
        remove its target, so it waits for this update, or this update sees it gone."""
        return social_targets(installed(await self.connectors.all(conn, tenant_id), self.factories))

    async def _check_fallback_language(self, conn: AsyncConnection, tenant_id: str, info: LanguageInfo) -> None:
        language = info.fallback_language
        if language not in BUILT_IN_LANGUAGES and not await self.phrases.exists(conn, tenant_id, language):
            raise BadRequest("sign_in_experiences.unsupported_default_language", language=language)

    async def check_password(
        self, tenant_id: str, password: str, user_id: str | None
    ) -> PasswordAccepted | PasswordRejected:
        async with self.engine.connect() as conn:
            settings = await self._settings(conn, tenant_id)
            info = await password_check_info(conn, tenant_id, user_id) if user_id else None
        if user_id and info is None:
            raise NotFound("entity.not_exists_with_id", name="user", id=user_id)
        user = None
        if info is not None:
            user = password_policy.UserInfo(info.name, info.username, info.primary_email, info.primary_phone)
        policy = password_policy.resolve(settings.password_policy)
        try:
            pwned = policy.rejects.pwned and self.pwned.enabled and await self.pwned.is_pwned(password)
            issues = password_policy.check(password, policy, user, pwned=pwned)
        except (password_policy.UserInfoRequired, Unreachable) as error:
            raise BadRequest("request.invalid_input", data={"message": str(error)}, details=str(error)) from error
        return PasswordRejected(issues=issues) if issues else PasswordAccepted()

    async def case_conflicts(self, tenant_id: str, limit: int) -> CaseConflicts:
        async with self.engine.connect() as conn:
            total, groups = await username_case_conflicts(conn, tenant_id, limit)
        return CaseConflicts(
            total_conflicts=total, samples=[CaseConflict(username_lower=u, user_ids=ids) for u, ids in groups]
        )
