"""No log line and no database row holds a whole card id, phone number or payment code, after a real journey."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

import pytest
from journey_rig import Rig, pay_in_sandbox

from hq.seed import MAIN_HOUSE
from kiosk import log_ring
from kiosk.screens import IdleScreen, OverviewScreen, PaymentScreen, ReceiptState, ResultScreen

PAYMENT_CODE = "134567890123456789"  # a WeChat Pay payment code's shape: 18 digits
PHONE = "13812345678"


def test_masking_keeps_the_last_four_characters_only() -> None:
    assert log_ring.mask(f"card {MAIN_HOUSE.card_id} code {PAYMENT_CODE} phone {PHONE}") == (
        "card ****C3D4 code ****6789 phone ****5678"
    )
    kept = "tx 3f2a9c1b-1c2d-4e5f-8a9b-0c1d2e3f4a5b order EO7KQ2M4X9ZP3R8T 10000 fen 2026-12-01"
    assert log_ring.mask(kept) == kept  # transaction ids, order numbers, amounts and dates say nobody's name


def test_nothing_whole_in_the_logs_or_the_database_after_a_journey(
    make_rig: Callable[..., Rig], caplog: pytest.LogCaptureFixture
) -> None:
    ring = log_ring.install()
    caplog.set_level(logging.DEBUG)
    rig = make_rig()
    card = MAIN_HOUSE.card_id
    rig.journey.card_inserted(card)
    rig.wait_for(OverviewScreen)
    rig.journey.quick_pay()
    payment = rig.wait_for(PaymentScreen)
    pay_in_sandbox(payment.pay_url)
    rig.wait(lambda: isinstance(rig.journey.screen, ResultScreen)
             and rig.journey.screen.receipt is ReceiptState.PRINTED)
    rig.journey.finish()
    rig.journey.qr_scanned(PAYMENT_CODE)  # a wallet's code shown on the idle screen: too early, and logged
    assert isinstance(rig.journey.screen, IdleScreen)
    # Whatever a careless line of code logs, the record itself is masked.
    logging.getLogger("kiosk.anywhere").warning("card %s, phone %s, code %s", card, PHONE, PAYMENT_CODE)
    try:
        raise ValueError(f"refused card {card}")
    except ValueError:
        logging.getLogger("kiosk.anywhere").exception("while reading %s", card)

    secrets = (card, PAYMENT_CODE, PHONE)
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records) + "\n".join(ring.lines())
    assert "****C3D4" in logged and "****6789" in logged
    assert [s for s in secrets if s in logged] == []

    found = []
    with sqlite3.connect(rig.store.path) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"transactions", "staff_audit"} <= set(tables)
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):  # table names from sqlite_master
                found += [(table, s) for value in row for s in secrets if isinstance(value, str) and s in value]
    assert found == []
