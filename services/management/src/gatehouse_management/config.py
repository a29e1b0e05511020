from gatehouse_platform.config import Settings


class ManagementSettings(Settings, kw_only=True):
    service_name: str = "management"
    port: int = 3102
    bootstrap_file: str = ".gatehouse/bootstrap.json"
    # the busiest service (every Management API list and write): two processes use both cores of a small
    # machine; its outbox relays and consumers are safe to run twice (SKIP LOCKED, shared durable consumer)
    workers: int = 2
    # Have I Been Pwned's range API for the `rejects.pwned` password rule (Logto's is
    # https://api.pwnedpasswords.com/range/); empty: no outbound call, the rule is skipped
    pwned_passwords_url: str = ""
