"""Staff views: games, their edits and generation jobs, the run history. Parse, call, render."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from bookingapp.admin import bp
from bookingapp.admin.forms import BOOKING_MODES, CHANGE_WORDS, PRICE_PER, ActionForm, GameForm
from bookingapp.maintenance.jobs import job_status, start_generation
from bookingapp.core.hours import zone_names
from bookingapp.errors import DomainError, error_response, wants_json
from bookingapp.extensions import db, now
from bookingapp.services.audit import Actor
from bookingapp.services.games import create_game
from bookingapp.services.overview import games_overview, get_game
from bookingapp.services.reconcile import off_schedule_slots, preview_game_change, set_game_active, update_game
from bookingapp.services.runs import error_line, recent_runs
from bookingapp.paging import page_number


def _default_days() -> int:
    return current_app.config["SLOTS_DAYS_TO_MAINTAIN"]


def _game_or_404(game_id: str):
    game = get_game(db.session, game_id)
    if game is None:
        abort(404)
    return game


@bp.get("/")
def games():
    """List every game with its window and the bookings ahead, 50 a page."""
    overview = games_overview(db.session, now=now(), default_days=_default_days(), page=page_number(request.args.get("page")))
    return render_template("admin/games.html", overview=overview, action_form=ActionForm())


@bp.get("/games/<game_id>/deactivate")
def confirm_deactivate(game_id: str):
    """Ask before deactivating a game (the games list's button leads here)."""
    game = _game_or_404(game_id)
    if not game.is_active:
        return redirect(url_for("admin.games"))
    return render_template("admin/game_deactivate.html", game=game, action_form=ActionForm())


@bp.route("/games/new", methods=["GET", "POST"])
def new_game():
    """Show the new-game form; create the game and go to its generation progress."""
    form = GameForm()
    if request.method == "GET":
        form.timezone.data = current_app.config["BOOKING_DEFAULT_TIMEZONE"]
        form.slot_minutes.data, form.capacity.data = "60", "4"
        form.price.data, form.currency.data = "0", "EUR"
    elif form.validate_on_submit():
        try:
            game = create_game(db.session, form.game_data(), actor=Actor.user(current_user), now=now())
        except DomainError as exc:
            db.session.rollback()
            form.show_problems(exc.fields or {"_": exc.message})
        else:
            flash(f"{game.name} created.", "info")
            return redirect(url_for("admin.progress", game_id=game.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/game_form.html", form=form, game=None), status


@bp.route("/games/<game_id>/edit", methods=["GET", "POST"])
def edit_game(game_id: str):
    """Show a game's settings; preview or save a change with its effect on future slots."""
    game = _game_or_404(game_id)
    form, plan = GameForm(), None
    if request.method == "GET":
        form.fill_from(game)
    elif form.validate_on_submit():
        try:
            if request.form.get("action") == "save":
                plan = update_game(
                    db.session, game, form.game_data(with_active=False), now=now(), default_days=_default_days(),
                    actor=Actor.user(current_user),
                )
                flash(f"{game.name} saved. {plan.summary()}", "info")
                return redirect(url_for("admin.edit_game", game_id=game.id))
            _, plan = preview_game_change(
                db.session, game, form.game_data(with_active=False), now=now(), default_days=_default_days()
            )
        except DomainError as exc:
            form.show_problems(exc.fields or {"_": exc.message})
        finally:
            db.session.rollback()  # a preview writes nothing; a failed save leaves nothing half-way
    status = 422 if form.errors else 200  # WTForms counts form_errors in errors too
    off_schedule = off_schedule_slots(db.session, game, now=now())
    return render_template(
        "admin/game_form.html", form=form, game=game, plan=plan, off_schedule=off_schedule, action_form=ActionForm()
    ), status


@bp.post("/games/<game_id>/active")
def toggle_active(game_id: str):
    """Deactivate or reactivate a game."""
    game = _game_or_404(game_id)
    if ActionForm().validate_on_submit():
        active = request.form.get("active") == "1"
        set_game_active(db.session, game, active, now=now(), default_days=_default_days(), actor=Actor.user(current_user))
        flash(f"{game.name} {'reactivated' if active else 'deactivated: hidden, no new slots, bookings stand'}.", "info")
    return redirect(url_for("admin.games"))


@bp.get("/games/<game_id>/progress")
def progress(game_id: str):
    """Show a game's generation job, polled by the page's script."""
    game = _game_or_404(game_id)
    job = job_status(request.args.get("job", ""))
    return render_template("admin/progress.html", game=game, job=job, action_form=ActionForm())


@bp.post("/games/<game_id>/jobs")
def start_job(game_id: str):
    """Start (or join) the generation of a game's window: JSON for the page's script, a redirect without it."""
    game = _game_or_404(game_id)
    if not game.is_active:
        message = "This game is inactive; reactivate it to generate slots."
        if wants_json():
            return error_response(409, "game_inactive", message)
        flash(message, "error")
        return redirect(url_for("admin.games"))
    job_id = start_generation(game, now=now())
    if wants_json():
        return jsonify(job_status(job_id)), 202
    return redirect(url_for("admin.progress", game_id=game.id, job=job_id))


@bp.get("/jobs/<job_id>")
def job(job_id: str):
    """Answer a generation job's progress as JSON."""
    found = job_status(job_id)
    if found is None:
        return error_response(404, "job_not_found", "No such job (or it expired).")
    return jsonify(found)


@bp.get("/runs")
def runs():
    """List the latest maintenance runs."""
    return render_template("admin/runs.html", runs=recent_runs(db.session, limit=100))


@bp.context_processor
def _zone_names():
    return {"zones": zone_names(), "booking_modes": BOOKING_MODES, "price_per_choices": PRICE_PER, "zone_info": ZoneInfo,
            "change_words": CHANGE_WORDS}


bp.add_app_template_filter(error_line, "error_line")


@bp.app_template_filter("audit_values")
def audit_values(values) -> str:
    """An audit row's before or after values as "name: value" pairs."""
    if not values:
        return ""
    return "; ".join(f"{name}: {'—' if value in ('', None) else value}" for name, value in values.items())


@bp.app_template_filter("staff_local_time")
def staff_local_time(instant, zone: str, fmt: str = "%a %Y-%m-%d %H:%M") -> str:
    """An instant on a game's local clock, for staff pages."""
    try:
        return instant.astimezone(ZoneInfo(zone)).strftime(fmt)
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return instant.strftime(fmt + " UTC")
