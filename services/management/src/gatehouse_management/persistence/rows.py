"""Row helpers shared by the management repositories."""

from datetime import datetime


def epoch_ms(value: datetime | None) -> int | None:
    """Logto's timestamps: milliseconds since the epoch."""
    return None if value is None else int(value.timestamp() * 1000)
