from gatehouse_platform.config import Settings


class OrganizationsSettings(Settings, kw_only=True):
    service_name: str = "organizations"
    port: int = 3103
