"""Amounts are stored in a currency's minor units (cents); people read and type major units."""
from __future__ import annotations

from decimal import Decimal

from babel.numbers import get_currency_precision


def to_major(minor: int, currency: str) -> Decimal:
    """2550 minor units of EUR -> Decimal("25.50"); of JPY (no minor unit) -> Decimal("2550")."""
    return Decimal(minor).scaleb(-get_currency_precision(currency))


def to_minor(major: Decimal, currency: str) -> Decimal:
    """Decimal("25.5") of EUR -> Decimal("2550"); not whole when it has more decimals than the currency."""
    return major.scaleb(get_currency_precision(currency))
