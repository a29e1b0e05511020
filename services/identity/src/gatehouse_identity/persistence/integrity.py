"""What a PostgreSQL integrity error says, read through SQLAlchemy's and asyncpg's wrappers."""

from sqlalchemy.exc import IntegrityError

FOREIGN_KEY_VIOLATION = "23503"
UNIQUE_VIOLATION = "23505"


def _cause(exc: IntegrityError) -> object:
    return getattr(exc.orig, "__cause__", None) or exc.orig


def sqlstate(exc: IntegrityError) -> str | None:
    code = getattr(_cause(exc), "sqlstate", None) or getattr(exc.orig, "sqlstate", None)
    return None if code is None else str(code)


def constraint(exc: IntegrityError) -> str | None:
    name = getattr(_cause(exc), "constraint_name", None) or getattr(exc.orig, "constraint_name", None)
    return None if name is None else str(name)
