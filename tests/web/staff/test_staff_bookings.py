"""Staff booking pages: the day sheet, the look-up, a booking's page, cancel, attendance, note, audit."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from bookingapp.extensions import db
from bookingapp.models import AuditEvent, Booking, BookingSource, Slot, StaffRole
from bookingapp.services import bookings as service
from bookingapp.services.booking_input import BookingRequest

from tests.booking_helpers import fill, slot_at
from tests.staff_helpers import csrf_from, post_form

UTC = timezone.utc
TEN = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)


def _book(slot, clock, name="Ada Lovelace", email="ada@example.com", party=1, **extra):
    return service.book_slot(db.session, BookingRequest(slot.id, name, email, party, **extra), clock.now()).booking


def _audit_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def _page(client, url):
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


def test_day_sheet_lists_each_slot_with_its_bookings_and_marks(staff_client, clock, make_game):
    game = make_game(name="Crypt", slug="crypt")
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock, party=2, phone="+44 20 7946 0000")
    blocked = slot_at(game, TEN + timedelta(hours=1))
    blocked.blocked, blocked.block_reason = True, "Broken lock"
    db.session.commit()
    status, html = _page(staff_client, "/admin/bookings?date=2027-01-13&game=crypt")
    assert status == 200
    assert "Crypt" in html and made.reference in html and "Ada Lovelace" in html and "+44 20 7946 0000" in html
    assert "2/4 seats taken" in html and "blocked: Broken lock" in html
    assert "date=2027-01-12" in html and "date=2027-01-14" in html  # previous and next day


def test_day_sheet_has_one_csrf_token_unique_ids_and_working_attendance_buttons(staff_client, clock, make_game):
    game = make_game(name="Crypt", slug="crypt")
    fill(game, clock)
    ada, bob = _book(slot_at(game, TEN), clock), _book(slot_at(game, TEN), clock, name="Bob Byte", email="bob@example.com")
    gone = _book(slot_at(game, TEN + timedelta(hours=1)), clock, name="Cy Cancelled", email="cy@example.com")
    assert service.cancel_once(db.session, gone, clock.now())
    db.session.commit()
    sheet = "/admin/bookings?date=2027-01-13&game=crypt"
    _, html = _page(staff_client, sheet)
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert html.count('name="csrf_token"') == 2  # the sheet's one form, and logging out
    assert 'id="sheet-actions"' in html and "10:00–11:00" in html and "11:00–12:00" in html
    for made in (ada, bob):
        assert f'formaction="/admin/bookings/{made.reference}/attendance" name="status" value="arrived"' in html
    assert f"/admin/bookings/{gone.reference}/attendance" not in html  # nothing to mark on a cancelled booking

    # What the browser sends for bob's "Arrived": the shared form's fields, to the button's address.
    response = post_form(staff_client, sheet, {"back": "sheet", "status": "arrived"},
                         url=f"/admin/bookings/{bob.reference}/attendance")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"game=crypt#b-{bob.reference}")
    db.session.expire_all()
    assert db.session.get(Booking, bob.id).attendance.value == "arrived"
    assert db.session.get(Booking, ada.id).attendance.value == "expected"
    _, html = _page(staff_client, sheet)
    assert f'formaction="/admin/bookings/{bob.reference}/attendance" name="status" value="arrived"' not in html
    assert f'formaction="/admin/bookings/{bob.reference}/attendance" name="status" value="no_show"' in html


def test_day_sheet_defaults_to_each_games_own_today(staff_client, clock, make_game):
    # 09:30 UTC on the 13th is still the 12th in Honolulu.
    make_game(name="Hawaii", timezone="Pacific/Honolulu")
    make_game(name="London", timezone="Europe/London")
    _, html = _page(staff_client, "/admin/bookings")
    assert "2027-01-12 · Pacific/Honolulu" in html and "2027-01-13 · Europe/London" in html


def test_day_sheet_refuses_a_bad_date(staff_client):
    status, _ = _page(staff_client, "/admin/bookings?date=2027-13-45")
    assert status == 400


def test_day_sheet_needs_a_login(client):
    assert client.get("/admin/bookings").status_code == 302


def test_look_up_by_reference_or_part_of_email_name_or_phone_newest_first(staff_client, clock, make_game):
    game = make_game()
    fill(game, clock)
    first = _book(slot_at(game, TEN), clock, name="Grace Hopper", email="grace@navy.example", phone="555 0101")
    clock.advance(timedelta(minutes=1))
    second = _book(slot_at(game, TEN), clock, name="Grace Kelly", email="kelly@example.com")
    _, html = _page(staff_client, "/admin/bookings/search?q=GRACE")
    assert html.index(second.reference) < html.index(first.reference)
    _, html = _page(staff_client, "/admin/bookings/search?q=NAVY.EX")
    assert first.reference in html and second.reference not in html
    _, html = _page(staff_client, "/admin/bookings/search?q=0101")
    assert first.reference in html and second.reference not in html
    _, html = _page(staff_client, f"/admin/bookings/search?q={second.reference.lower()}")
    assert second.reference in html and first.reference not in html
    _, html = _page(staff_client, "/admin/bookings/search?q=%25")  # a literal %, not a wildcard
    assert first.reference not in html


def test_look_up_pages_through_many_matches(staff_client, clock, make_game):
    game = make_game(capacity=100)
    fill(game, clock)
    for n in range(55):
        _book(slot_at(game, TEN), clock, name=f"Guest {n}", email=f"g{n}@example.com")
        clock.advance(timedelta(seconds=1))
    _, html = _page(staff_client, "/admin/bookings/search?q=guest")
    assert "Guest 54" in html and "Guest 4<" not in html and "page=2" in html
    _, html = _page(staff_client, "/admin/bookings/search?q=guest&page=2")
    assert "Guest 4<" in html and "Guest 54" not in html


def test_cancel_asks_first_then_frees_the_seats_once(staff_client, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock, party=3)
    status, html = _page(staff_client, f"/admin/bookings/{made.reference}/cancel")
    assert status == 200 and "Yes, cancel it" in html
    assert slot_at(game, TEN).booked == 3  # asking changes nothing
    url = f"/admin/bookings/{made.reference}/cancel"
    assert post_form(staff_client, url, {}).status_code == 302
    assert post_form(staff_client, f"/admin/bookings/{made.reference}", {}, url=url).status_code == 302
    assert slot_at(game, TEN).booked == 0
    assert db.session.get(Booking, made.id).status.value == "cancelled"
    assert _audit_rows() == 1  # the second cancel changed nothing and recorded nothing


def test_cancel_without_csrf_changes_nothing(staff_client, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock)
    staff_client.post(f"/admin/bookings/{made.reference}/cancel", data={})
    assert slot_at(game, TEN).booked == 1 and _audit_rows() == 0


def test_attendance_and_note_are_saved_and_each_leaves_one_audit_row(staff_client, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock)
    page = f"/admin/bookings/{made.reference}"
    post_form(staff_client, page, {"status": "arrived"}, url=page + "/attendance")
    post_form(staff_client, page, {"note": "Birthday, bring candles"}, url=page + "/note")
    db.session.expire_all()
    booking = db.session.get(Booking, made.id)
    assert booking.attendance.value == "arrived" and booking.note == "Birthday, bring candles"
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor, e.actor_kind) for e in events] == [
        ("booking.attendance", "alice", "user"), ("booking.note", "alice", "user"),
    ]
    assert events[0].before == {"attendance": "expected"} and events[0].after == {"attendance": "arrived"}
    _, html = _page(staff_client, page)
    assert "booking.attendance" in html and "attendance: arrived" in html and "Birthday, bring candles" in html


def test_a_bad_attendance_is_refused_and_changes_nothing(staff_client, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock)
    page = f"/admin/bookings/{made.reference}"
    response = post_form(staff_client, page, {"status": "maybe"}, url=page + "/attendance")
    assert response.status_code == 422 and "expected, arrived, no_show" in response.get_data(as_text=True)
    response = post_form(staff_client, page, {"note": "x" * 2001}, url=page + "/note")
    assert response.status_code == 422
    assert _audit_rows() == 0 and db.session.get(Booking, made.id).attendance.value == "expected"


def test_an_unknown_reference_is_a_404(staff_client):
    assert staff_client.get("/admin/bookings/ZZZZZZZZ").status_code == 404


def test_audit_page_filters_by_target_and_actor(staff_client, clock, make_game):
    game = make_game()
    fill(game, clock)
    one, two = _book(slot_at(game, TEN), clock), _book(slot_at(game, TEN), clock, name="Bob")
    for made in (one, two):
        page = f"/admin/bookings/{made.reference}"
        post_form(staff_client, page, {"status": "arrived"}, url=page + "/attendance")
    _, html = _page(staff_client, f"/admin/audit?target_type=booking&target_id={one.reference}")
    assert one.reference in html and two.reference not in html
    _, html = _page(staff_client, "/admin/audit?actor=alice")
    assert one.reference in html and two.reference in html
    _, html = _page(staff_client, "/admin/audit?actor=nobody")
    assert one.reference not in html and "Nothing recorded" in html


def test_staff_bookings_may_skip_the_email_and_carry_phone_and_note(app, clock, make_game):
    game = make_game(min_notice_minutes=120)
    fill(game, clock)
    request = BookingRequest(slot_at(game, TEN).id, "Walk In", "", 2, phone="07700 900123", note="cash",
                             source=BookingSource.STAFF)
    made = service.book_slot(db.session, request, clock.now()).booking  # inside the notice: staff may
    assert (made.email, made.phone, made.note, made.source.value) == ("", "07700 900123", "cash", "staff")


def test_existing_staff_users_are_admins(staff_user):
    assert db.session.get(type(staff_user), staff_user.id).role is StaffRole.ADMIN


def test_customer_cancel_is_closed_inside_the_cut_off(client, clock, make_game):
    from bookingapp.errors import SlotClosed
    import pytest

    game = make_game(min_notice_minutes=0)
    game.cancel_cutoff_minutes = 60
    db.session.commit()
    fill(game, clock)
    made = service.book_slot(db.session, BookingRequest(slot_at(game, TEN).id, "Ada", "a@example.com", 1), clock.now())
    with pytest.raises(SlotClosed):
        service.cancel_booking(db.session, made.booking.reference, made.cancel_token, clock.now())
    assert slot_at(game, TEN).booked == 1
    later = service.book_slot(
        db.session, BookingRequest(slot_at(game, TEN + timedelta(hours=2)).id, "Ada", "a@example.com", 1), clock.now()
    )
    assert service.cancel_booking(db.session, later.booking.reference, later.cancel_token, clock.now()).is_cancelled


def test_staff_move_a_booking_from_its_page(staff_client, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock, party=2)
    page = f"/admin/bookings/{made.reference}"
    _, html = _page(staff_client, page + "?move_date=2027-01-13")
    target = slot_at(game, TEN + timedelta(hours=2))
    assert f'value="{target.id}"' in html
    response = post_form(staff_client, page, {"slot_id": str(target.id)}, url=page + "/move")
    assert response.status_code == 302
    assert [slot_at(game, TEN).booked, slot_at(game, TEN + timedelta(hours=2)).booked] == [0, 2]
    full = slot_at(game, TEN + timedelta(hours=3))
    _book(full, clock, party=4)
    refused = post_form(staff_client, page, {"slot_id": str(full.id)}, url=page + "/move")
    assert refused.status_code == 409 and "full" in refused.get_data(as_text=True)
    assert _page(staff_client, page + "?move_game=nope")[0] == 404


def test_phone_booking_block_and_capacity_from_the_slot_page(staff_client, clock, make_game):
    game = make_game(min_notice_minutes=60)
    fill(game, clock)
    slot = slot_at(game, TEN)
    page = f"/admin/slots/{slot.id}"
    response = post_form(staff_client, page, {"name": "Caller", "phone": "555 123", "party_size": "2", "email": ""},
                         url=page + "/bookings")
    assert response.status_code == 302  # inside the notice: staff may
    booking = db.session.scalar(select(Booking))
    assert (booking.source, booking.phone, booking.party_size) == (BookingSource.STAFF, "555 123", 2)
    bad = post_form(staff_client, page, {"name": "", "party_size": "lots"}, url=page + "/bookings")
    assert bad.status_code == 422 and "party_size" in bad.get_data(as_text=True)
    post_form(staff_client, page, {"blocked": "1", "reason": "Leak"}, url=page + "/block")
    assert slot_at(game, TEN).blocked and "blocked: Leak" in _page(staff_client, page)[1]
    below = post_form(staff_client, page, {"capacity": "1"}, url=page + "/capacity")
    assert below.status_code == 409
    post_form(staff_client, page, {"capacity": "6"}, url=page + "/capacity")
    assert slot_at(game, TEN).capacity == 6
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["booking.create", "slot.block", "slot.capacity"]


def test_customer_moves_from_the_confirmation_page_and_sees_the_cut_off(app, clock, make_game):
    game = make_game()
    game.cancel_cutoff_minutes = 30
    db.session.commit()
    fill(game, clock)
    made = service.book_slot(db.session, BookingRequest(slot_at(game, TEN + timedelta(hours=1)).id, "Ada", "a@example.com", 1), clock.now())
    client, target = app.test_client(), slot_at(game, TEN + timedelta(hours=3))
    page = f"/bookings/{made.booking.reference}?token={made.cancel_token}"
    html = client.get(page).get_data(as_text=True)
    assert "until" in html and "please call the venue" in html and f'value="{target.id}"' in html
    token = csrf_from(html)
    response = client.post(f"/bookings/{made.booking.reference}/move",
                           data={"csrf_token": token, "token": made.cancel_token, "slot_id": str(target.id)})
    assert response.status_code == 302
    assert slot_at(game, TEN + timedelta(hours=3)).booked == 1
    assert "13:00" in client.get(page).get_data(as_text=True)
