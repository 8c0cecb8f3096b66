"""Staff login and logout."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf.csrf import CSRFError

from bookingapp.admin import bp
from bookingapp.admin.forms import ActionForm, LoginForm
from bookingapp.admin.throttle import clear_failed_logins, lockout_seconds, record_failed_login, wait_in_words
from bookingapp.extensions import db, now
from bookingapp.services.accounts import authenticate


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
        username, address = form.username.data or "", request.remote_addr  # never X-Forwarded-For
        wait = lockout_seconds(username, address, now=now())
        if wait:
            return _locked_out(form, wait)
        user = authenticate(db.session, username, form.password.data or "", now=now())
        if user is not None:
            clear_failed_logins(username)
            login_user(user)
            return redirect(_safe_next(form.next.data))
        record_failed_login(username, address, now=now())
        flash("Wrong username or password.", "error")
    status = 401 if request.method == "POST" else 200
    return render_template("admin/login.html", form=form), status


def _locked_out(form: LoginForm, wait: int):
    """Refuse without checking the password: a lockout holds even for the right one."""
    flash(f"Too many failed logins; try again in {wait_in_words(wait)}.", "error")
    return render_template("admin/login.html", form=form), 429, {"Retry-After": str(wait)}


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
