"""Customer pages."""
from flask import Blueprint

bp = Blueprint("booking", __name__)

from bookingapp.site import display, routes  # noqa: E402,F401  (registers the filters and views on bp)
