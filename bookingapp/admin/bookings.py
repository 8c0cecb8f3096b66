"""Staff views of bookings: the day sheet, the look-up, one booking and its changes, the audit log."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bookingapp.admin import bp
from bookingapp.admin.forms import ActionForm
from bookingapp.admin.links import LinkPattern
from bookingapp.core.window import parse_date
from bookingapp.errors import DomainError
from bookingapp.extensions import db, now
from bookingapp.services import audit
from bookingapp.services.audit import Actor, AuditFilter
from bookingapp.services.booking_changes import cancel_as_staff, set_attendance, set_note
from bookingapp.admin.routes import staff_local_time
from bookingapp.csv_download import csv_response, export_range
from bookingapp.services.export import ExportQuery
from bookingapp.models import BookingSource
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.bookings import book_slot
from bookingapp.services.daysheet import (
    SheetQuery, all_games, day_sheet, find_booking, list_games, move_targets, search_bookings, slot_bookings,
)
from bookingapp.services.moves import MoveRequest, move_booking
from bookingapp.services.slot_admin import get_slot, set_slot_blocked, set_slot_capacity

SEARCH_PAGE = 50
AUDIT_PAGE = 100


def _actor() -> Actor:
    return Actor.user(current_user)


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw[:6]) <= 100_000:
        abort(400, "page must be a whole number from 1")
    return int(raw)


def _day_arg(name: str = "date"):
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        return parse_date(raw)
    except ValueError as exc:
        abort(400, f"date {exc}")


@bp.get("/bookings")
def day_sheet_page():
    """Every slot of one local day, game by game, with its bookings."""
    query = SheetQuery(_day_arg(), request.args.get("game") or None, _page_arg())
    sheet = day_sheet(db.session, query, now())
    day = query.day or (sheet[0].day if sheet else None)
    return render_template(
        "admin/day_sheet.html", sheet=sheet, query=query, day=day, one_day=timedelta(days=1),
        links=_sheet_links(), games_per_page=50, now=now(),
    )


def _sheet_links() -> dict[str, LinkPattern]:
    """The day sheet's per-row links, each asked of the router once a page."""
    return {
        "slot": LinkPattern.of("admin.slot_page", "slot_id", int),
        "booking": LinkPattern.of("admin.booking_page", "reference"),
        "attendance": LinkPattern.of("admin.attendance_page", "reference"),
    }


@bp.get("/bookings.csv")
def bookings_csv():
    """Download the bookings of local dates ``from..to`` (and one game by slug) as CSV, streamed."""
    first, last = export_range(now())
    slug = request.args.get("game")
    game = next((g for g in all_games(db.session) if g.slug == slug), None) if slug else None
    if slug and game is None:
        abort(404, "no game with that slug")
    return csv_response(ExportQuery(first, last, game.id if game else None))


@bp.get("/bookings/search")
def search_page():
    """Find bookings by reference, or part of an email, name or phone, newest first."""
    q, page = request.args.get("q", ""), _page_arg()
    found = search_bookings(db.session, q, limit=SEARCH_PAGE + 1, offset=(page - 1) * SEARCH_PAGE)
    return render_template(
        "admin/booking_search.html", q=q, page=page, bookings=found[:SEARCH_PAGE], more=len(found) > SEARCH_PAGE,
    )


@bp.get("/bookings/<reference>")
def booking_page(reference: str):
    """A booking's details, its history and what staff can do with it (move: pick a game and day)."""
    booking, at = find_booking(db.session, reference), now()
    game = _move_game(booking)
    day = _day_arg("move_date") or booking.slot.starts_at.astimezone(ZoneInfo(game.timezone)).date()
    return render_template(
        "admin/booking.html", booking=booking, history=audit.history(db.session, "booking", booking.reference),
        action_form=ActionForm(), now=at, move_game=game, move_day=day, games=list_games(db.session),
        targets=move_targets(db.session, game, day, at), one_day=timedelta(days=1),
    )


def _move_game(booking):
    slug = request.args.get("move_game")
    if not slug:
        return booking.slot.game
    game = next((g for g in list_games(db.session) if g.slug == slug), None)
    if game is None:
        abort(404, "no active game with that slug")
    return game


@bp.post("/bookings/<reference>/move")
def move_page(reference: str):
    """Move the booking to the chosen slot (any active game's)."""
    if ActionForm().validate_on_submit():
        slot_id = request.form.get("slot_id", "")
        chosen = int(slot_id) if slot_id.isascii() and slot_id.isdigit() and len(slot_id) < 19 else slot_id
        booking = move_booking(db.session, MoveRequest(reference, chosen, actor=_actor()), now())
        game = booking.slot.game
        flash(f"Moved to {game.name}, {staff_local_time(booking.slot.starts_at, game.timezone)}.", "info")
    return redirect(url_for("admin.booking_page", reference=reference))


@bp.get("/slots/<int:slot_id>")
def slot_page(slot_id: int):
    """One slot: its bookings, a phone or walk-in booking, block or unblock, capacity, history."""
    slot = get_slot(db.session, slot_id)
    return render_template(
        "admin/slot.html", slot=slot, game=slot.game, bookings=sorted(slot_bookings(db.session, slot.id), key=lambda b: b.id),
        history=audit.history(db.session, "slot", str(slot.id)), action_form=ActionForm(), now=now(),
    )


@bp.post("/slots/<int:slot_id>/bookings")
def staff_booking_page(slot_id: int):
    """Take a phone or walk-in booking in this slot."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.slot_page", slot_id=slot_id))
    form = request.form
    request_ = BookingRequest(
        slot_id, form.get("name"), form.get("email"), _whole(form.get("party_size")),
        phone=form.get("phone"), note=form.get("note"), source=BookingSource.STAFF,
    )
    made = book_slot(db.session, request_, now(), actor=_actor())
    flash(f"Booked {made.booking.customer_name}: reference {made.booking.reference}.", "info")
    return redirect(url_for("admin.booking_page", reference=made.booking.reference))


@bp.post("/slots/<int:slot_id>/block")
def block_page(slot_id: int):
    """Block the slot (with a reason) or unblock it."""
    if ActionForm().validate_on_submit():
        blocked = request.form.get("blocked") == "1"
        set_slot_blocked(db.session, slot_id, blocked, request.form.get("reason"), _actor(), now())
        flash("Slot blocked: no new bookings." if blocked else "Slot unblocked.", "info")
    return redirect(url_for("admin.slot_page", slot_id=slot_id))


@bp.post("/slots/<int:slot_id>/capacity")
def capacity_page(slot_id: int):
    """Set this slot's capacity (never below the seats booked)."""
    if ActionForm().validate_on_submit():
        slot = set_slot_capacity(db.session, slot_id, _whole(request.form.get("capacity")), _actor(), now())
        flash(f"Capacity set to {slot.capacity}.", "info")
    return redirect(url_for("admin.slot_page", slot_id=slot_id))


def _whole(raw: str | None):
    """A form's whole number as an int; anything else as given, for the service to refuse by name."""
    text = (raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else text


@bp.get("/bookings/<reference>/cancel")
def confirm_cancel(reference: str):
    """Ask before cancelling."""
    booking = find_booking(db.session, reference)
    return render_template("admin/booking_cancel.html", booking=booking, action_form=ActionForm())


@bp.post("/bookings/<reference>/cancel")
def cancel_booking_page(reference: str):
    """Cancel the booking for the venue and free its seats."""
    if ActionForm().validate_on_submit():
        booking = cancel_as_staff(db.session, reference, _actor(), now())
        flash(f"Booking {booking.reference} is cancelled; its seats are free again.", "info")
    return redirect(url_for("admin.booking_page", reference=reference))


@bp.post("/bookings/<reference>/attendance")
def attendance_page(reference: str):
    """Mark the party arrived, a no-show, or expected again."""
    if ActionForm().validate_on_submit():
        booking = set_attendance(db.session, reference, request.form.get("status"), _actor(), now())
        flash(f"{booking.customer_name}: {booking.attendance.value.replace('_', '-')}.", "info")
        if request.form.get("back") == "sheet":
            return redirect(_sheet_url(booking))
    return redirect(url_for("admin.booking_page", reference=reference))


def _sheet_url(booking) -> str:
    game = booking.slot.game
    day = booking.slot.starts_at.astimezone(ZoneInfo(game.timezone)).date()
    return url_for("admin.day_sheet_page", date=day.isoformat(), game=game.slug) + f"#b-{booking.reference}"


@bp.post("/bookings/<reference>/note")
def note_page(reference: str):
    """Replace the booking's staff note."""
    if ActionForm().validate_on_submit():
        set_note(db.session, reference, request.form.get("note", ""), _actor(), now())
        flash("Note saved.", "info")
    return redirect(url_for("admin.booking_page", reference=reference))


@bp.get("/audit")
def audit_page():
    """Staff writes, newest first, filtered by target and actor."""
    where = AuditFilter(
        request.args.get("target_type") or None, request.args.get("target_id") or None, request.args.get("actor") or None,
    )
    before = request.args.get("before", "")
    before_id = int(before) if before.isascii() and before.isdigit() and len(before) < 19 else None
    events = audit.list_events(db.session, where, limit=AUDIT_PAGE, before_id=before_id)
    return render_template("admin/audit.html", events=events, where=where, page_size=AUDIT_PAGE)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    """A refused staff change: say why on the page it came from (or a plain page)."""
    db.session.rollback()
    status = exc.status if exc.status in (403, 404, 409, 422) else 400
    return render_template("admin/problem.html", exc=exc), status
