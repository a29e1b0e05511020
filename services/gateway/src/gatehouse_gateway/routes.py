"""The route table: which service serves each part of Logto's surface.

A pattern is a path prefix in segments; `*` matches one segment. The longest pattern that
matches wins (more literal segments first), so `/api/users/*/roles` (management) beats
`/api/users` (identity). See docs/architecture.md for the same table by service.
"""

from dataclasses import dataclass
from typing import Final

IDENTITY, MANAGEMENT, ORGANIZATIONS, HOOKS_AUDIT, EXPERIENCE = (
    "identity",
    "management",
    "organizations",
    "hooks_audit",
    "experience",
)
SERVICES: Final = (IDENTITY, MANAGEMENT, ORGANIZATIONS, HOOKS_AUDIT, EXPERIENCE)

ROUTE_TABLE: Final[dict[str, str]] = {
    # identity: OIDC provider, users, keys and token configuration
    "/oidc": IDENTITY,
    "/api/users": IDENTITY,
    "/api/configs/oidc": IDENTITY,
    "/api/configs/jwt-customizer": IDENTITY,
    "/api/configs/id-token": IDENTITY,
    "/api/configs/actions": IDENTITY,
    "/api/configs/cimd": IDENTITY,
    "/api/cimd": IDENTITY,
    "/api/subject-tokens": IDENTITY,
    "/api/saml-applications": IDENTITY,
    "/api/saml": IDENTITY,
    "/api/authn": IDENTITY,
    "/api/secrets": IDENTITY,
    # management: applications, resources, roles and tenant configuration
    "/api/applications": MANAGEMENT,
    "/api/resources": MANAGEMENT,
    "/api/roles": MANAGEMENT,
    "/api/users/*/roles": MANAGEMENT,
    "/api/connectors": MANAGEMENT,
    "/api/connector-factories": MANAGEMENT,
    "/api/sign-in-exp": MANAGEMENT,
    "/api/custom-phrases": MANAGEMENT,
    "/api/custom-profile-fields": MANAGEMENT,
    "/api/domains": MANAGEMENT,
    "/api/email-templates": MANAGEMENT,
    "/api/configs/admin-console": MANAGEMENT,
    "/api/captcha-provider": MANAGEMENT,
    "/api/account-center": MANAGEMENT,
    "/api/sso-connectors": MANAGEMENT,
    "/api/sso-connector-providers": MANAGEMENT,
    "/api/systems": MANAGEMENT,
    "/api/user-assets": MANAGEMENT,
    # organizations
    "/api/organizations": ORGANIZATIONS,
    "/api/organization-roles": ORGANIZATIONS,
    "/api/organization-scopes": ORGANIZATIONS,
    "/api/organization-invitations": ORGANIZATIONS,
    "/api/users/*/organizations": ORGANIZATIONS,
    "/api/applications/*/organizations": ORGANIZATIONS,
    "/api/applications/*/users/*/consent-organizations": ORGANIZATIONS,
    # hooks and audit
    "/api/hooks": HOOKS_AUDIT,
    "/api/logs": HOOKS_AUDIT,
    "/api/dashboard": HOOKS_AUDIT,
    # experience: sign-in flow, account API and the hosted pages
    "/api/experience": EXPERIENCE,
    "/api/verifications": EXPERIENCE,
    "/api/verification-codes": EXPERIENCE,
    "/api/my-account": EXPERIENCE,
    "/api/one-time-tokens": EXPERIENCE,
    "/api/sentinel-activities": EXPERIENCE,
    "/api/.well-known/sign-in-exp": EXPERIENCE,
    "/api/.well-known/phrases": EXPERIENCE,
    "/api/.well-known/experience": EXPERIENCE,
    "/api/.well-known/account-center": EXPERIENCE,
    "/sign-in": EXPERIENCE,
    "/register": EXPERIENCE,
    "/consent": EXPERIENCE,
    "/forgot-password": EXPERIENCE,
    "/single-sign-on": EXPERIENCE,
    "/social": EXPERIENCE,
    "/callback": EXPERIENCE,
    "/one-time-token": EXPERIENCE,
    "/device": EXPERIENCE,
}

# Served by the gateway itself (see app.py); listed so the table documents the whole surface.
GATEWAY_ROUTES: Final = (
    "/api/status",
    "/api/swagger.json",
    "/api/.well-known/management.openapi.json",
    "/api/.well-known/experience.openapi.json",
    "/api/.well-known/user.openapi.json",
)


@dataclass(frozen=True)
class Route:
    segments: tuple[str, ...]
    service: str

    @property
    def rank(self) -> tuple[int, int]:
        """More segments first; among equals, fewer wildcards."""
        return (len(self.segments), -sum(s == "*" for s in self.segments))

    def matches(self, parts: list[str]) -> bool:
        if len(parts) < len(self.segments):
            return False
        return all(s == "*" or s == p for s, p in zip(self.segments, parts, strict=False))


class RouteTable:
    def __init__(self, table: dict[str, str] = ROUTE_TABLE) -> None:
        routes = [Route(tuple(p.strip("/").split("/")), s) for p, s in table.items()]
        # most segments first; among equals, literal segments before wildcards
        routes.sort(key=lambda r: (-len(r.segments), sum(s == "*" for s in r.segments)))
        # Indexed by the first two segments (almost every route starts with `api`): a lookup checks only
        # the few patterns that can match, longest first.
        self._by_prefix: dict[tuple[str, ...], list[Route]] = {}
        for route in routes:
            self._by_prefix.setdefault(route.segments[:2], []).append(route)

    def resolve(self, path: str) -> str | None:
        parts = path.strip("/").split("/")
        first = parts[0]
        second = parts[1] if len(parts) > 1 else None
        best: Route | None = None
        for key in ((first, second), (first, "*"), (first,)):
            for route in self._by_prefix.get(key, ()):  # type: ignore[arg-type]
                if route.matches(parts) and (best is None or route.rank > best.rank):
                    best = route
                    break  # each bucket is sorted longest first
        return None if best is None else best.service
