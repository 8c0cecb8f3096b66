"""Staff pages for webhooks (admins only): list endpoints, register one (its secret shown once), deactivate, delete, read a delivery log."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from bookingapp.admin import bp
from bookingapp.admin.forms import ActionForm, WebhookForm
from bookingapp.errors import DomainError
from bookingapp.extensions import db, now
from bookingapp.paging import page_number
from bookingapp.services import webhooks
from bookingapp.services.audit import Actor

DELIVERIES_PAGE = 50


def _page(form: WebhookForm, *, created: webhooks.NewEndpoint | None = None, status: int = 200):
    page = render_template("admin/webhooks.html", rows=webhooks.list_endpoints(db.session), form=form,
                           created=created, events=webhooks.EVENTS, action_form=ActionForm())
    return page, status


@bp.get("/webhooks")
def webhooks_page():
    """Every endpoint with its events, state and the answer to its latest delivery."""
    return _page(WebhookForm(formdata=None))


@bp.post("/webhooks")
def create_webhook():
    """Register an endpoint and show its signing secret, on this answer only."""
    form = WebhookForm()
    if not form.validate_on_submit():
        form.form_errors = ["The form had expired; nothing was saved. Please try again."]
        return _page(form, status=400)
    try:
        created = webhooks.register_endpoint(db.session, form.url.data, form.events.data or [],
                                             actor=Actor.user(current_user), now=now())
    except DomainError as exc:
        db.session.rollback()
        form.show_problems(exc.fields or {"_": exc.message})
        return _page(form, status=422)
    return _page(WebhookForm(formdata=None), created=created, status=201)


@bp.get("/webhooks/<int:endpoint_id>")
def webhook_page(endpoint_id: int):
    """One endpoint and its delivery log, newest first, 50 a page."""
    endpoint = webhooks.get_endpoint(db.session, endpoint_id)
    deliveries, page, pages = webhooks.deliveries_page(db.session, endpoint, page_number(request.args.get("page")),
                                                       DELIVERIES_PAGE)
    return render_template("admin/webhook.html", endpoint=endpoint, deliveries=deliveries, page=page, pages=pages,
                           action_form=ActionForm())


@bp.post("/webhooks/<int:endpoint_id>/deactivate")
def deactivate_webhook(endpoint_id: int):
    """Stop an endpoint hearing of events; deliveries still waiting are dropped."""
    if ActionForm().validate_on_submit():
        endpoint = webhooks.deactivate_endpoint(db.session, endpoint_id, actor=Actor.user(current_user), now=now())
        flash(f"Webhook {endpoint.url} deactivated: it hears of nothing more.", "info")
    else:
        flash("The form had expired; nothing was changed. Please try again.", "error")
    return redirect(url_for("admin.webhooks_page"))


@bp.post("/webhooks/<int:endpoint_id>/delete")
def delete_webhook(endpoint_id: int):
    """Remove an endpoint and its delivery log."""
    if ActionForm().validate_on_submit():
        webhooks.delete_endpoint(db.session, endpoint_id, actor=Actor.user(current_user), now=now())
        flash("Webhook deleted, with its delivery log.", "info")
    else:
        flash("The form had expired; nothing was changed. Please try again.", "error")
    return redirect(url_for("admin.webhooks_page"))
