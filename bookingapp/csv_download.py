"""The bookings CSV download, shared by the staff page and the staff API: its query string and its streamed answer."""
from __future__ import annotations

from datetime import datetime

from flask import Response, current_app, request, stream_with_context

from bookingapp.core.window import local_today, parse_date
from bookingapp.errors import ValidationError
from bookingapp.extensions import db
from bookingapp.services.export import ExportQuery, check_export, export_csv


def export_range(now: datetime) -> tuple:
    """``from`` and ``to`` as dates (``from`` defaults to today in the site's zone, ``to`` to ``from``)."""
    problems: dict[str, str] = {}
    first = last = None
    for name in ("from", "to"):
        raw = request.args.get(name)
        if raw:
            try:
                value = parse_date(raw)
            except ValueError as exc:
                problems[name] = str(exc)
                continue
            first, last = (value, last) if name == "from" else (first, value)
    if problems:
        raise ValidationError(problems, "Bad date range.")
    first = first or local_today(now, current_app.config["BOOKING_DEFAULT_TIMEZONE"])
    return first, last or first


def csv_response(query: ExportQuery) -> Response:
    """The export streamed as a download; a bad range is refused before the first byte."""
    check_export(query)
    response = Response(stream_with_context(export_csv(db.session, query)), mimetype="text/csv")
    name = f"bookings-{query.first.isoformat()}-{query.last.isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
