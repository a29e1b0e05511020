"""The identity service: the OpenID Provider (`/oidc/*`), signing keys and (later) users."""
