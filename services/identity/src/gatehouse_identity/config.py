from gatehouse_platform.config import Settings


class IdentitySettings(Settings, kw_only=True):
    service_name: str = "identity"
    port: int = 3101
    # every token grant signs with ES384 (~0.2 ms of CPU): two processes use both cores of a small machine,
    # like management's; its caches are per process and invalidated by events in each of them
    workers: int = 2
    client_cache_ttl: float = 300.0
    # argon2id cost for passwords set here: OWASP's minimum (19 MiB, 2 passes, 1 lane) by default
    password_hash_memory_kib: int = 19456
    password_hash_time_cost: int = 2
    password_hash_parallelism: int = 1
    # how many password hashes run at once (each in a worker thread, holding its memory)
    password_hash_concurrency: int = 2
    # seconds between sweeps of expired OIDC rows (`oidc.sweeper`; 0 turns it off), rows per DELETE
    oidc_sweep_interval: float = 600.0
    oidc_sweep_batch_size: int = 1000
    # the secret vault's key-encryption key (base64 of 32 bytes): social identities' token sets are stored
    # only when it is set (connectors with `enableTokenStorage`); keep it out of the database's backups
    secret_vault_kek: str = ""
