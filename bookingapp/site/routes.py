"""Customer pages: choose a game, book a slot a day at a time, see or cancel the booking."""
from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_wtf.csrf import CSRFError

from bookingapp.core.window import local_today
from bookingapp.errors import BadCancelToken, DomainError, SlotClosed, SlotFull, SlotNotFound, page_errors
from bookingapp.extensions import db, now, set_referrer_policy
from bookingapp.i18n import LANGUAGES, LOCALE_COOKIE, LOCALE_COOKIE_DAYS, safe_next
from bookingapp.services import bookings as service
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.moves import MoveRequest, move_booking
from bookingapp.services.catalog import get_active_game, next_free_starts, search_active_games
from bookingapp.services.checks import check_game_window
from bookingapp.ratelimit import limit_booking_writes, limit_lookups
from bookingapp.site import bp
from bookingapp.site.calendar import booking_ics
from bookingapp.site.display import in_zone
from bookingapp.site.days import chosen_day, chosen_offer, game_day
from bookingapp.paging import page_number
from bookingapp.site.forms import BookingForm, CancelForm, MoveForm, search_text
from bookingapp.site.messages import page_message

GAMES_PER_PAGE = 50


def _default_days() -> int:
    return current_app.config["SLOTS_DAYS_TO_MAINTAIN"]


@bp.get("/")
def index():
    """List the active games a page at a time, by name, optionally those whose name holds ``?q=``."""
    query, page = search_text(request.args.get("q")), page_number(request.args.get("page"))
    found = search_active_games(db.session, query, page=page, per_page=GAMES_PER_PAGE)
    next_starts = next_free_starts(db.session, found.games, now())
    return render_template("booking/index.html", found=found, query=query, next_starts=next_starts)


@bp.route("/games/<slug>", methods=["GET", "POST"])
@limit_booking_writes
def game(slug: str):
    """Show one day of a game's window (today, or ``?date=``) and take bookings."""
    game = get_active_game(db.session, slug=slug)
    check_game_window(game)
    at = now()  # one instant for the whole page, so "today" and the listed day agree
    window = game.window(at, _default_days())
    day = chosen_day(request.args.get("date"), window)
    form, alternatives = BookingForm(), []
    if form.validate_on_submit():
        try:
            made = service.book_slot(db.session, _booking_request(form), at, game_id=game.id)
        except DomainError as exc:
            form.show_error(exc)
            if isinstance(exc, SlotFull):
                alternatives = service.next_free_slots(db.session, game, at, party_size=form.party_size.data)
        else:
            flash(gettext("You're booked. Keep this page's address: you need it to cancel."), "success")
            return redirect(url_for(".booking", reference=made.booking.reference, token=made.cancel_token))
    shown = game_day(db.session, game, day, window, at)
    return render_template(
        "booking/game.html", game=game, form=form, alternatives=alternatives, shown=shown,
        chosen=chosen_offer(shown, form.slot_id.data), today=local_today(at, game.timezone),
    ), (422 if form.errors else 200)


def _booking_request(form: BookingForm) -> BookingRequest:
    return BookingRequest(form.slot_id.data, form.name.data, form.email.data, form.party_size.data,
                          locale=str(get_locale()))


@bp.get("/bookings/<reference>")
@limit_lookups
def booking(reference: str):
    """Show a booking to whoever has the link with its token."""
    found, at = service.get_booking(db.session, reference, request.args.get("token")), now()
    form = CancelForm(token=request.args.get("token"))
    move_day = _move_day(found, at)
    page = render_template(
        "booking/booking.html", booking=found, form=form, now=at, deadline=service.customer_change_deadline(found),
        move_day=move_day, today=local_today(at, found.slot.game.timezone),
    )
    return _private(Response(page))


def _move_day(booking, at):
    """One day of the booking's game to move to (``?date=``, else the booking's own day); None once it cannot move."""
    game = booking.slot.game
    if booking.is_cancelled or not game.is_active or service.customer_change_deadline(booking) <= at:
        return None
    window = game.window(at, _default_days())
    own_day = in_zone(booking.slot.starts_at, game.timezone).date()
    fallback = own_day if window.first <= own_day <= window.last else window.first
    day = chosen_day(request.args.get("date") or fallback.isoformat(), window)
    return game_day(db.session, game, day, window, at)


@bp.get("/bookings/<reference>/cancel")
@limit_lookups
def confirm_cancel(reference: str):
    """Ask the customer to confirm before cancelling (the cancel button's page)."""
    found, at = service.get_booking(db.session, reference, request.args.get("token")), now()
    if found.is_cancelled:
        return redirect(url_for(".booking", reference=found.reference, token=request.args.get("token")))
    page = render_template("booking/cancel.html", booking=found, form=CancelForm(token=request.args.get("token")),
                           now=at, deadline=service.customer_change_deadline(found))
    return _private(Response(page))


@bp.post("/bookings/<reference>/move")
@limit_booking_writes
def move(reference: str):
    """Move a booking to another time of the same game, from its page."""
    form = MoveForm()
    if not form.token.data or not form.validate_on_submit():
        if not form.token.data or "csrf_token" in form.errors:
            raise BadCancelToken(gettext("This form has expired or lacks the booking's token; open your booking link again."))
        flash(gettext("Choose a new time from the list."), "error")
        return redirect(url_for(".booking", reference=reference, token=form.token.data))
    try:
        move_booking(db.session, MoveRequest(reference, form.slot_id.data, token=form.token.data), now())
        flash(gettext("Your booking has moved to its new time."), "success")
    except (SlotClosed, SlotFull, SlotNotFound) as exc:
        flash(page_message(exc.message), "error")
    return redirect(url_for(".booking", reference=reference, token=form.token.data))


@bp.post("/bookings/<reference>/cancel")
@limit_booking_writes
def cancel(reference: str):
    """Cancel a booking (the confirmation page's button); cancelling twice is harmless."""
    form = CancelForm()
    if not form.validate_on_submit():
        raise BadCancelToken(gettext("This form has expired or lacks the booking's token; open your booking link again."))
    try:
        service.cancel_booking(db.session, reference, form.token.data, now())
        flash(gettext("Your booking is cancelled and the seats are free again."), "success")
    except SlotClosed as exc:
        flash(page_message(exc.message), "error")
    return redirect(url_for(".booking", reference=reference, token=form.token.data))


@bp.get("/bookings/<reference>/calendar.ics")
@limit_lookups
def calendar(reference: str):
    """Download the booking as an iCalendar event."""
    token = request.args.get("token")
    found = service.get_booking(db.session, reference, token)
    link = url_for(".booking", reference=found.reference, token=token, _external=True)
    response = Response(booking_ics(found, now(), venue=_venue(), link=link), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="booking-{found.reference}.ics"'
    return _private(response)


@bp.get("/language/<code>")
def language(code: str):
    """Switch the pages' language and remember it in a cookie; back to where the switcher was."""
    response = redirect(safe_next(request.args.get("next")))
    if code in LANGUAGES:
        response.set_cookie(LOCALE_COOKIE, code, max_age=LOCALE_COOKIE_DAYS * 86400, samesite="Lax",
                            secure=current_app.config["PREFERRED_URL_SCHEME"] == "https", httponly=True)
    return response


def _venue() -> dict[str, str]:
    config = current_app.config
    return {name: config[f"VENUE_{name.upper()}"] for name in ("name", "address", "email", "phone")}


@bp.app_context_processor
def _venue_details():
    return {"venue": _venue()}


def _private(response: Response) -> Response:
    # The address carries the cancel token: keep it out of caches and Referer headers.
    response.headers["Cache-Control"] = "no-store"
    set_referrer_policy("no-referrer")
    return response


@bp.errorhandler(CSRFError)
def _expired_form(exc: CSRFError):
    title = gettext("This form has expired. Go back, reload the page and try again.")
    return render_template("booking/message.html", title=title, status=400), 400


def _message_page(title: str, status: int) -> str:
    return render_template("booking/message.html", title=page_message(title), status=status)


page_errors(bp, _message_page)
