from gatehouse_platform.config import Settings


class ManagementSettings(Settings, kw_only=True):
    service_name: str = "management"
    port: int = 3102
    bootstrap_file: str = ".gatehouse/bootstrap.json"
