"""What a booking costs: a game's price per player or per session, in minor units."""
from __future__ import annotations

PER_PLAYER = "player"


def booking_amount(price: int, price_per: str, party_size: int) -> int:
    """The amount of a booking of ``party_size`` players: per player it scales, per session it does not."""
    return price * party_size if price_per == PER_PLAYER else price
