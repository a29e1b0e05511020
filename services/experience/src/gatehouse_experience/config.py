from gatehouse_platform.config import Settings


class ExperienceSettings(Settings, kw_only=True):
    service_name: str = "experience"
    port: int = 3105
