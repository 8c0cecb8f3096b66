"""The staff view of the outbox: what waits to be sent, what failed, a retry button."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bookingapp.admin import bp
from bookingapp.admin.forms import ActionForm
from bookingapp.extensions import db, now
from bookingapp.paging import page_number
from bookingapp.models import OutboxMessage
from bookingapp.services.audit import Actor
from bookingapp.services.mail import eml_file
from bookingapp.services.outbox_admin import list_outbox, parse_show, retry_message


@bp.get("/outbox")
def outbox_page():
    """The open (pending and failed), failed or sent messages, newest first, 50 a page."""
    show = parse_show(request.args.get("show"))
    listing = list_outbox(db.session, show, page_number(request.args.get("page")))
    # The embedded default writes each email as an .eml file: link to it (with MAIL_URL it went to the server).
    eml_links = not current_app.config["MAIL_URL"]
    return render_template("admin/outbox.html", listing=listing, eml_links=eml_links, action_form=ActionForm())


@bp.get("/outbox/<int:message_id>.eml")
def outbox_eml(message_id: int):
    """The .eml file the embedded default wrote for a sent email, shown as text."""
    message = db.session.get(OutboxMessage, message_id)
    path = eml_file(message) if message is not None and not current_app.config["MAIL_URL"] else None
    if path is None:
        abort(404, description="No .eml file was written for this message.")
    return Response(path.read_bytes(), mimetype="text/plain",
                    headers={"Content-Disposition": f'inline; filename="{path.name}"', "Cache-Control": "no-store"})


@bp.post("/outbox/<int:message_id>/retry")
def retry_outbox_message(message_id: int):
    """Put a failed message back in line, due now (a DomainError says why not)."""
    if not ActionForm().validate_on_submit():
        flash("The form was stale; nothing was retried. Try again.", "error")
        return redirect(url_for("admin.outbox_page", show="failed"))
    message = retry_message(db.session, message_id, Actor.user(current_user), now())
    flash(f"Message {message.id} ({message.kind} to {message.recipient}) is due again and will be sent shortly.", "info")
    return redirect(url_for("admin.outbox_page", show=request.form.get("show") or "open"))
