from gatehouse_platform.config import Settings


class ManagementSettings(Settings, kw_only=True):
    service_name: str = "management"
    port: int = 3102
    bootstrap_file: str = ".gatehouse/bootstrap.json"
    # the busiest service (every Management API list and write): two processes use both cores of a small
    # machine; its outbox relays and consumers are safe to run twice (SKIP LOCKED, shared durable consumer)
    workers: int = 2
