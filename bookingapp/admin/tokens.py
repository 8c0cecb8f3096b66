"""Staff pages for API tokens: list them, make one (shown once), revoke one."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from bookingapp.admin import bp
from bookingapp.admin.forms import ActionForm, TokenForm
from bookingapp.errors import DomainError
from bookingapp.extensions import db, now
from bookingapp.services.audit import Actor
from bookingapp.services.accounts import Audit, create_api_token, list_api_tokens, revoke_api_token, token_is_live


def _page(form: TokenForm, *, created: tuple[str, str] | None = None, status: int = 200):
    tokens, at = list_api_tokens(db.session), now()
    rows = [(token, token_is_live(token, at)) for token in tokens]
    page = render_template("admin/tokens.html", rows=rows, form=form, created=created, action_form=ActionForm())
    return page, status


@bp.get("/tokens")
def tokens():
    """List every API token with when it was made, last used and expires."""
    return _page(TokenForm())


@bp.post("/tokens")
def create_token():
    """Make a token and show it once, on this answer only."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        raw = create_api_token(
            db.session, form.name.data, now=now(), expires_in_days=form.expires_in_days(),
            by=Audit(Actor.user(current_user), now()),
        )
    except DomainError as exc:
        db.session.rollback()
        form.show_problems(exc.fields or {"_": exc.message})
        return _page(form, status=422)
    return _page(TokenForm(formdata=None), created=(form.name.data.strip(), raw), status=201)


@bp.post("/tokens/revoke")
def revoke_token():
    """Revoke the live token of the name posted; it stops working at once."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.tokens"))
    name = request.form.get("name", "")
    try:
        revoke_api_token(db.session, name, now=now(), by=Audit(Actor.user(current_user), now()))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(f"Token {name.strip()!r} revoked: it no longer opens the API.", "info")
    return redirect(url_for("admin.tokens"))
