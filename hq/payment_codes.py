"""Wallet payment codes: which wallet a code belongs to, and what the sandbox does with it.

The rules are the wallets' published ones (the terminal checks the same in ``kiosk/qr_payload.py``):
WeChat Pay, 18 digits beginning with 10 to 15; Alipay, 16 to 24 digits beginning with 25 to 30.

The sandbox behaves as the wallets do, decided by the code's last digit so tests and the demo can pick:

==========  ==================================================================================================
last digit  what happens
==========  ==================================================================================================
0 to 6      paid at once (a small amount needs no confirmation)
7           the payer must confirm on the phone; left alone, the payer declines after the confirmation delay
8           the payer must confirm on the phone; left alone, the payer confirms (paid) after the delay
9           declined at once (e.g. not enough balance); nothing is charged
==========  ==================================================================================================

While the payer confirms, the order's status is ``confirming``; the checkout page's buttons confirm or decline.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum

# How long the sandbox wallet waits for a payer asked to confirm before deciding as the code says.
DEFAULT_CONFIRM_DELAY = timedelta(seconds=20)
WECHAT_PAY = "wechat_pay"
ALIPAY = "alipay"
_WALLET_RULES = (
    (WECHAT_PAY, re.compile(r"1[0-5][0-9]{16}")),
    (ALIPAY, re.compile(r"(?:2[5-9]|30)[0-9]{14,22}")),
)


class Behaviour(StrEnum):
    """What the sandbox wallet does with a payment code."""

    PAY = "pay"
    CONFIRM_THEN_DECLINE = "confirm_then_decline"
    CONFIRM_THEN_PAY = "confirm_then_pay"
    DECLINE = "decline"

    @property
    def needs_confirmation(self) -> bool:
        return self in (Behaviour.CONFIRM_THEN_DECLINE, Behaviour.CONFIRM_THEN_PAY)


# The demo's simulator panel shows these to the scanner; one per behaviour a tester wants to see.
SAMPLE_CODES = {
    "paid at once (WeChat Pay)": "134567890123456781",
    "confirm on the phone (Alipay)": "286543210987654328",
    "declined (WeChat Pay)": "101234567890123459",
}


def wallet_of(code: str) -> str | None:
    """``wechat_pay`` or ``alipay`` when ``code`` follows that wallet's rule, else None."""
    for wallet, rule in _WALLET_RULES:
        if rule.fullmatch(code):
            return wallet
    return None


def sandbox_behaviour(code: str) -> Behaviour:
    """The sandbox's answer to a valid payment code, by its last digit (see the module's table)."""
    last = code[-1]
    if last == "7":
        return Behaviour.CONFIRM_THEN_DECLINE
    if last == "8":
        return Behaviour.CONFIRM_THEN_PAY
    if last == "9":
        return Behaviour.DECLINE
    return Behaviour.PAY


def mask(code: str) -> str:
    """The code as HQ keeps it anywhere: its last four digits."""
    return "****" + code[-4:]
