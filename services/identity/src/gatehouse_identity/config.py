from gatehouse_platform.config import Settings


class IdentitySettings(Settings, kw_only=True):
    service_name: str = "identity"
    port: int = 3101
    client_cache_ttl: float = 300.0
