"""Staff login and logout."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf.csrf import CSRFError

from ..accounts import authenticate
from ..extensions import db, now
from . import bp
from .forms import ActionForm, LoginForm


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an absolute or scheme-relative ``next`` would redirect away."""
    parts = urlsplit(target or "")
    if target and target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return url_for("admin.games")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; log a staff user in and send them where they were going."""
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(db.session, form.username.data or "", form.password.data or "", now=now())
        if user is not None:
            login_user(user)
            return redirect(_safe_next(form.next.data))
        flash("Wrong username or password.", "error")
    status = 401 if request.method == "POST" else 200
    return render_template("admin/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Log out (a post with the CSRF token only, so no other site can do it)."""
    if ActionForm().validate_on_submit():
        logout_user()
        flash("Logged out.", "info")
        return redirect(url_for("admin.login"))
    return redirect(url_for("admin.games"))


@bp.errorhandler(CSRFError)
def csrf_refused(exc: CSRFError):
    """A post without a valid CSRF token (an expired page, or another site): change nothing, say so."""
    return render_template("admin/refused.html", reason=exc.description), 400
