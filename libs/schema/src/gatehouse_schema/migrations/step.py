from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One forward-only step of a context schema."""

    version: int
    name: str
    sql: str
