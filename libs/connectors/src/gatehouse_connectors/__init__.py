"""Gatehouse's built-in connectors (Logto's connector factories): what each factory is (its metadata, as
`GET /api/connector-factories` shows it), the rules of its config, and the round trips to the identity
provider it speaks to (authorization URI, code exchange, user info). Management stores connectors and builds
authorization URIs; identity links social identities and keeps their token sets."""

from gatehouse_connectors.factories import FACTORIES, ConnectorFactory, factory_of
from gatehouse_connectors.social import SocialUserInfo, TokenSet

__all__ = ["FACTORIES", "ConnectorFactory", "SocialUserInfo", "TokenSet", "factory_of"]
