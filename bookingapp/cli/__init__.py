"""Command-line tools: ``flask --app wsgi slots|demo|admin|outbox …``, one click group per module."""
from bookingapp.cli.admin import admin_cli
from bookingapp.cli.demo import demo_cli
from bookingapp.cli.outbox import outbox_cli
from bookingapp.cli.slots import slots_cli

__all__ = ["admin_cli", "demo_cli", "outbox_cli", "slots_cli"]
