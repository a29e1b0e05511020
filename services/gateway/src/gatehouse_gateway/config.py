from gatehouse_platform.config import Settings


class GatewaySettings(Settings, kw_only=True):
    service_name: str = "gateway"
    port: int = 3001
    max_body_bytes: int = 10 * 1024 * 1024
    upstream_timeout: float = 30.0
    upstream_connect_timeout: float = 1.0
    upstream_pool_size: int = 256
