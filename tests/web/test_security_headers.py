"""Every answer carries the security headers; https adds HSTS and Secure cookies."""
from __future__ import annotations

import pytest

from bookingapp import create_app
from tests.conftest import settings_for


@pytest.mark.parametrize("path", ["/", "/admin/login", "/api/games", "/healthz", "/no-such-page"])
def test_pages_api_and_errors_carry_the_security_headers(client, path):
    headers = client.get(path).headers
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_plain_http_has_no_hsts_and_no_secure_cookie(client):
    response = client.get("/admin/login")
    assert "Strict-Transport-Security" not in response.headers
    assert all("Secure" not in cookie for cookie in response.headers.getlist("Set-Cookie"))


def test_https_adds_hsts_and_secure_session_cookie(pg_url, redis_prefix):
    secure = create_app(settings_for(pg_url, redis_prefix, PREFERRED_URL_SCHEME="https"))
    response = secure.test_client().get("/admin/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie for cookie in cookies)


def test_no_template_runs_an_inline_script_or_handler():
    from pathlib import Path
    import re

    templates = Path(__file__).resolve().parents[2] / "bookingapp" / "templates"
    for page in templates.rglob("*.html"):
        text = page.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), page
        assert not re.search(r"\son[a-z]+\s*=", text), page
