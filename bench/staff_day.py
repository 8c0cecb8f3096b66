"""The staff day's speed: the day sheet of a busy day, the look-up, the CSV export.

On a throw-away PostgreSQL database (bench/support.py) built by the migrations:
``--games`` active games (default 1,000) with 14 days of 12 hourly slots each, and
``--bookings`` bookings (default 200,000) spread over those slots, so that the day sheet
of the first 50 games (one page) shows about 600 slots and 700 bookings. In process
(Flask's test client, logged in as staff, CSRF on), so "server time" is the whole WSGI
request without a network:

1. the day sheet ``/admin/bookings?date=…`` (50 games);
2. the look-up ``/admin/bookings/search?q=…`` by part of an email, a name, a phone, and a
   reference; on PostgreSQL with the trigram indexes, and again with them dropped (a scan);
3. the CSV export of about 100,000 bookings (7 of the 14 days): rows per second and how
   far this process's resident memory grows while it streams; then the same export under
   tracemalloc, for the peak of Python's own allocations.

    .venv/bin/python bench/staff_day.py [--rounds 30] [--games 1000] [--bookings 200000] [--profile]

Prints p50 and p95 milliseconds against the targets. ``--profile`` prints where the day
sheet's time goes (cProfile, the 25 most expensive functions by their own time).
"""
from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import re
import secrets
import statistics
import time
import tracemalloc
import uuid
from datetime import date, datetime, timedelta, timezone

from support import migrate, throwaway_database, whole_number  # noqa: I001  (puts the repo on sys.path)

from sqlalchemy import insert, select, text

from bookingapp import create_app
from bookingapp.core.clock import ManualClock
from bookingapp.core.tokens import REFERENCE_ALPHABET, REFERENCE_LENGTH
from bookingapp.extensions import db
from bookingapp.models import Game, Slot
from bookingapp.services.accounts import create_staff_user
from bookingapp.services.generation import PassOptions, ensure_active_games
from config import TestConfig

UTC = timezone.utc
NOW = datetime(2027, 1, 13, 7, 0, tzinfo=UTC)
DAY = date(2027, 1, 14)  # the sheet's day: tomorrow, so every slot is still ahead
DAYS = 14
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = {d: [["10:00", "22:00"]] for d in WEEK}  # twelve hourly slots a day
PASSWORD = "bench password 1234"
FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken",
         "Radia", "Dennis", "Hedy", "Linus", "Karen", "Niklaus", "Sophie", "Tim", "Annie", "Claude")
LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Hamilton", "Thompson",
        "Perlman", "Ritchie", "Lamarr", "Torvalds", "Jones", "Wirth", "Wilson", "Berners", "Easley", "Shannon",
        "Cerf", "Kahn", "Goldberg", "Kay", "Engelbart")
TARGETS = {"sheet": 50.0, "email": 20.0, "rows_per_s": 20_000, "memory_mb": 50.0}
TRIGRAM = re.compile(r"CREATE INDEX (\S+) ON (?:public\.)?bookings USING gin \(.*gin_trgm_ops")
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _settings(url: str) -> dict:
    base = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    return {**base, "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "SLOTS_MAINTENANCE_ENABLED": False}


# --- the data ---------------------------------------------------------------------------------

def seed_games(count: int) -> None:
    """``count`` active games in bulk, each with DAYS days of twelve slots from NOW."""
    now = datetime.now(UTC)
    rows = [{
        "id": uuid.uuid4(), "name": f"Room {n:05d}", "slug": f"room-{n:05d}", "description": "", "timezone": "Europe/London",
        "slot_minutes": 60, "gap_minutes": 0, "capacity": 4, "days_ahead": DAYS, "min_notice_minutes": 0,
        "cancel_cutoff_minutes": 0, "booking_mode": "shared", "min_party": 1, "weekly_hours": HOURS, "closures": [],
        "is_active": True, "created_at": now, "updated_at": now,
    } for n in range(count)]
    for start in range(0, count, 5000):
        db.session.execute(insert(Game.__table__), rows[start:start + 5000])
    db.session.commit()
    ensure_active_games(db.session, now=NOW, options=PassOptions(DAYS))


def customer(n: int) -> tuple[str, str, str]:
    """Booking ``n``'s name, email and phone: 500 distinct names, every email and phone its own."""
    first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
    return f"{first} {last}", f"{first.lower()}.{last.lower()}{n}@example{n % 7}.com", f"+44 7700 {n:06d}"


def seed_bookings(count: int) -> int:
    """``count`` bookings by binary COPY: one in every slot, a second in about one slot in five, then again.

    Every twentieth is cancelled (its seats not counted), every seventh was taken by staff;
    created times fall over the 60 days before NOW. The slots' seats taken are set to match.
    Returns how many bookings the sheet's day holds for its first 50 games.
    """
    slot_ids = db.session.execute(select(Slot.id).order_by(Slot.id)).scalars().all()
    second = [s for j, s in enumerate(slot_ids) if j % 21 < 4]
    order = (slot_ids + second) * (count // (len(slot_ids) + len(second)) + 1)
    token_hash, references = hashlib.sha256(b"bench").hexdigest(), set()
    columns = ("reference", "slot_id", "customer_name", "email", "phone", "note", "source", "attendance", "party_size",
               "status", "cancel_token_hash", "locale", "created_at", "cancelled_at", "amount", "currency")
    connection = db.session.connection().connection.driver_connection
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY bookings ({', '.join(columns)}) FROM STDIN") as copy:
            for n in range(count):
                while (reference := "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))) in references:
                    pass
                references.add(reference)
                name, email, phone = customer(n)
                created = NOW - timedelta(seconds=(n * 7919) % (60 * 86400) + 60)
                cancelled = n % 20 == 19
                copy.write_row((
                    reference, order[n], name, email, phone, "Birthday party" if n % 11 == 0 else "",
                    "staff" if n % 7 == 0 else "online", "arrived" if n % 13 == 0 else "expected", 1 + (n % 3 == 0),
                    "cancelled" if cancelled else "confirmed", token_hash, "en", created,
                    created + timedelta(hours=1) if cancelled else None, 2500, "EUR",
                ))
        cursor.execute(
            "UPDATE slots SET booked = b.seats FROM (SELECT slot_id, sum(party_size) AS seats FROM bookings"
            " WHERE status = 'confirmed' GROUP BY slot_id) b WHERE slots.id = b.slot_id"
        )
    db.session.commit()
    _vacuum()
    return db.session.scalar(text(
        "SELECT count(*) FROM bookings b JOIN slots s ON s.id = b.slot_id JOIN games g ON g.id = s.game_id"
        " WHERE g.slug < 'room-00050' AND s.starts_at >= :lower AND s.starts_at < :upper"
    ), {"lower": datetime(2027, 1, 14, tzinfo=UTC), "upper": datetime(2027, 1, 15, tzinfo=UTC)})


def _vacuum() -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("games", "slots", "bookings"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))


# --- measuring --------------------------------------------------------------------------------

def logged_in(app):
    """A test client logged in as staff through the login form."""
    with app.app_context():
        create_staff_user(db.session, "bench", PASSWORD)
    client = app.test_client()
    token = _CSRF.search(client.get("/admin/login").get_data(as_text=True)).group(1)
    response = client.post("/admin/login", data={"csrf_token": token, "username": "bench", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def measure(client, path: str, rounds: int) -> tuple[float, float, float, int]:
    """p50 and p95 milliseconds of ``rounds`` GETs of ``path`` (after two warm-ups), p50 of this
    process's CPU milliseconds (what the neighbours on a shared machine do not inflate), and its bytes."""
    for _ in range(2):
        size = len(client.get(path).get_data())
    times, cpu = [], []
    for _ in range(rounds):
        started, client_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - client_cpu) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], statistics.median(cpu), size


def line(label: str, figures: tuple[float, float, float, int], target: float | None = None) -> None:
    p50, p95, cpu, size = figures
    verdict = "" if target is None else f"  target p50 ≤ {target:.0f} ms: {'met' if p50 <= target else 'MISSED'}" \
        f" ({p50 / target:.2f}× the target)"
    print(f"{label:44s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  app CPU p50 {cpu:6.1f} ms  {size:>8,} bytes{verdict}")


def profile(client, path: str, rounds: int) -> None:
    """Where a page's time goes: cProfile over ``rounds`` GETs, by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        client.get(path).get_data()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(25)
    print(out.getvalue())


def trigram_indexes() -> list[tuple[str, str]]:
    """The look-up's trigram indexes on bookings: (name, definition)."""
    rows = db.session.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'bookings'")).all()
    return [(name, definition) for name, definition in rows if TRIGRAM.match(definition)]


def plan_of(q: str) -> str:
    """The PostgreSQL plan nodes of the look-up's query for ``q``, shortened to their names."""
    from bookingapp.services.daysheet import search_statement
    statement = search_statement(q, limit=51, offset=0)
    compiled = statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    plan = db.session.execute(text(f"EXPLAIN {compiled}")).scalars().all()
    db.session.rollback()
    nodes = [re.sub(r"\s+\(cost.*", "", row).strip(" ->") for row in plan if "cost=" in row]
    return " / ".join(nodes)


def lookups(sample: int) -> dict[str, str]:
    """The queries a desk types: part of an email (in capitals), a surname, the end of a phone, a reference."""
    name, email, phone = customer(sample)
    reference = db.session.scalar(text("SELECT reference FROM bookings ORDER BY id OFFSET :n LIMIT 1"), {"n": sample})
    return {
        "part of an email": email.split("@")[0].upper(),
        "part of a surname": name.split()[1][1:5].lower(),
        "end of a phone": phone[-6:],
        "a reference": reference.lower(),
    }


def time_lookups(client, queries: dict[str, str], rounds: int, label: str, with_plans: bool) -> dict[str, float]:
    p50s = {}
    for what, q in queries.items():
        figures = measure(client, f"/admin/bookings/search?q={q}", rounds)
        p50s[what] = figures[0]
        line(f"look-up, {what} ({label})", figures, TARGETS["email"] if what == "part of an email" else None)
        if with_plans:
            try:
                print(f"    plan: {plan_of(q)}")
            except ImportError:
                pass
    return p50s


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def export(client, first: date, last: date) -> tuple[int, float, float]:
    """Rows, seconds and the growth of resident memory (MB, sampled while streaming) of one CSV download."""
    before = peak = rss_mb()
    started = time.perf_counter()
    response = client.get(f"/admin/bookings.csv?from={first.isoformat()}&to={last.isoformat()}", buffered=False)
    assert response.status_code == 200, response.status_code
    lines = 0
    for n, chunk in enumerate(response.response):
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
        if n % 20 == 0:
            peak = max(peak, rss_mb())
    response.close()
    seconds = time.perf_counter() - started
    return lines - 1, seconds, max(peak, rss_mb()) - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=whole_number(1, 10_000), default=30, help="requests per page")
    parser.add_argument("--games", type=whole_number(50, 100_000), default=1000, help="games stored")
    parser.add_argument("--bookings", type=whole_number(1000, 2_000_000), default=200_000, help="bookings stored")
    parser.add_argument("--profile", action="store_true", help="print where the day sheet's time goes")
    args = parser.parse_args()
    with throwaway_database("bookingapp_staffday") as url:
        app = create_app(_settings(url), clock=ManualClock(NOW))
        with app.app_context():
            migrate()
            started = time.perf_counter()
            seed_games(args.games)
            on_sheet = seed_bookings(args.bookings)
            print(f"seeded {args.games:,} games × {DAYS} days, {args.bookings:,} bookings in "
                  f"{time.perf_counter() - started:.1f} s; the sheet's 50 games hold {on_sheet:,} bookings on {DAY}")
            db.session.remove()
        client = logged_in(app)
        with app.app_context():
            sheet = f"/admin/bookings?date={DAY.isoformat()}"
            line("day sheet, 50 games", measure(client, sheet, args.rounds), TARGETS["sheet"])
            if args.profile:
                profile(client, sheet, max(3, args.rounds // 3))
            queries = lookups(sample=123_457 % args.bookings)
            indexed = time_lookups(client, queries, args.rounds, "as migrated", with_plans=True)
            dropped = trigram_indexes()
            if dropped:
                for name, _ in dropped:
                    db.session.execute(text(f"DROP INDEX {name}"))
                db.session.commit()
                _vacuum()
                scan = time_lookups(client, queries, args.rounds, "indexes dropped", with_plans=True)
                for _, definition in dropped:
                    db.session.execute(text(definition))
                db.session.commit()
                print("    indexed / dropped p50: " + ", ".join(f"{w} {indexed[w] / scan[w]:.2f}" for w in queries))
            first = DAY
            rows, seconds, growth = export(client, first, first + timedelta(days=6))
            rate = rows / seconds
            print(f"CSV export, {first}..{first + timedelta(days=6)}: {rows:,} rows in {seconds:.2f} s = {rate:,.0f} rows/s"
                  f" (target ≥ {TARGETS['rows_per_s']:,}: {'met' if rate >= TARGETS['rows_per_s'] else 'MISSED'});"
                  f" resident memory grew {growth:.1f} MB (target ≤ {TARGETS['memory_mb']:.0f}:"
                  f" {'met' if growth <= TARGETS['memory_mb'] else 'MISSED'})")
            tracemalloc.start()
            rows, _, _ = export(client, first, first + timedelta(days=6))
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            print(f"    the same export again under tracemalloc: Python's allocations peaked at {peak:.1f} MB"
                  f" for {rows:,} rows (resident memory above is measured over a heap the seeding already grew)")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
