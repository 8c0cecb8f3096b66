"""The app factory: settings, extensions, blueprints, commands, the daily hook, lazy delivery."""
from __future__ import annotations

import logging
import os
from typing import Any, Mapping

from flask import Flask

from config import Config, check_mail_url

from bookingapp.core.clock import Clock, clock_from_config
from bookingapp.extensions import (
    cache, cache_config, csrf, db, forget_session, init_redis, init_security_headers, login_manager, migrate,
)


def create_app(config: type | Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, commands."""
    app = Flask("bookingapp", instance_relative_config=True)
    app.config.from_object(Config)
    if isinstance(config, Mapping):
        app.config.from_mapping(config)
    elif config is not None:
        app.config.from_object(config)
    app.config["MAIL_URL"] = check_mail_url(app.config.get("MAIL_URL"))  # settings given here are checked too
    _configure_logging(app)
    app.extensions["clock"] = clock or clock_from_config(app.config)
    _init_extensions(app)
    _register_blueprints(app)
    _register_commands(app)
    _register_maintenance(app)
    return app


def _configure_logging(app: Flask) -> None:
    logger = logging.getLogger("bookingapp")
    if not logger.handlers and not app.testing:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _init_extensions(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    app.teardown_appcontext(forget_session)  # runs before Flask-SQLAlchemy's own removal
    migrate.init_app(app, db, render_as_batch=True)
    init_redis(app)
    for key, value in cache_config(app).items():
        app.config.setdefault(key, value)
    cache.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    init_security_headers(app)
    from bookingapp.i18n import init_i18n

    init_i18n(app)
    from bookingapp.ratelimit import init_limits

    init_limits(app)


def _register_blueprints(app: Flask) -> None:
    from bookingapp.api import bp as api_bp
    from bookingapp.errors import register_database_errors, register_http_errors
    from bookingapp.site import bp as booking_bp
    from bookingapp.admin import bp as admin_bp

    app.register_blueprint(booking_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates by token, not by cookie
    register_http_errors(app, api_bp.url_prefix)
    register_database_errors(app, api_bp.url_prefix, forget_session)


def _register_maintenance(app: Flask) -> None:
    from bookingapp.health import bp as health_bp
    from bookingapp.maintenance.hook import install_daily_hook
    from bookingapp.maintenance.outbox import install_lazy_delivery

    app.register_blueprint(health_bp)
    install_daily_hook(app)
    install_lazy_delivery(app)


def _register_commands(app: Flask) -> None:
    from bookingapp.cli import admin_cli, demo_cli, outbox_cli, slots_cli

    app.cli.add_command(slots_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(admin_cli)
    app.cli.add_command(outbox_cli)
