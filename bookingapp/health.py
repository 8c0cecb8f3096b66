"""`GET /healthz`: is the database there, is Redis, what did maintenance do last, how the outbox stands."""
from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import select, text

from bookingapp.extensions import db, now, redis_client
from bookingapp.models import MaintenanceRun, RunTrigger, UnitStatus
from bookingapp.services import delivery
from bookingapp.services.leases import REDIS_ERRORS
from bookingapp.services.runs import error_line, run_to_json

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Answer 200 ok, 200 degraded (Redis unreachable) or 503 (database unreachable)."""
    database = _database_state()
    redis_state = _redis_state()
    body = {
        "status": "ok" if database == "ok" and redis_state in ("ok", "not configured") else "degraded",
        "database": database,
        "redis": redis_state,
        "maintenance": _maintenance() if database == "ok" else None,
        "outbox": _outbox() if database == "ok" else None,
    }
    return body, 200 if database == "ok" else 503


def _database_state() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception:
        db.session.rollback()
        return "unreachable"


def _redis_state() -> str:
    client = redis_client()
    if client is None:
        return "not configured"
    try:
        client.ping()
        return "ok"
    except REDIS_ERRORS:
        return "unreachable"


def _maintenance() -> dict:
    newest = select(MaintenanceRun).order_by(MaintenanceRun.id.desc()).limit(1)
    return {
        "enabled": current_app.config["SLOTS_MAINTENANCE_ENABLED"],
        "last_run": _run(db.session.scalar(newest)),
        "last_daily_run": _run(db.session.scalar(newest.where(MaintenanceRun.trigger == RunTrigger.DAILY))),
    }


def _outbox() -> dict:
    """How long the longest-waiting due message has waited, and how many wait or failed."""
    counts = delivery.counts()
    age = delivery.oldest_due_age(now())
    return {
        "delivery_enabled": current_app.config["OUTBOX_DELIVERY_ENABLED"],
        "pending": counts.get("pending", 0),
        "failed": counts.get("failed", 0),
        "oldest_due_age_seconds": None if age is None else round(age, 1),
    }


def _run(run: MaintenanceRun | None) -> dict | None:
    if run is None:
        return None
    # The staff API's fields, but only the error's last line: /healthz is not for tracebacks.
    done = sum(1 for unit in run.units if unit.status is UnitStatus.DONE)
    return {**run_to_json(run), "day_key": run.day_key, "error": error_line(run.error),
            "units": {"done": done, "total": len(run.units)}}
