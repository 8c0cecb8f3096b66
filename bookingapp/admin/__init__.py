"""Staff pages at /admin: every view needs a logged-in staff user, checked once here."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from bookingapp.errors import error_response, wants_json
from bookingapp.extensions import login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")

OPEN_ENDPOINTS = {"admin.login"}
# What a desk login may not do: edit games, manage staff users, API tokens or webhooks.
ADMIN_ENDPOINTS = {
    "admin.new_game", "admin.edit_game", "admin.toggle_active", "admin.confirm_deactivate", "admin.start_job",
    "admin.tokens", "admin.create_token", "admin.revoke_token",
    "admin.users", "admin.create_user", "admin.set_user_active", "admin.reset_password",
    "admin.webhooks_page", "admin.create_webhook", "admin.webhook_page", "admin.deactivate_webhook", "admin.delete_webhook",
}

login_manager.login_view = "admin.login"
login_manager.login_message = "Please log in to see the staff pages."
login_manager.login_message_category = "error"


@bp.before_request
def _require_staff():
    """Refuse anyone not logged in: pages go to the login form, polls get a 401 JSON answer."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if current_user.is_authenticated:
        if request.endpoint in ADMIN_ENDPOINTS and not current_user.is_admin:
            return _admins_only()
        return None
    if wants_json():
        return error_response(401, "unauthorized", "Log in first.")
    return login_manager.unauthorized()


def _admins_only():
    message = "Only an admin may do this; a desk login runs bookings, the day sheet, attendance and blocks."
    if wants_json():
        return error_response(403, "forbidden", message)
    return render_template("admin/forbidden.html", message=message), 403


from bookingapp.admin import auth, bookings, outbox, routes, tokens, users, webhooks  # noqa: E402,F401  (registers the views on bp)
