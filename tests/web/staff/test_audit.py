"""Every staff write leaves exactly one audit row, with who, what and the values before and after."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from bookingapp.extensions import db
from bookingapp.models import AuditEvent, Booking, Game, Slot
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.bookings import book_slot

from tests.booking_helpers import fill, slot_at
from tests.staff_helpers import post_form
from tests.web.staff.test_staff_games import VALID


def _events():
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


def test_game_create_edit_and_deactivate_from_the_pages_each_leave_one_row(staff_client):
    post_form(staff_client, "/admin/games/new", VALID)
    game = db.session.scalar(select(Game))
    edit = f"/admin/games/{game.id}/edit"
    post_form(staff_client, edit, {**VALID, "name": "Dragon's Den", "action": "save"})
    post_form(staff_client, edit, {**VALID, "name": "Never saved", "action": "preview"})  # a preview writes nothing
    post_form(staff_client, "/admin/", {"active": "0"}, url=f"/admin/games/{game.id}/active")
    events = _events()
    assert [(e.action, e.actor, e.target_id) for e in events] == [
        ("game.create", "alice", str(game.id)), ("game.edit", "alice", str(game.id)), ("game.deactivate", "alice", str(game.id)),
    ]
    assert events[1].before["name"] == "Dragon's Lair" and events[1].after["name"] == "Dragon's Den"
    assert "capacity" not in events[1].after  # only what changed
    assert events[2].after == {"is_active": False}


def test_an_edit_that_fails_validation_leaves_no_row(staff_client, make_game):
    game = make_game()
    post_form(staff_client, f"/admin/games/{game.id}/edit", {**VALID, "capacity": "0", "action": "save"})
    assert _events() == []


def test_api_writes_are_recorded_under_the_tokens_name(api, make_game):
    created = api.post("/api/games", {"name": "Vault", "timezone": "Europe/London", "slot_minutes": 60, "capacity": 4})
    assert created.status_code == 201
    api.patch(f"/api/games/{created.get_json()['id']}", {"capacity": 6})
    api.patch(f"/api/games/{created.get_json()['id']}?dry_run=1", {"capacity": 8})
    events = _events()
    assert [(e.action, e.actor, e.actor_kind) for e in events] == [("game.create", "tests", "token"), ("game.edit", "tests", "token")]
    assert events[1].before == {"capacity": 4} and events[1].after == {"capacity": 6}


# --- every staff write on bookings and slots, from the pages --------------------------------------

TEN = datetime(2027, 1, 13, 10, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


@pytest.fixture
def day(staff_client, clock, make_game):
    """A game's day: Ada's booking of 2 at 10:00 (capacity 4), a free 11:00 and noon."""
    game = make_game(capacity=4)
    fill(game, clock)
    ten, eleven, noon = (slot_at(game, TEN + n * HOUR) for n in range(3))
    made = book_slot(db.session, BookingRequest(ten.id, "Ada Lovelace", "ada@example.com", 2), clock.now()).booking
    return {"ref": made.reference, "booking": f"/admin/bookings/{made.reference}",
            "ten": ten.id, "eleven": eleven.id, "noon": noon.id}


def _post(client, url, data):
    return post_form(client, "/admin/bookings", data, url=url)


# (action, target type, what to post, what it changes): in an order each can follow the one before.
WRITES = [
    ("booking.create", "booking", lambda c, d: _post(c, f"/admin/slots/{d['noon']}/bookings",
                                                        {"name": "Walk In", "phone": "555 0100", "party_size": "1"}),
     lambda d: _slot(d["noon"]).booked),
    ("booking.attendance", "booking", lambda c, d: _post(c, d["booking"] + "/attendance", {"status": "arrived"}),
     lambda d: _booking(d).attendance.value),
    ("booking.note", "booking", lambda c, d: _post(c, d["booking"] + "/note", {"note": "Birthday"}),
     lambda d: _booking(d).note),
    ("booking.move", "booking", lambda c, d: _post(c, d["booking"] + "/move", {"slot_id": str(d["eleven"])}),
     lambda d: (_booking(d).slot_id, _slot(d["ten"]).booked, _slot(d["eleven"]).booked)),
    ("slot.block", "slot", lambda c, d: _post(c, f"/admin/slots/{d['ten']}/block", {"blocked": "1", "reason": "Leak"}),
     lambda d: _slot(d["ten"]).blocked),
    ("slot.unblock", "slot", lambda c, d: _post(c, f"/admin/slots/{d['ten']}/block", {"blocked": "0"}),
     lambda d: _slot(d["ten"]).blocked),
    ("slot.capacity", "slot", lambda c, d: _post(c, f"/admin/slots/{d['ten']}/capacity", {"capacity": "6"}),
     lambda d: _slot(d["ten"]).capacity),
    ("booking.cancel", "booking", lambda c, d: _post(c, d["booking"] + "/cancel", {}),
     lambda d: (_booking(d).status.value, _slot(d["eleven"]).booked)),
]


def _slot(slot_id):
    db.session.expire_all()
    return db.session.get(Slot, slot_id)


def _booking(d):
    db.session.expire_all()
    return db.session.scalars(select(Booking).where(Booking.reference == d["ref"])).one()


def test_each_staff_write_on_bookings_and_slots_leaves_exactly_one_audit_row(staff_client, day):
    for action, target_type, write, state in WRITES:
        before, seen = state(day), len(_events())
        response = write(staff_client, day)
        assert response.status_code == 302, (action, response.status_code)
        assert state(day) != before, action
        new = _events()[seen:]
        assert [(e.action, e.target_type, e.actor) for e in new] == [(action, target_type, "alice")], action
        target = str(day["ten"]) if target_type == "slot" else day["ref"]
        if action == "booking.create":
            target = db.session.scalars(select(Booking.reference).where(Booking.customer_name == "Walk In")).one()
        assert new[0].target_id == target, action


def test_a_refused_staff_write_changes_nothing_and_leaves_no_audit_row(staff_client, day, clock):
    full = day["eleven"]
    book_slot(db.session, BookingRequest(full, "Grace Hopper", "grace@example.com", 4), clock.now())
    refused = [
        (f"/admin/slots/{day['ten']}/capacity", {"capacity": "1"}),  # below the 2 seats booked
        (day["booking"] + "/move", {"slot_id": str(full)}),  # a full slot
        (day["booking"] + "/move", {"slot_id": "not a slot"}),
        (f"/admin/slots/{day['noon']}/bookings", {"name": "Big Party", "party_size": "5"}),  # over capacity
        (f"/admin/slots/{day['noon']}/bookings", {"name": "", "party_size": "1"}),
        (f"/admin/slots/{day['ten']}/block", {"blocked": "1", "reason": "x" * 201}),
        (day["booking"] + "/attendance", {"status": "late"}),
        (day["booking"] + "/note", {"note": "x" * 2001}),
    ]
    for url, data in refused:
        response = _post(staff_client, url, data)
        assert 400 <= response.status_code < 500, (url, data, response.status_code)
    assert _events() == []
    booking = _booking(day)
    assert (booking.slot_id, booking.attendance.value, booking.note) == (day["ten"], "expected", "")
    slots = [_slot(day[name]) for name in ("ten", "eleven", "noon")]
    assert [(s.booked, s.capacity, s.blocked) for s in slots] == [(2, 4, False), (4, 4, False), (0, 4, False)]
    # The same state again is no change: unblocking an open slot records nothing.
    assert _post(staff_client, f"/admin/slots/{day['ten']}/block", {"blocked": "0"}).status_code == 302
    assert _events() == []


@pytest.fixture
def audit_insert_fails(app):
    """Every INSERT into audit_events fails in the database (a trigger), for as long as the test runs."""
    db.session.execute(text(
        "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no audit'; END $$"
    ))
    db.session.execute(text(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
    ))
    db.session.commit()
    yield
    db.session.rollback()
    db.session.execute(text("DROP TRIGGER refuse_audit ON audit_events"))
    db.session.execute(text("DROP FUNCTION refuse_audit()"))
    db.session.commit()


def test_a_write_whose_audit_row_cannot_be_written_is_not_written_either(staff_client, day, audit_insert_fails):
    # One transaction: when the audit row fails, the change it records is rolled back with it.
    for action, _, write, state in WRITES:
        if action == "slot.unblock":  # the block before it was not written: block the slot directly
            db.session.execute(update(Slot).where(Slot.id == day["ten"]).values(blocked=True))
            db.session.commit()
        before = state(day)
        try:
            status = write(staff_client, day).status_code
        except DBAPIError:
            status = 500
        db.session.rollback()
        assert status >= 500, action
        assert state(day) == before, action
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
