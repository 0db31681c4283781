"""What elderly mode (长辈版) offers: fewer choices, each one a resident is likely to want.

- Fees: only the frequent services (heating, property, water; electricity is the meters). An account of another
  kind HQ may add later (parking, gas...) is left to standard mode.
- Amounts: the ones this house usually recharges (HQ's `usual_amounts_fen`, the last recharge first), filled up
  from the terminal's presets, at most `MAX_PRESETS`, smallest first.
- No reprint of an old receipt and no other extras on the house's screen: one way on, Recharge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from kiosk.domain import Account, HouseOverview

FREQUENT_ACCOUNTS = frozenset({"heating", "property", "water"})
MAX_PRESETS = 3


def frequent_accounts(accounts: Iterable[Account]) -> tuple[Account, ...]:
    return tuple(a for a in accounts if a.kind in FREQUENT_ACCOUNTS)


def simpler_overview(overview: HouseOverview) -> HouseOverview:
    """The house as elderly mode shows it: the meters, and the fees of the frequent services only."""
    accounts = frequent_accounts(overview.accounts)
    if accounts == overview.accounts:
        return overview
    return replace(overview, accounts=accounts)


def usual_presets(
    overview: HouseOverview, meter_id: str, presets_fen: Iterable[int], min_fen: int, max_fen: int
) -> tuple[int, ...]:
    """At most `MAX_PRESETS` amounts in range: the last recharge of this meter, the house's usual amounts, then the
    terminal's presets; shown smallest first."""
    last = overview.last_recharge
    first = [last.amount_fen] if last is not None and last.meter_id == meter_id else []
    chosen: list[int] = []
    for amount in (*first, *overview.usual_amounts_fen, *presets_fen):
        if min_fen <= amount <= max_fen and amount not in chosen:
            chosen.append(amount)
        if len(chosen) == MAX_PRESETS:
            break
    return tuple(sorted(chosen))
