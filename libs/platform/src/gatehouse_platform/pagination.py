"""Logto's pagination: `page` (from 1) and `page_size` (1..100, default 20); the total in `Total-Number`."""

from dataclasses import dataclass

from gatehouse_platform.errors import BadRequest

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def limit(self) -> int:
        return self.page_size


def _positive(value: str | None, default: int, maximum: int | None = None) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except ValueError:
        raise BadRequest("guard.invalid_pagination") from None
    if n < 1 or (maximum is not None and n > maximum):
        raise BadRequest("guard.invalid_pagination")
    return n


def parse_page(page: str | None, page_size: str | None, *, optional: bool = False) -> Page | None:
    """`None` when pagination is optional for the route and the client asked for none."""
    if optional and page is None and page_size is None:
        return None
    return Page(_positive(page, 1), _positive(page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE))


TOTAL_NUMBER_HEADER = "Total-Number"
