"""`flask outbox …`: deliver what is due now, and see what is waiting or failed."""
from __future__ import annotations

from functools import wraps

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import InterfaceError, OperationalError

from bookingapp.extensions import app_clock
from bookingapp.services import delivery


def _database_needed(command):
    @wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            raise click.ClickException(f"the database is unreachable: {str(exc.orig or exc).splitlines()[0]}") from None
    return run


@click.group("outbox", help="Deliver and inspect the messages about bookings.")
def outbox_cli():
    pass


@outbox_cli.command("send")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True,
              help="Send at most this many messages (in passes of 100).")
@with_appcontext
@_database_needed
def send_command(limit: int):
    """Send every message due now (safe beside the app's own deliverers, and from cron)."""
    now, total = app_clock().now(), delivery.DeliveryReport()
    while total.total < limit:
        report = delivery.deliver_due(now, limit=min(100, limit - total.total))
        total.sent, total.retried, total.failed = (total.sent + report.sent, total.retried + report.retried,
                                                   total.failed + report.failed)
        if report.total == 0:
            break
    click.echo(f"Sent {total.sent}, to retry {total.retried}, failed {total.failed}")


@outbox_cli.command("status")
@with_appcontext
@_database_needed
def status_command():
    """Show messages by status, how long the oldest due one has waited, and the last failures."""
    now = app_clock().now()
    click.echo(", ".join(f"{status} {count}" for status, count in delivery.counts().items()))
    age, next_due = delivery.oldest_due_age(now), delivery.next_due_at()
    if age is not None:
        click.echo(f"Oldest due message: waiting {age:.0f} s")
    elif next_due is not None:
        click.echo(f"Nothing due; next at {next_due.isoformat()}")
    else:
        click.echo("Nothing due")
    failures = delivery.recent_failures()
    click.echo("Last failures:" if failures else "Last failures: none")
    for message in failures:
        error = (message.last_error or "").splitlines()[0] if message.last_error else ""
        state = "failed" if message.status.value == "failed" else f"retry at {message.next_attempt_at.isoformat()}"
        click.echo(f"  #{message.id} {message.kind} to {message.recipient}: {message.attempts} attempt(s), "
                   f"{state}: {error}")
