"""The look-up's trigram indexes (migration 0009_lookup_index) on PostgreSQL: used by the
look-up's own query, and a database that may not create pg_trgm still migrates."""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import psycopg
from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, select, text

from bookingapp import create_app
from bookingapp.core.tokens import hash_token, new_reference
from bookingapp.extensions import db
from bookingapp.models import Booking, Slot
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.bookings import book_slot
from bookingapp.services.daysheet import search_bookings, search_statement

from tests.booking_helpers import fill
from tests.conftest import MIGRATIONS, PG_ADMIN_URL, settings_for

INDEXES = {"ix_bookings_email_trgm", "ix_bookings_customer_name_trgm", "ix_bookings_phone_trgm"}


def _plan(q: str) -> str:
    compiled = search_statement(q, limit=51, offset=0).compile(dialect=db.engine.dialect,
                                                                compile_kwargs={"literal_binds": True})
    return "\n".join(db.session.execute(text(f"EXPLAIN {compiled}")).scalars())


def test_the_look_up_reads_the_trigram_indexes_not_every_booking(app, clock, make_game):
    game = make_game()
    fill(game, clock)
    slot_ids = db.session.scalars(select(Slot.id)).all()
    rows = [{
        "reference": new_reference(), "slot_id": slot_ids[n % len(slot_ids)], "customer_name": f"Guest {n} Hopper",
        "email": f"guest.{n}@example.com", "phone": f"+44 7700 {n:06d}", "party_size": 1, "status": "confirmed",
        "cancel_token_hash": hash_token("x"), "created_at": clock.now() - timedelta(seconds=n),
    } for n in range(20_000)]
    db.session.execute(insert(Booking.__table__), rows)
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE bookings"))  # what autovacuum does: fresh rows out of GIN's pending list
    assert "ix_bookings_email_trgm" in _plan("GUEST.4321@")
    assert "ix_bookings_phone_trgm" in _plan("004321")
    assert "ix_bookings_customer_name_trgm" in _plan("guest 4321 ")
    # The index changes how rows are found, not which or in what order.
    found = [b.email for b in search_bookings(db.session, "GUEST.432")]
    assert found == [f"guest.{n}@example.com" for n in (432, *range(4320, 4330))]  # newest first


def test_a_database_that_may_not_create_pg_trgm_still_migrates_and_looks_up(clock, make_game):
    name, role = f"bookingapp_test_{uuid.uuid4().hex[:10]}", f"bookingapp_desk_{uuid.uuid4().hex[:8]}"
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')  # no superuser, no CREATE on the database: no extensions
        conn.execute(f'CREATE DATABASE "{name}"')
    warnings: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warnings.append(record.getMessage())
    migration_log = logging.getLogger("bookingapp.migrations")
    migration_log.addHandler(handler)
    try:
        with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
            conn.execute(f'GRANT USAGE, CREATE ON SCHEMA public TO "{role}"')
        url = base.replace("postgresql://", "postgresql+psycopg://", 1).replace("//postgres@", f"//{role}@", 1)
        app = create_app(settings_for(f"{url}/{name}", f"migrate-{role}"), clock=clock)
        with app.app_context():
            upgrade(directory=MIGRATIONS)
            assert any("stays a scan" in w for w in warnings), warnings
            assert not INDEXES & _trigram_indexes()
            game = make_game()
            fill(game, clock)
            slot_id = db.session.scalars(select(Slot.id)).first()
            made = book_slot(db.session, BookingRequest(slot_id, "Ada Lovelace", "ada@example.com", 1), clock.now())
            assert [b.reference for b in search_bookings(db.session, "LOVELACE")] == [made.booking.reference]
            db.session.remove()

            # Once someone allowed to creates the extension, running the migration again adds the indexes.
            with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
                conn.execute("CREATE EXTENSION pg_trgm")
            downgrade(directory=MIGRATIONS, revision="0008_webhooks")
            upgrade(directory=MIGRATIONS)
            assert INDEXES <= _trigram_indexes()
            assert [b.reference for b in search_bookings(db.session, "LOVELACE")] == [made.booking.reference]
            db.session.remove()
            db.engine.dispose()
    finally:
        migration_log.removeHandler(handler)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def _trigram_indexes() -> set[str]:
    return set(db.session.scalars(text("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%'")))
