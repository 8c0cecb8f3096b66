"""Customer pages: choose a game, book a slot, see or cancel the booking."""
from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from bookingapp.core.window import local_today
from bookingapp.errors import BadCancelToken, DomainError, SlotClosed, SlotFull, SlotNotFound, page_errors
from bookingapp.extensions import db, now, set_referrer_policy
from bookingapp.services import bookings as service
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.moves import MoveRequest, move_booking
from bookingapp.services.catalog import get_active_game, list_active_games, next_free_starts
from bookingapp.services.checks import check_game_window
from bookingapp.ratelimit import limit_booking_writes, limit_lookups
from bookingapp.site import bp
from bookingapp.site.calendar import booking_ics
from bookingapp.site.forms import BookingForm, CancelForm, MoveForm


@bp.get("/")
def index():
    """List the active games with their next free slot."""
    games = list_active_games(db.session)
    next_starts = next_free_starts(db.session, games, now())
    return render_template("booking/index.html", games=games, next_starts=next_starts)


@bp.route("/games/<slug>", methods=["GET", "POST"])
@limit_booking_writes
def game(slug: str):
    """Show a game's window day by day and take bookings."""
    game = get_active_game(db.session, slug=slug)
    check_game_window(game)
    at = now()  # one instant for the whole page, so "today" and the listed days agree
    form, alternatives = BookingForm(), []
    if form.validate_on_submit():
        try:
            request_ = BookingRequest(form.slot_id.data, form.name.data, form.email.data, form.party_size.data)
            made = service.book_slot(db.session, request_, at, game_id=game.id)
        except DomainError as exc:
            form.show_error(exc)
            if isinstance(exc, SlotFull):
                alternatives = service.next_free_slots(db.session, game, at, party_size=form.party_size.data)
        else:
            flash("You're booked. Keep this page's address: you need it to cancel.", "success")
            return redirect(url_for(".booking", reference=made.booking.reference, token=made.cancel_token))
    return render_template(
        "booking/game.html", game=game, form=form, alternatives=alternatives,
        days=service.bookable_window(db.session, game, at, current_app.config["SLOTS_DAYS_TO_MAINTAIN"]),
        today=local_today(at, game.timezone),
    ), (422 if form.errors else 200)


@bp.get("/bookings/<reference>")
@limit_lookups
def booking(reference: str):
    """Show a booking to whoever has the link with its token."""
    found, at = service.get_booking(db.session, reference, request.args.get("token")), now()
    form = CancelForm(token=request.args.get("token"))
    page = render_template(
        "booking/booking.html", booking=found, form=form, now=at, deadline=service.customer_change_deadline(found),
        move_days=_move_choices(found, at),
    )
    return _private(Response(page))


def _move_choices(booking, at):
    """The days of the booking's game with slots its party could move to (none once the cut-off has passed)."""
    game = booking.slot.game
    if booking.is_cancelled or not game.is_active or service.customer_change_deadline(booking) <= at:
        return []
    days = service.bookable_window(db.session, game, at, current_app.config["SLOTS_DAYS_TO_MAINTAIN"])
    return [
        (day.day, [o for o in day.slots if o.available >= booking.party_size and o.id != booking.slot_id])
        for day in days
    ]


@bp.post("/bookings/<reference>/move")
@limit_booking_writes
def move(reference: str):
    """Move a booking to another time of the same game, from its page."""
    form = MoveForm()
    if not form.token.data or not form.validate_on_submit():
        if not form.token.data or "csrf_token" in form.errors:
            raise BadCancelToken("This form has expired or lacks the booking's token; open your booking link again.")
        flash("Choose a new time from the list.", "error")
        return redirect(url_for(".booking", reference=reference, token=form.token.data))
    try:
        move_booking(db.session, MoveRequest(reference, form.slot_id.data, token=form.token.data), now())
        flash("Your booking has moved to its new time.", "success")
    except (SlotClosed, SlotFull, SlotNotFound) as exc:
        flash(exc.message, "error")
    return redirect(url_for(".booking", reference=reference, token=form.token.data))


@bp.post("/bookings/<reference>/cancel")
@limit_booking_writes
def cancel(reference: str):
    """Cancel a booking from its page; cancelling twice is harmless."""
    form = CancelForm()
    if not form.validate_on_submit():
        raise BadCancelToken("This form has expired or lacks the booking's token; open your booking link again.")
    try:
        service.cancel_booking(db.session, reference, form.token.data, now())
        flash("Your booking is cancelled and the seats are free again.", "success")
    except SlotClosed as exc:
        flash(exc.message, "error")
    return redirect(url_for(".booking", reference=reference, token=form.token.data))


@bp.get("/bookings/<reference>/calendar.ics")
@limit_lookups
def calendar(reference: str):
    """Download the booking as an iCalendar event."""
    found = service.get_booking(db.session, reference, request.args.get("token"))
    response = Response(booking_ics(found, now()), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="booking-{found.reference}.ics"'
    return _private(response)


def _private(response: Response) -> Response:
    # The address carries the cancel token: keep it out of caches and Referer headers.
    response.headers["Cache-Control"] = "no-store"
    set_referrer_policy("no-referrer")
    return response


@bp.errorhandler(CSRFError)
def _expired_form(exc: CSRFError):
    title = "This form has expired. Go back, reload the page and try again."
    return render_template("booking/message.html", title=title, status=400), 400


def _message_page(title: str, status: int) -> str:
    return render_template("booking/message.html", title=title, status=status)


page_errors(bp, _message_page)
