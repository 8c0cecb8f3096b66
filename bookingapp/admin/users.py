"""Staff pages for staff logins (admins only): create one with a role, deactivate, reactivate, reset a password."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from bookingapp.admin import bp
from bookingapp.admin.forms import ActionForm
from bookingapp.extensions import db, now
from bookingapp.services.accounts import Audit, create_staff_user, list_staff_users, set_staff_active, set_staff_password
from bookingapp.services.audit import Actor


def _by() -> Audit:
    return Audit(Actor.user(current_user), now())


@bp.get("/users")
def users():
    """Every staff login with its role and state."""
    return render_template("admin/users.html", users=list_staff_users(db.session), action_form=ActionForm())


@bp.post("/users")
def create_user():
    """Create a staff login."""
    if ActionForm().validate_on_submit():
        form = request.form
        user = create_staff_user(db.session, form.get("username", ""), form.get("password", ""),
                                 role=form.get("role", ""), by=_by())
        flash(f"Staff user {user.username} created ({user.role.value}).", "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>/active")
def set_user_active(username: str):
    """Deactivate or reactivate a staff login."""
    if ActionForm().validate_on_submit():
        active = request.form.get("active") == "1"
        set_staff_active(db.session, username, active, by=_by())
        flash(f"{username} {'reactivated' if active else 'deactivated: they can no longer log in'}.", "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>/password")
def reset_password(username: str):
    """Give a staff login a new password."""
    if ActionForm().validate_on_submit():
        set_staff_password(db.session, username, request.form.get("password", ""), by=_by())
        flash(f"Password of {username} reset.", "info")
    return redirect(url_for("admin.users"))
