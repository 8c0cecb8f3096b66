"""Customer pages."""
from flask import Blueprint

bp = Blueprint("booking", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
