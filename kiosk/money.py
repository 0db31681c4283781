"""Money is an integer number of fen (1 yuan = 100 fen); never a float."""

from __future__ import annotations

from decimal import Decimal

FEN_PER_YUAN = 100


def fen(value: int) -> int:
    """Check that a value is a whole number of fen (bool and float refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"money must be int fen, got {type(value).__name__}")
    return value


def yuan_to_fen(yuan: int) -> int:
    return fen(yuan) * FEN_PER_YUAN


def fen_to_decimal_yuan(amount_fen: int) -> Decimal:
    """Exact yuan value for formatting (Babel takes Decimal)."""
    return Decimal(fen(amount_fen)) / FEN_PER_YUAN
