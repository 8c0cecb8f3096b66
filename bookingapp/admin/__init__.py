"""Staff pages at /admin: every view needs a logged-in staff user, checked once here."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from bookingapp.errors import error_response, wants_json
from bookingapp.extensions import login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")

OPEN_ENDPOINTS = {"admin.login"}

login_manager.login_view = "admin.login"
login_manager.login_message = "Please log in to see the staff pages."
login_manager.login_message_category = "error"


@bp.before_request
def _require_staff():
    """Refuse anyone not logged in: pages go to the login form, polls get a 401 JSON answer."""
    if request.endpoint in OPEN_ENDPOINTS or current_user.is_authenticated:
        return None
    if wants_json():
        return error_response(401, "unauthorized", "Log in first.")
    return login_manager.unauthorized()


from bookingapp.admin import auth, bookings, routes, tokens  # noqa: E402,F401  (registers the views on bp)
