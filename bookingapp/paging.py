"""Reading ``?page=`` for the paged listings of the customer and staff pages."""
from __future__ import annotations

MAX_PAGE = 10_000


def page_number(raw: str | None) -> int:
    """``?page=`` as a page number from 1; absent or not a number reads as 1, a huge one as MAX_PAGE."""
    text = (raw or "").strip()
    if not text.isdigit() or not text.isascii():
        return 1
    return min(max(int(text[:6]), 1), MAX_PAGE)
