"""Extensions, created unbound and attached to an app in ``create_app``."""
from __future__ import annotations

import logging
from datetime import datetime

import redis
from flask import Flask, current_app, g
from flask_babel import Babel
from flask_caching import Cache
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from bookingapp.core.clock import Clock

log = logging.getLogger(__name__)

# Named constraints keep migrations stable across databases and autogenerate runs.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
cache = Cache()
csrf = CSRFProtect()
login_manager = LoginManager()
talisman = Talisman()
babel = Babel()

# Scripts only from this site (no inline script or handler runs); inline styles stay
# allowed for the few style attributes the templates carry; no one may frame a page.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def init_security_headers(app: Flask) -> None:
    """Security headers on every response; HSTS and Secure cookies when served over https."""
    https = app.config["PREFERRED_URL_SCHEME"] == "https"
    app.config["REMEMBER_COOKIE_SECURE"] = https
    # Registered before Talisman's, so it runs after it: a page's own policy wins.
    app.after_request(_page_referrer_policy)
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the proxy; redirecting here would loop behind it
        strict_transport_security=https,
        strict_transport_security_max_age=365 * 86400,
        session_cookie_secure=https,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
    )


def set_referrer_policy(policy: str) -> None:
    """Answer this request with a stricter Referrer-Policy than the site's."""
    g.referrer_policy = policy


def _page_referrer_policy(response):
    if "referrer_policy" in g:
        response.headers["Referrer-Policy"] = g.referrer_policy
    return response


def init_redis(app: Flask) -> None:
    """Attach a Redis client (or None on the embedded default) as ``app.extensions['redis']``.

    redis-py's connection pool notices a fork and reconnects, so creating the client
    before gunicorn forks is safe.
    """
    url = app.config.get("REDIS_URL")
    client = None
    if url:
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    else:
        log.warning(
            "REDIS_URL is not set: using a process-local daily lease and cache "
            "(fine for one process, not for several workers or hosts)"
        )
    app.extensions["redis"] = client


def redis_client() -> redis.Redis | None:
    """The app's Redis client, or None when running without Redis."""
    return current_app.extensions.get("redis")


def app_clock() -> Clock:
    """The current app's clock (``create_app(clock=…)``; tests move it instead of sleeping)."""
    return current_app.extensions["clock"]


def now() -> datetime:
    """The current instant on the app's clock."""
    return app_clock().now()


def redis_key(*parts: object) -> str:
    """A Redis key under the app's prefix, e.g. ``bookingapp:daily:2027-03-14``."""
    return ":".join([current_app.config["REDIS_PREFIX"], *map(str, parts)])


def cache_config(app: Flask) -> dict:
    """Flask-Caching settings: Redis when configured, a process-local cache otherwise."""
    prefix = app.config["REDIS_PREFIX"] + ":cache:"
    if app.config.get("REDIS_URL"):
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": app.config["REDIS_URL"],
            "CACHE_KEY_PREFIX": prefix,
            "CACHE_OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
    return {"CACHE_TYPE": "SimpleCache", "CACHE_KEY_PREFIX": prefix}


def forget_session(exc: BaseException | None = None) -> None:
    """Drop the request's session without raising, whatever state its connection is in.

    Registered as a teardown ahead of Flask-SQLAlchemy's: removing a session whose
    connection the server has terminated raises, and an exception there, after the view
    returned, would reach gunicorn as a bare 500. The dead connection is discarded; the
    pool's pre-ping keeps it from being handed out again.
    """
    try:
        db.session.remove()
    except Exception as error:
        log.warning("Dropped a database session whose connection was lost: %s", str(error).splitlines()[0])
        try:
            db.session.invalidate()  # close its connections without a rollback on the dead link
        except Exception:
            pass
        db.session.registry.clear()


def insert_for(bind):
    """The ``INSERT`` with ``ON CONFLICT`` of the database behind ``bind`` (an engine or connection)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
