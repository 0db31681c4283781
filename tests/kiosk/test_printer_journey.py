"""Printer faults in the middle of a paid receipt, through the whole journey and the real wire.

The payment stands whatever the printer does: the transaction stays paid, the result screen offers the
electronic receipt, and once the printer is put right the resident gets the receipt by identifying the house
again and touching "Reprint last receipt".
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from journey_rig import Rig, pay_in_sandbox

from devices.base import PaperState
from hq.seed import MAIN_HOUSE, NEW_HOUSE
from kiosk.i18n import Translator
from kiosk.receipts import NotReprintable, reprint_receipt
from kiosk.screens import OverviewScreen, PaymentScreen, ReceiptState, ResultScreen
from offline_queue.states import TxState

RigFactory = Callable[..., Rig]
ZH = Translator("zh_CN")  # receipt.language: what staff print from the maintenance menu
EN = Translator("en")  # the rigs' screen language, so their residents' receipts are in English

# fault -> (what the result screen says, how to put it right)
FAULTS: dict[str, tuple[ReceiptState, Callable[[Rig], None]]] = {
    "paper_out": (ReceiptState.PAPER_OUT, lambda rig: rig.printer.set_paper(PaperState.OK)),
    "cover_open": (ReceiptState.FAILED, lambda rig: rig.printer.set_cover_open(False)),
    "drop": (ReceiptState.FAILED, lambda rig: None),
    "offline": (ReceiptState.FAILED, lambda rig: rig.printer.set_offline(False)),
}


def pay(rig: Rig, card: str = MAIN_HOUSE.card_id) -> ResultScreen:
    rig.journey.card_inserted(card)
    rig.wait_for(OverviewScreen)
    rig.journey.quick_pay()
    payment = rig.wait_for(PaymentScreen)
    pay_in_sandbox(payment.pay_url)
    return rig.wait_for(ResultScreen)  # type: ignore[no-any-return]


def states(rig: Rig, tx_id: str) -> list[TxState]:
    return [event.to_state for event in rig.store.history(tx_id)]


def identify_again(rig: Rig, card: str = MAIN_HOUSE.card_id) -> OverviewScreen:
    rig.journey.finish()
    rig.journey.card_inserted(card)
    rig.wait(lambda: isinstance(rig.journey.screen, OverviewScreen))
    return rig.journey.screen  # type: ignore[return-value]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_mid_receipt_leaves_the_payment_paid_and_the_receipt_reprintable(
    make_rig: RigFactory, fault: str
) -> None:
    shown, put_right = FAULTS[fault]
    rig = make_rig()
    rig.printer.fail_after(300, fault)  # a receipt is over 700 bytes: it strikes mid-receipt
    result = pay(rig)
    rig.wait(lambda: rig.journey.screen.receipt is shown)  # type: ignore[union-attr]
    result = rig.journey.screen  # type: ignore[assignment]
    assert result.outcome.value == "paid" and result.receipt_url  # the e-receipt is on screen
    tx = rig.store.last_for_house(MAIN_HOUSE.house_id)
    assert tx is not None and tx.state is TxState.PAID and tx.receipt_status == "failed"
    history = states(rig, tx.id)
    assert history[-1] is TxState.PAID
    assert rig.printer.printed == [] and len(rig.printer.spoiled) == 1  # half a receipt, no cut

    put_right(rig)
    overview = identify_again(rig)
    assert overview.reprint_available and overview.reprint is ReceiptState.NONE
    rig.journey.reprint_last_receipt()
    assert rig.journey.screen.reprint is ReceiptState.PRINTING  # type: ignore[union-attr]
    rig.wait(lambda: rig.journey.screen.reprint is ReceiptState.PRINTED)  # type: ignore[union-attr]
    (printed,) = rig.printer.printed
    assert printed.receipt is not None
    assert result.order_no and result.order_no in printed.text
    assert printed.parsed.qr_payloads == [result.receipt_url]
    labels = [line.label for line in printed.receipt.lines]
    assert labels[-1] == EN.gettext("Reprinted")  # never taken for a second payment
    after = rig.store.get(tx.id)
    assert after.state is TxState.PAID and after.receipt_status == "printed"
    assert states(rig, tx.id) == history  # printing never moved the payment


def test_the_receipt_is_in_the_language_the_resident_chose(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.journey.set_language("zh_CN")
    pay(rig)
    rig.wait(lambda: rig.journey.screen.receipt is ReceiptState.PRINTED)  # type: ignore[union-attr]
    rig.journey.finish()
    rig.journey.set_language("en")
    pay(rig)
    rig.wait(lambda: rig.journey.screen.receipt is ReceiptState.PRINTED)  # type: ignore[union-attr]
    chinese, english = (p.receipt for p in rig.printer.wait_for_receipts(2))
    assert chinese is not None and english is not None
    assert (chinese.title, english.title) == ("电费充值凭证", "Electricity recharge receipt")


def test_a_reprint_says_what_the_first_receipt_said(make_rig: RigFactory) -> None:
    rig = make_rig()
    pay(rig)
    rig.wait(lambda: rig.journey.screen.receipt is ReceiptState.PRINTED)  # type: ignore[union-attr]
    identify_again(rig)
    rig.journey.reprint_last_receipt()
    rig.wait(lambda: rig.journey.screen.reprint is ReceiptState.PRINTED)  # type: ignore[union-attr]
    first, again = (p.receipt for p in rig.printer.wait_for_receipts(2))
    assert first is not None and again is not None
    time_label = EN.gettext("Time")
    assert [x for x in again.lines[:-1] if x.label != time_label] == [x for x in first.lines if x.label != time_label]
    assert (again.title, again.qr_data, again.footer) == (first.title, first.qr_data, first.footer)


def test_a_reprint_that_fails_says_so_and_can_be_tried_again(make_rig: RigFactory) -> None:
    rig = make_rig()
    pay(rig)
    rig.wait(lambda: rig.journey.screen.receipt is ReceiptState.PRINTED)  # type: ignore[union-attr]
    rig.printer.set_paper(PaperState.OUT)
    identify_again(rig)
    rig.journey.reprint_last_receipt()
    rig.wait(lambda: rig.journey.screen.reprint is ReceiptState.PAPER_OUT)  # type: ignore[union-attr]
    rig.printer.set_paper(PaperState.OK)
    rig.journey.reprint_last_receipt()
    rig.wait(lambda: rig.journey.screen.reprint is ReceiptState.PRINTED)  # type: ignore[union-attr]
    assert len(rig.printer.printed) == 2


def test_no_reprint_without_a_paid_payment_here(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.journey.card_inserted(NEW_HOUSE.card_id)
    overview = rig.wait_for(OverviewScreen)
    assert not overview.reprint_available
    rig.journey.reprint_last_receipt()  # nothing to reprint: nothing happens
    assert rig.journey.screen is overview and rig.printer.printed == []


def test_the_maintenance_menu_can_reprint_without_a_resident(make_rig: RigFactory) -> None:
    rig = make_rig()
    pay(rig)
    rig.wait(lambda: rig.journey.screen.receipt is ReceiptState.PRINTED)  # type: ignore[union-attr]
    tx = rig.store.last_for_house(MAIN_HOUSE.house_id)
    assert tx is not None
    record = reprint_receipt(store=rig.store, printer=rig.printer, translator=ZH, tx_id=tx.id)
    assert record.state is TxState.PAID
    again = rig.printer.wait_for_receipts(2)[1]
    assert tx.order_no and tx.order_no in again.text
    house = ZH.gettext("Building {building}, unit {unit}, room {room}").format(building=3, unit=2, room=501)
    assert house in again.text


def test_an_unpaid_transaction_has_nothing_to_reprint(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    rig.wait_for(OverviewScreen)
    rig.journey.quick_pay()
    rig.wait_for(PaymentScreen)
    tx = rig.store.last_for_house(MAIN_HOUSE.house_id)
    assert tx is not None
    with pytest.raises(NotReprintable):
        reprint_receipt(store=rig.store, printer=rig.printer, translator=ZH, tx_id=tx.id)
    rig.journey.cancel_payment()
