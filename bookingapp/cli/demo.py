"""`flask demo seed`: example games for the quick start."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from bookingapp.extensions import db
from bookingapp.services.demo import seed_demo


@click.group("demo", help="Demo data for the quick start.")
def demo_cli():
    pass


@demo_cli.command("seed")
@with_appcontext
def seed_command():
    """Create a few example games (skips those that exist)."""
    for line in seed_demo(db.session):
        click.echo(line)
