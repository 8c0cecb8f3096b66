"""`flask admin …`: staff logins and API tokens."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from bookingapp.errors import DomainError, cli_message
from bookingapp.extensions import db
from bookingapp.services.accounts import create_api_token, create_staff_user


@click.group("admin", help="Staff logins and API tokens.")
def admin_cli():
    pass


@admin_cli.command("create-user")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The password (asked for when not given; at least 8 characters).")
@with_appcontext
def create_user_command(username: str, password: str):
    """Add a staff login for the /admin pages."""
    try:
        user = create_staff_user(db.session, username, password)
    except DomainError as exc:
        raise click.ClickException(cli_message(exc)) from None
    click.echo(f"Created staff user {user.username!r}.")


@admin_cli.command("create-token")
@click.argument("name")
@with_appcontext
def create_token_command(name: str):
    """Create a staff API token and print it once (only its hash is stored)."""
    try:
        raw = create_api_token(db.session, name)
    except DomainError as exc:
        raise click.ClickException(cli_message(exc)) from None
    click.echo(f"Token {name!r} created. Copy it now; it is not shown again:")
    click.echo(raw)
