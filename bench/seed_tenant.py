"""Seeds the bench tenant for the management benchmarks: direct SQL (asyncpg COPY) into the run's own
database after the migrations and the bootstrap seed, before the services start.

What goes in (reproducible: a fixed random seed):

* 10,000 users in `identity.users`: `first.last<n>` usernames, unique emails (`@example.com` and a few
  other domains), display names; ~30 % with a phone, ~85 % with a password hash, ~20 % with an
  avatar, ~70 % signed in at least once; `created_at` spread uniformly over the last two years.
* 1,000 applications in `management.applications`: 30 % SPA, 15 % Native, 25 % Traditional (of those
  1 in 10 third-party), 30 % MachineToMachine; `created_at` spread over the last two years. The
  confidential ones (Traditional, MachineToMachine) also get their "Default secret" row in
  `management.application_secrets`, as `POST /api/applications` does.
* 200 roles in `management.roles`: 180 `User` roles and 20 `MachineToMachine` roles.
* `management.users_roles`: the benchmarked role ("Bench big role") holds 2,000 users (20 % of them,
  a random sample); each of the other 179 User roles holds 1-10 random users (uniform). Each link
  carries its user's `created_at` in `user_created_at`, as management's writers set it.
* `management.applications_roles`: each MachineToMachine role holds 0-5 random M2M applications.

Then `VACUUM (ANALYZE)` of the seeded tables, so the planner has statistics and index-only scans see
an up-to-date visibility map, as on a database that autovacuum keeps.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

USERS = 10_000
APPLICATIONS = 1_000
ROLES = 200
M2M_ROLES = 20
BIG_ROLE_USERS = 2_000
OTHER_ROLE_USERS = (1, 10)  # users per other User role, uniform
M2M_ROLE_APPS = (0, 5)  # M2M applications per M2M role, uniform
APP_TYPES = [("SPA", 30), ("Native", 15), ("Traditional", 25), ("MachineToMachine", 30)]
CONFIDENTIAL = {"Traditional", "MachineToMachine"}

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
SECRET_ALPHABET = ALPHABET + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
FIRST = (
    "james mary robert patricia john jennifer michael linda david elizabeth william barbara richard susan "
    "joseph jessica thomas sarah charles karen chris lisa daniel nancy matthew betty anthony sandra mark "
    "ashley paul emily steven kimberly andrew donna joshua michelle kevin carol brian amanda george melissa "
    "yuki hana li wei sofia lucas mateo emma noah olivia liam amelia aarav priya fatima omar ines jonas lea"
).split()
LAST = (
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez "
    "wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark "
    "ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams "
    "nelson baker hall rivera campbell mitchell carter roberts tanaka suzuki wang zhang muller schmidt "
    "rossi dubois silva kowalski novak ivanov larsen"
).split()
DOMAINS = ["example.com"] * 6 + ["example.org", "mail.example.net", "corp.example.io"]
PRODUCTS = (
    "portal dashboard billing checkout analytics crm inventory payroll helpdesk wiki chat scheduler "
    "reports gateway mobile console admin storefront ledger tracker"
).split()
ROLE_WORDS = (
    "viewer editor admin billing support auditor developer operator manager analyst owner reviewer "
    "publisher moderator finance sales marketing security devops guest"
).split()
# a fixed, realistic-looking hash: the benchmarks never check a password
PASSWORD_HASH = "$argon2i$v=19$m=4096,t=10,p=1$c2FsdHNhbHRzYWx0$1kVhUOCuJrVnpmBaZ6H0Nw2fMWrj3C2B7hKkD0NFmJE"


@dataclass
class SeedResult:
    tenant_id: str
    big_role_id: str
    small_role_id: str = ""  # a User role with the median number of users, for its query plans
    small_role_users: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # table -> rows in the tenant after seeding
    seconds: float = 0.0
    distribution: str = ""


def _id(rng: random.Random, size: int = 21) -> str:
    return "".join(rng.choices(ALPHABET, k=size))


def _secret(rng: random.Random) -> str:
    return "".join(rng.choices(SECRET_ALPHABET, k=32))


def _spread(rng: random.Random, now: dt.datetime, days: int = 730) -> dt.datetime:
    return now - dt.timedelta(seconds=rng.uniform(0, days * 86400))


def _unique_ids(rng: random.Random, n: int, size: int) -> list[str]:
    ids: dict[str, None] = {}
    while len(ids) < n:
        ids[_id(rng, size)] = None
    return list(ids)


def user_records(rng: random.Random, tenant_id: str, now: dt.datetime) -> tuple[list[str], list[tuple[Any, ...]]]:
    ids = _unique_ids(rng, USERS, 12)  # Logto's user ids are 12 characters
    records = []
    for n, user_id in enumerate(ids):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        handle = f"{first}.{last}{n}"
        created = _spread(rng, now)
        updated = created + dt.timedelta(seconds=rng.uniform(0, (now - created).total_seconds()))
        signed_in = (
            created + dt.timedelta(seconds=rng.uniform(0, (now - created).total_seconds()))
            if rng.random() < 0.7
            else None
        )
        has_password = rng.random() < 0.85
        custom = {"plan": rng.choice(["free", "pro", "team"]), "newsletter": rng.random() < 0.5}
        records.append(
            (
                tenant_id,
                user_id,
                handle.replace(".", "_") if rng.random() < 0.3 else handle,
                f"{handle}@{rng.choice(DOMAINS)}",
                f"1555{n:07d}" if rng.random() < 0.3 else None,
                PASSWORD_HASH if has_password else None,
                "Argon2i" if has_password else None,
                f"{first.title()} {last.title()}",
                f"https://avatars.example.com/{user_id}.png" if rng.random() < 0.2 else None,
                json.dumps({}),
                json.dumps({}),
                json.dumps(custom if rng.random() < 0.4 else {}),
                signed_in,
                created,
                updated,
            )
        )
    return ids, records


USER_COLUMNS = [
    "tenant_id", "id", "username", "primary_email", "primary_phone", "password_encrypted",
    "password_encryption_method", "name", "avatar", "profile", "identities", "custom_data",
    "last_sign_in_at", "created_at", "updated_at",
]  # fmt: skip


def application_records(
    rng: random.Random, tenant_id: str, now: dt.datetime
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[str]]:
    types = [t for t, weight in APP_TYPES for _ in range(weight)]
    apps, secrets, m2m = [], [], []
    for n, app_id in enumerate(_unique_ids(rng, APPLICATIONS, 21)):
        app_type = rng.choice(types)
        product = rng.choice(PRODUCTS)
        host = f"{product}{n}.example.com"
        if app_type in {"SPA", "Traditional"}:
            metadata = {"redirectUris": [f"https://{host}/callback"], "postLogoutRedirectUris": [f"https://{host}/"]}
        elif app_type == "Native":
            metadata = {"redirectUris": [f"io.example.{product}{n}://callback"], "postLogoutRedirectUris": []}
        else:
            metadata = {"redirectUris": [], "postLogoutRedirectUris": []}
        custom_client = {"corsAllowedOrigins": [f"https://{host}"], "idTokenTtl": 3600} if app_type == "SPA" else {}
        created = _spread(rng, now)
        apps.append(
            (
                tenant_id,
                app_id,
                f"{product.title()} {app_type} {n}",
                _secret(rng),
                f"The {product} {app_type} application" if rng.random() < 0.6 else None,
                app_type,
                json.dumps(metadata),
                json.dumps(custom_client),
                json.dumps({"team": rng.choice(ROLE_WORDS)} if rng.random() < 0.3 else {}),
                app_type == "Traditional" and rng.random() < 0.1,
                created,
            )
        )
        if app_type in CONFIDENTIAL:
            secrets.append((tenant_id, app_id, "Default secret", _secret(rng), created, None))
        if app_type == "MachineToMachine":
            m2m.append(app_id)
    return apps, secrets, m2m


APP_COLUMNS = [
    "tenant_id", "id", "name", "secret", "description", "type", "oidc_client_metadata",
    "custom_client_metadata", "custom_data", "is_third_party", "created_at",
]  # fmt: skip
SECRET_COLUMNS = ["tenant_id", "application_id", "name", "value", "created_at", "expires_at"]


def role_records(rng: random.Random, tenant_id: str, now: dt.datetime) -> list[tuple[Any, ...]]:
    records = []
    for n, role_id in enumerate(_unique_ids(rng, ROLES, 21)):
        kind = "MachineToMachine" if n >= ROLES - M2M_ROLES else "User"
        word = rng.choice(ROLE_WORDS)
        name = "Bench big role" if n == 0 else f"{word}-{n}"
        records.append((tenant_id, role_id, name, f"{word.title()} access, group {n}", kind, False, _spread(rng, now)))
    return records


ROLE_COLUMNS = ["tenant_id", "id", "name", "description", "type", "is_default", "created_at"]


async def _seed(database_url: str, tenant_id: str, seed: int) -> SeedResult:
    import asyncpg

    t0 = time.monotonic()
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    user_ids, users = user_records(rng, tenant_id, now)
    apps, secrets, m2m_apps = application_records(rng, tenant_id, now)
    roles = role_records(rng, tenant_id, now)
    user_roles = [r[1] for r in roles if r[4] == "User"]
    m2m_roles = [r[1] for r in roles if r[4] == "MachineToMachine"]
    big_role = user_roles[0]
    # a link keeps its user's created_at (management.users_roles.user_created_at, the list's sort key)
    created_of = {u[1]: u[USER_COLUMNS.index("created_at")] for u in users}
    links = [(tenant_id, u, big_role, created_of[u]) for u in rng.sample(user_ids, BIG_ROLE_USERS)]
    for role_id in user_roles[1:]:
        links += [(tenant_id, u, role_id, created_of[u]) for u in rng.sample(user_ids, rng.randint(*OTHER_ROLE_USERS))]
    app_links = []
    for role_id in m2m_roles:
        app_links += [(tenant_id, a, role_id) for a in rng.sample(m2m_apps, rng.randint(*M2M_ROLE_APPS))]

    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("users", schema_name="identity", columns=USER_COLUMNS, records=users)
            await conn.copy_records_to_table(
                "applications", schema_name="management", columns=APP_COLUMNS, records=apps
            )
            await conn.copy_records_to_table(
                "application_secrets", schema_name="management", columns=SECRET_COLUMNS, records=secrets
            )
            await conn.copy_records_to_table("roles", schema_name="management", columns=ROLE_COLUMNS, records=roles)
            await conn.copy_records_to_table(
                "users_roles",
                schema_name="management",
                columns=["tenant_id", "user_id", "role_id", "user_created_at"],
                records=links,
            )
            await conn.copy_records_to_table(
                "applications_roles",
                schema_name="management",
                columns=["tenant_id", "application_id", "role_id"],
                records=app_links,
            )
        tables = [
            "identity.users",
            "management.applications",
            "management.application_secrets",
            "management.roles",
            "management.users_roles",
            "management.applications_roles",
        ]
        await conn.execute("VACUUM (ANALYZE) " + ", ".join(tables))
        counts = {
            t: int(await conn.fetchval(f"SELECT count(*) FROM {t} WHERE tenant_id = $1", tenant_id)) for t in tables
        }
    finally:
        await conn.close()
    per_role: dict[str, int] = {}
    for link in links:
        per_role[link[2]] = per_role.get(link[2], 0) + 1
    other = [per_role.get(r, 0) for r in user_roles[1:]]
    small_role = sorted(user_roles[1:], key=lambda r: (per_role.get(r, 0), r))[len(user_roles[1:]) // 2]
    by_type: dict[str, int] = {}
    for a in apps:
        by_type[a[5]] = by_type.get(a[5], 0) + 1
    distribution = (
        f"applications by type: {', '.join(f'{k} {v}' for k, v in sorted(by_type.items()))} "
        f"({sum(1 for a in apps if a[9])} of the Traditional ones third-party; {len(secrets)} secrets); "
        f"roles: {len(user_roles)} User, {len(m2m_roles)} MachineToMachine; "
        f"users per role: the benchmarked role `{big_role}` {BIG_ROLE_USERS}, the other {len(other)} User roles "
        f"{min(other)}-{max(other)} (mean {sum(other) / len(other):.1f}); "
        f"{len(app_links)} application-role links over the M2M roles ({M2M_ROLE_APPS[0]}-{M2M_ROLE_APPS[1]} each)"
    )
    return SeedResult(
        tenant_id, big_role, small_role, per_role[small_role], counts, time.monotonic() - t0, distribution
    )


def seed(database_url: str, tenant_id: str, random_seed: int = 20261126) -> SeedResult:
    """Seeds the tenant (see the module docstring); returns the benchmarked role and the row counts."""
    return asyncio.run(_seed(database_url, tenant_id, random_seed))
