"""`flask admin …`: staff logins and API tokens."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from bookingapp.errors import DomainError, cli_message
from bookingapp.extensions import db, now
from bookingapp.services.accounts import (
    MAX_TOKEN_DAYS, ROLE_VALUES, create_api_token, create_staff_user, list_api_tokens, revoke_api_token, set_staff_password,
    token_is_live,
)


@click.group("admin", help="Staff logins and API tokens.")
def admin_cli():
    pass


@admin_cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLE_VALUES), default="admin", show_default=True,
              help="admin: everything; desk: bookings, the day sheet, attendance and blocks only.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The password (asked for when not given; at least 8 characters).")
@with_appcontext
def create_user_command(username: str, role: str, password: str):
    """Add a staff login for the /admin pages."""
    try:
        user = create_staff_user(db.session, username, password, role=role)
    except DomainError as exc:
        raise click.ClickException(cli_message(exc)) from None
    click.echo(f"Created staff user {user.username!r}. Role: {user.role.value}.")


@admin_cli.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The new password (asked for when not given; at least 8 characters).")
@with_appcontext
def set_password_command(username: str, password: str):
    """Give a staff login a new password (for a forgotten one, or the demo's)."""
    try:
        set_staff_password(db.session, username, password)
    except DomainError as exc:
        raise click.ClickException(cli_message(exc)) from None
    click.echo(f"Password of staff user {username!r} changed.")


@admin_cli.command("create-token")
@click.argument("name")
@click.option("--expires-in", "expires_in", type=click.IntRange(1, MAX_TOKEN_DAYS), metavar="DAYS",
              help=f"Stop working after this many days (1..{MAX_TOKEN_DAYS}; default: never).")
@with_appcontext
def create_token_command(name: str, expires_in: int | None):
    """Create a staff API token and print it once (only its hash is stored)."""
    try:
        raw = create_api_token(db.session, name, now=now(), expires_in_days=expires_in)
    except DomainError as exc:
        raise click.ClickException(cli_message(exc)) from None
    click.echo(f"Token {name.strip()!r} created. Copy it now; it is not shown again:")
    click.echo(raw)


@admin_cli.command("list-tokens")
@with_appcontext
def list_tokens_command():
    """List API tokens: name, created, last used, expires, and whether each still works."""
    tokens, at = list_api_tokens(db.session), now()
    if not tokens:
        click.echo("No API tokens.")
        return
    click.echo(f"{'name':<24} {'created':<17} {'last used':<17} {'expires':<17} state")
    for token in tokens:
        state = "revoked" if token.revoked_at else ("live" if token_is_live(token, at) else "expired")
        click.echo(f"{token.name[:24]:<24} {_when(token.created_at):<17} {_when(token.last_used_at):<17} "
                   f"{_when(token.expires_at, 'never'):<17} {state}")


@admin_cli.command("revoke-token")
@click.argument("name")
@with_appcontext
def revoke_token_command(name: str):
    """Stop the live token with this name from working, at once."""
    try:
        revoke_api_token(db.session, name, now=now())
    except DomainError as exc:
        raise click.ClickException(cli_message(exc)) from None
    click.echo(f"Token {name.strip()!r} revoked.")


def _when(moment, missing: str = "-") -> str:
    return moment.strftime("%Y-%m-%d %H:%M") + "Z" if moment else missing
