from flask import render_template
from sqlalchemy import select

from ..extensions import db
from ..models import Game
from . import bp


@bp.get("/")
def index():
    """List the active games."""
    games = db.session.scalars(select(Game).where(Game.is_active.is_(True)).order_by(Game.name)).all()
    return render_template("booking/index.html", games=games)
