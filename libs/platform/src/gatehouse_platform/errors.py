"""One error type with stable Logto codes, rendered as `{"code", "message", "data"?}`.

Domain code raises these (`NotFound("entity.not_exists_with_id", name="application", id=...)`);
one handler in the app factory renders them. OAuth errors add RFC 6749's `error` and
`error_description`, as Logto's `/oidc` endpoints answer with both shapes.
"""

from typing import Any, ClassVar

import msgspec

MESSAGES: dict[str, str] = {
    "guard.invalid_input": "The request {type} is invalid.",
    "guard.invalid_pagination": "The request pagination value is invalid.",
    "auth.authorization_header_missing": "Authorization header is missing.",
    "auth.authorization_token_type_not_supported": "Authorization type is not supported.",
    "auth.unauthorized": "Unauthorized. Please check credentials and its scope.",
    "auth.forbidden": "Forbidden. Please check your user roles and permissions.",
    "auth.expected_role_not_found": "Expected role not found. Please check your user roles and permissions.",
    "entity.not_exists_with_id": "The {name} with ID `{id}` does not exist.",
    "entity.not_exists": "The {name} does not exist.",
    "entity.unique_integrity_violation": "The entity already exists. Please check the input and try again.",
    "entity.create_failed": "Failed to create {name}.",
    "entity.not_found": "The resource does not exist.",
    "entity.relation_foreign_key_not_found": (
        "Cannot find one or more foreign keys. Please check the input and ensure that all referenced entities exist."
    ),
    "entity.db_constraint_violated": "Database constraint violated.",
    "organization.require_membership": "The user must be a member of the organization to proceed.",
    "organization.role_names_not_found": (
        "Invalid role names detected: {names}. Please create these roles first before proceeding."
    ),
    "application.invalid_type": "Only machine to machine applications can have associated roles.",
    "application.role_exists": "The role id {roleId} is already been added to this application.",
    "application.invalid_role_type": "Can not assign user type role to machine to machine application.",
    "application.invalid_third_party_application_type": (
        "Only traditional web applications can be marked as a third-party app."
    ),
    "application.protected_app_not_configured": (
        "Protected app provider is not configured. This feature is not available for open source version."
    ),
    "application.no_legacy_secret_found": "The application does not have a legacy secret.",
    "application.secret_name_exists": "Secret name already exists.",
    "application.protected_application_only": "The feature is only available for protected applications.",
    "application.third_party_application_only": "The feature is only available for third-party applications.",
    "application.user_consent_scopes_not_found": "Invalid user consent scopes.",
    "application.consent_management_api_scopes_not_allowed": "Management API scopes are not allowed.",
    "application.access_control_invalid": "The access-control rules are invalid: {reason}.",
    "application.saml.use_saml_app_api": "Use `[METHOD] /saml-applications(/.*)?` API to operate SAML app.",
    "resource.resource_identifier_in_use": "The API identifier {indicator} is already in use",
    "resource.cannot_delete_management_api": "Cannot delete Logto management API.",
    "scope.name_exists": "The scope name {name} is already in use",
    "scope.name_with_space": "The name of the scope cannot contain any spaces.",
    "user.role_exists": "The role id {roleId} is already been added to this user",
    "user.invalid_role_type": "Invalid role type, can not assign machine-to-machine role to user.",
    "user.username_already_in_use": "This username is already in use.",
    "user.email_already_in_use": "This email is associated with an existing account.",
    "user.phone_already_in_use": "This phone number is associated with an existing account.",
    "user.invalid_email": "Invalid email address.",
    "user.invalid_phone": "Invalid phone number.",
    "user.password_and_digest": "You cannot set both plain text password and password digest.",
    "user.password_algorithm_required": "Password algorithm is required.",
    "user.cannot_delete_self": "You cannot delete yourself.",
    "user.identity_not_exist": "The social account has not been registered yet.",
    "user.identity_already_in_use": "The social account has been associated with an existing account.",
    "user.enterprise_sso_identity_not_exists": (
        "The user does not have an enterprise identity linked to the specified SSO connector ID: {ssoConnectorId}."
    ),
    "user.totp_already_in_use": "TOTP is already in use.",
    "user.totp_secret_invalid": "Invalid TOTP secret supplied.",
    "user.backup_code_already_in_use": "Backup code is already in use.",
    "user.wrong_backup_code_format": "Backup code format is invalid.",
    "user.personal_access_token_name_exists": "Personal access token name already exists.",
    "session.mfa.backup_code_can_not_be_alone": "Backup code can not be the only MFA.",
    "action.general": "An error occurred while running the action. Please try again later.",
    "action.sign_in_identifier_changed": (
        "The action cannot change the sign-in identifier used for this verification."
    ),
    "request.invalid_input": "Input is invalid. {details}",
    "secrets.third_party_token_set.token_not_found": "Token set not found for the given identity.",
    "secrets.third_party_token_set.access_token_expired": "The access token has expired.",
    "connector.general": "An unexpected error occurred in the connector.",
    "connector.invalid_response": "The response of the connector is invalid.",
    "connector.social_auth_code_invalid": "Unable to get access token, please check authorization code.",
    "connector.social_invalid_access_token": "The access token is invalid.",
    "connector.social_invalid_id_token": "The ID token is invalid.",
    "session.invalid_connector_id": "Unable to find available connector with id {connectorId}.",
    "connector.not_found": "Cannot find any available connector for type: {type}.",
    "connector.not_found_with_connector_id": "Can not find connector with given standard connector id.",
    "connector.multiple_instances_not_supported": "Can not create multiple instance with picked standard connector.",
    "connector.should_specify_target": "You should specify 'target'.",
    "connector.multiple_target_with_same_platform": (
        "You can not have multiple social connectors that have same target and platform."
    ),
    "connector.cannot_overwrite_metadata_for_non_standard_connector": (
        "This connector's 'metadata' cannot be overwritten."
    ),
    "connector.can_not_modify_target": "The connector 'target' can not be modified.",
    "connector.invalid_type_for_syncing_profile": "You can only sync user profile with social connectors.",
    "connector.invalid_config": "The connector's config is invalid.",
    "connector.authorization_failed": "The user's authorization process is unsuccessful.",
    "connector.invalid_request_parameters": "The request is with wrong input parameter(s).",
    "session.sso_enabled": "Single sign-on is enabled for this given email. Please sign in with SSO.",
    "connector.token_storage_not_supported": "Token storage is not supported for this connector.",
    "connector.unexpected_type": "The connector's type doesn't match.",
    "connector.invalid_metadata": "The connector's metadata is invalid.",
    "connector.invalid_certificate": "The connector's certificate is invalid.",
    "single_sign_on.forbidden_domains": "Public email domains are not allowed.",
    "single_sign_on.duplicated_domains": "There are duplicate domains.",
    "single_sign_on.duplicate_connector_name": "Connector name already exists. Please choose a different name.",
    "single_sign_on.can_not_delete_active_signing_key": (
        "Cannot delete the active signing key. Activate another key or deactivate this key first."
    ),
    "single_sign_on.can_not_deactivate_signing_key_in_use": (
        "Cannot deactivate the signing key while signed authentication requests are enabled. "
        "Disable signed authentication requests first."
    ),
    "single_sign_on.active_signing_key_required": (
        "No active signing key found. Generate and activate a signing key before enabling signed authentication "
        "requests."
    ),
    "session.insufficient_info": "Insufficient sign-in info.",
    "session.connector_validation_session_not_found": "The connector session for token validation is not found.",
    "password.invalid_legacy_password_format": "Invalid legacy password format.",
    "password.unsupported_legacy_hash_algorithm": "Unsupported legacy hash algorithm: {algorithm}.",
    "session.invalid_credentials": "Wrong credentials. Please check your input.",
    "session.not_found": "Session not found. Please go back and sign in again.",
    "account_center.not_enabled": "The account center is not enabled.",
    "account_center.field_not_editable": "The field is not editable.",
    "account_center.field_not_enabled": "The field is not enabled.",
    "verification_record.permission_denied": "Permission denied, please re-authenticate.",
    "verification_record.not_found": "Verification record not found.",
    "verification_record.social_verification.invalid_target": (
        "Invalid verification record. Expected {expected} but got {actual}."
    ),
    "verification_record.social_verification.token_response_not_found": (
        "Token response not found. Please check that token storage is supported and enabled for the social connector."
    ),
    "user.identity_not_exists_in_current_user": (
        "The specified identity does not exist in the current user account. Please link the identity before proceeding."
    ),
    "user.last_sign_in_method_required": "You cannot remove the last sign-in method of your account.",
    "user.username_required": "Username is a required identifier. You can not set it to null.",
    "session.mfa.mfa_factor_not_enabled": "MFA factor is not enabled.",
    "session.interaction_not_found": "Interaction session not found. Please go back and start the session again.",
    "session.verification_session_not_found": "The verification session not found.",
    "session.verification_failed": "The verification was not successful. Restart the verification flow and try again.",
    "session.identifier_not_found": "User identifier not found. Please go back and sign in again.",
    "session.identity_conflict": "The interaction has already been identified with a different user account.",
    "session.mfa.invalid_totp_code": "Invalid TOTP code.",
    "session.mfa.invalid_backup_code": "Invalid backup code.",
    "session.mfa.require_mfa_verification": "Mfa verification is required to sign in.",
    "user.sign_in_method_not_enabled": "This sign-in method is not enabled.",
    "session.interaction_event_not_supported": "Only `SignIn` and `Register` interactions can be served here so far.",
    "session.not_supported_for_forgot_password": "This operation is not supported for forgot password.",
    "session.invalid_interaction_type": (
        "This operation is not supported for the current interaction. Please initiate a new session."
    ),
    "user.missing_profile": "You need to provide additional info before signing-in.",
    "user.sign_up_method_not_enabled": "This sign-up method is not enabled.",
    "user.user_not_exist": "User with {identifier} does not exist.",
    "verification_code.not_found": "Verification code not found. Please send verification code first.",
    "verification_code.email_mismatch": "Email mismatch. Please request a new verification code.",
    "verification_code.phone_mismatch": "Phone mismatch. Please request a new verification code.",
    "verification_code.code_mismatch": "Invalid verification code.",
    "verification_code.expired": "Verification code has expired. Please request a new verification code.",
    "verification_code.exceed_max_try": (
        "Verification code retries limitation exceeded. Please request a new verification code."
    ),
    "password.rejected": "Password rejected. Please check if your password meets the requirements.",
    "user.same_password": "New password cannot be the same as your old password.",
    "user.new_password_required_in_profile": "You need to set a new password before submitting.",
    "role.name_in_use": "This role name {name} is already in use",
    "role.scope_exists": "The scope id {scopeId} has already been added to this role",
    "role.user_exists": "The user id {userId} is already been added to this role",
    "role.application_exists": "The application id {applicationId} is already been added to this role",
    "role.management_api_scopes_not_assignable_to_user_role": "Cannot assign management API scopes to a user role.",
    "oidc.invalid_request": "Invalid request.",
    "oidc.key_required": "At least one key is required.",
    "oidc.key_not_found": "Key with ID {id} is not found.",
    "oidc.only_previous_key_can_be_deleted": "Only the previous key can be deleted.",
    "jwt_customizer.script_not_supported": (
        "JWT customizer scripts are not executed by Gatehouse. Leave `script` empty and declare each extra claim "
        "in `environmentVariables`: a literal value, or a reference such as `{{ user.customData.plan }}`."
    ),
    "jwt_customizer.reserved_claim": "The claim `{claim}` is reserved and cannot be customized.",
    "jwt_customizer.invalid_claim_reference": (
        "`{reference}` is not a supported claim reference: use `{{{{ <root>.<path> }}}}` with root {roots}."
    ),
    "hook.missing_events": "You need to provide at least one event.",
    "hook.send_test_payload_failed": "Failed to send test payload: {message}",
    "hook.endpoint_responded_with_error": "Endpoint responded with error.",
    "hook.endpoint_not_allowed": "Endpoint URL is not allowed.",
    "request.route_not_found": "No route matches {method} {path}.",
    "request.method_not_allowed": "Method {method} is not allowed for {path}.",
    "request.payload_too_large": "The request body is larger than {limit} bytes.",
    "request.service_unavailable": "The {service} service is unavailable.",
    "request.upstream_timeout": "The {service} service did not answer in time.",
    "rpc.timeout": "The {context} service did not answer in time.",
    "rpc.unavailable": "The {context} service is unavailable.",
    "sign_in_experiences.enabled_connector_not_found": "Enabled {type} connector not found.",
    "sign_in_experiences.passwordless_requires_verify": "Must enable verify for email/phone sign up identifier.",
    "sign_in_experiences.miss_sign_up_identifier_in_sign_in": "Sign in methods must contain the sign up identifier.",
    "sign_in_experiences.password_sign_in_must_be_enabled": (
        "Password sign in must be enabled when set a password is required in sign up."
    ),
    "sign_in_experiences.code_sign_in_must_be_enabled": (
        "Verification code sign in must be enabled when set a password is not required in sign up."
    ),
    "sign_in_experiences.unsupported_default_language": "This language - {language} is not supported at the moment.",
    "sign_in_experiences.at_least_one_authentication_factor": "You have to select at least one authentication factor.",
    "sign_in_experiences.backup_code_cannot_be_enabled_alone": "Backup code cannot be enabled alone.",
    "sign_in_experiences.duplicated_mfa_factors": "Duplicated MFA factors.",
    "sign_in_experiences.email_verification_code_cannot_be_used_for_mfa": (
        "Email verification code cannot be used for MFA when email verification is enabled for sign-in."
    ),
    "sign_in_experiences.phone_verification_code_cannot_be_used_for_mfa": (
        "SMS verification code cannot be used for MFA when SMS verification is enabled for sign-in."
    ),
    "sign_in_experiences.email_verification_code_cannot_be_used_for_sign_in": (
        "Email verification code cannot be used for sign-in when it is enabled for MFA."
    ),
    "sign_in_experiences.phone_verification_code_cannot_be_used_for_sign_in": (
        "SMS verification code cannot be used for sign-in when it is enabled for MFA."
    ),
    "sign_in_experiences.adaptive_mfa_requires_mfa": "MFA must be enabled before enabling adaptive MFA.",
    "sign_in_experiences.adaptive_mfa_requires_non_skippable_policy": (
        "Adaptive MFA requires a non-skippable MFA prompt policy. "
        "Use PromptOnlyAtSignInMandatory or PromptAtSignInAndSignUpMandatory."
    ),
    "sign_in_experiences.non_adaptive_mfa_requires_skippable_policy": (
        "When adaptive MFA is disabled, MFA prompt policy must be skippable. "
        "Do not use PromptOnlyAtSignInMandatory or PromptAtSignInAndSignUpMandatory."
    ),
    "sign_in_experiences.duplicated_sign_up_identifiers": "Duplicate sign-up identifiers detected.",
    "sign_in_experiences.missing_sign_up_identifiers": "Primary sign-up identifier cannot be empty.",
    "sign_in_experiences.invalid_custom_email_blocklist_format": (
        "Invalid custom email blocklist items: {items}. Each item must be a valid email address or email domain, "
        "e.g., foo@example.com or @example.com."
    ),
    "sign_in_experiences.invalid_custom_email_allowlist_format": (
        "Invalid custom email allowlist items: {items}. Each item must be a valid email address or email domain, "
        "e.g., foo@example.com or @example.com."
    ),
    "sign_in_experiences.forgot_password_method_requires_connector": (
        "Forgot password method requires a corresponding {method} connector to be configured."
    ),
    "localization.cannot_delete_default_language": (
        "You cannot delete {languageTag} language since it is used as default language of sign-in experience."
    ),
    "localization.invalid_translation_structure": "Invalid data schemas. Please check your input and try again.",
    "custom_profile_fields.entity_not_exists_with_names": "Cannot find entities with the given names: {names}",
    "custom_profile_fields.invalid_min_max_input": "Invalid min and max input.",
    "custom_profile_fields.invalid_default_value": "Invalid default value.",
    "custom_profile_fields.invalid_options": "Invalid field options.",
    "custom_profile_fields.invalid_regex_format": "Invalid regex format.",
    "custom_profile_fields.invalid_address_components": "Invalid address components.",
    "custom_profile_fields.invalid_fullname_components": "Invalid fullname components.",
    "custom_profile_fields.invalid_sub_component_type": "Invalid sub-component type.",
    "custom_profile_fields.invalid_name": "Invalid field name, only letters or numbers are allowed, case sensitive.",
    "custom_profile_fields.name_conflict_sign_in_identifier": (
        'Invalid field name. "{name}" is a reserved sign-in identifier key.'
    ),
    "custom_profile_fields.name_conflict_built_in_prop": (
        'Invalid field name. "{name}" is a reserved built-in user profile property.'
    ),
    "custom_profile_fields.name_conflict_custom_data": 'Invalid field name. "{name}" is a reserved custom data key.',
    "unknown": "Internal server error.",
}


def render_message(code: str, params: dict[str, Any]) -> str:
    template = MESSAGES.get(code, code)
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


class ErrorBody(msgspec.Struct, omit_defaults=True):
    code: str
    message: str
    data: Any = None


class GatehouseError(Exception):
    """A request that cannot be served, with Logto's code and status."""

    status: ClassVar[int] = 400

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        status: int | None = None,
        data: Any = None,
        **params: Any,
    ) -> None:
        self.code = code
        self.message = message or render_message(code, params)
        self.data = data
        if status is not None:
            self.status = status  # type: ignore[misc]
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out


class BadRequest(GatehouseError):
    status = 400


class Unauthorized(GatehouseError):
    status = 401


class Forbidden(GatehouseError):
    status = 403


class NotFound(GatehouseError):
    status = 404


class Conflict(GatehouseError):
    status = 409


class Unprocessable(GatehouseError):
    status = 422


class ServiceUnavailable(GatehouseError):
    status = 503


class InternalError(GatehouseError):
    status = 500


def error_from_body(status: int, body: dict[str, Any]) -> GatehouseError:
    """Rebuild an error that crossed a process boundary (RPC replies)."""
    return GatehouseError(
        str(body.get("code", "unknown")), str(body.get("message", "")), status=status, data=body.get("data")
    )
