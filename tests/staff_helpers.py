"""Helpers for the staff page tests: the test password and CSRF-carrying posts."""
from __future__ import annotations

import re

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token a rendered page carries."""
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


def post_form(client, page_url: str, data: dict, url: str | None = None, **kwargs):
    """Open a page, then post ``data`` with the CSRF token that page carries (to ``url`` or the page)."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(url or page_url, data={"csrf_token": token, **data}, **kwargs)
