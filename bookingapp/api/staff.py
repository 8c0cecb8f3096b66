"""The staff API: create and edit games, read maintenance runs. Bearer tokens only."""
from __future__ import annotations

import re
from functools import wraps

from flask import current_app, g, jsonify, request

from bookingapp.api import bp
from bookingapp.api.body import json_object
from bookingapp.maintenance.jobs import start_generation
from bookingapp.services.serialize import game_to_json as game_json
from bookingapp.errors import GameNotFound, ValidationError
from bookingapp.errors import error_response
from bookingapp.extensions import db, now
from bookingapp.services.accounts import token_for
from bookingapp.services.audit import Actor
from bookingapp.services.games import create_game
from bookingapp.services.overview import get_game
from bookingapp.services.reconcile import preview_game_change, update_game
from bookingapp.services.runs import recent_runs, run_to_json

TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes"}, {"0", "false", "no", ""}
_DIGITS = re.compile(r"[0-9]{1,9}")


def sends_credentials() -> bool:
    """Whether the call carries an ``Authorization`` header (then it is a staff call and must hold up)."""
    return "Authorization" in request.headers


def staff_token_required(view):
    """Refuse the call with 401 unless it carries ``Authorization: Bearer <a live token>``."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        token = token_for(db.session, raw.strip(), now=now()) if scheme.lower() == "bearer" else None
        if token is None:
            response = error_response(401, "unauthorized", "Send a valid staff token: Authorization: Bearer <token>.")
            response.headers["WWW-Authenticate"] = 'Bearer realm="bookingapp"'
            return response
        g.api_token = token
        return view(*args, **kwargs)

    return wrapper


def token_actor() -> Actor:
    """Who makes this staff call: the token, by its name."""
    return Actor.token(g.api_token)


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A whole-number query argument within ``low..high``, or a 422 naming it."""
    return _int_arg(name, default, low, high)


def cursor_arg() -> int | None:
    """``?cursor=``: the ``next_cursor`` of the page before (an id), or None for the first page."""
    raw = request.args.get("cursor")
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ValidationError({"cursor": "must be a next_cursor this API gave"}, "Bad query string.")
    return int(raw)


def _flag(name: str) -> bool:
    raw = request.args.get(name, "").strip().lower()
    if raw in TRUE_WORDS or raw in FALSE_WORDS:
        return raw in TRUE_WORDS
    raise ValidationError({name: "must be 1 or 0"}, "Bad query string.")


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # str.isdigit() accepts "²", which int() refuses; and a very long number costs int() time.
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise ValidationError({name: f"must be a whole number from {low} to {high}"}, "Bad query string.")
    return int(raw)


@bp.post("/games")
@staff_token_required
def create_game_api():
    """Create a game and start writing its window in the background; answer it with 201."""
    game = create_game(db.session, json_object(), actor=Actor.token(g.api_token), now=now())
    if game.is_active:
        start_generation(game, now=now())
    response = jsonify(game_json(game))
    response.status_code = 201
    return response


@bp.patch("/games/<game_id>")
@staff_token_required
def update_game_api(game_id: str):
    """Change a game and reconcile its future slots; with ?dry_run=1 only say what would change."""
    game = get_game(db.session, game_id)
    if game is None:
        raise GameNotFound(f"no game with id {game_id[:40]}")
    body, dry_run = json_object(), _flag("dry_run")
    settings = dict(now=now(), default_days=current_app.config["SLOTS_DAYS_TO_MAINTAIN"])
    if dry_run:
        fields, plan = preview_game_change(db.session, game, body, **settings)
        db.session.rollback()
        preview = {**game_json(game), **fields, "booking_mode": fields["booking_mode"].value}
        return jsonify({"dry_run": True, "game": preview, "changes": plan.as_json()})
    try:
        plan = update_game(db.session, game, body, **settings, actor=Actor.token(g.api_token))
    except Exception:
        db.session.rollback()
        raise
    return jsonify({"dry_run": False, "game": game_json(game), "changes": plan.as_json()})


@bp.get("/runs")
@staff_token_required
def runs_api():
    """List the latest maintenance runs, newest first (?limit=1..500)."""
    runs = recent_runs(db.session, limit=_int_arg("limit", 50, 1, 500))
    return jsonify({"runs": [run_to_json(run) for run in runs]})
