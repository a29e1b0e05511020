from gatehouse_platform.config import Settings


class HooksAuditSettings(Settings, kw_only=True):
    service_name: str = "hooks_audit"
    port: int = 3104
