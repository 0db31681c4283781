"""The payment status long poll: on a thread and client of its own, it never holds up the journey's other HQ calls
nor another poll, and a payment on the phone shows as soon as HQ has it, not at the next poll."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from journey_rig import Rig, pay_in_sandbox

from hq.context import hq_context
from hq.seed import MAIN_HOUSE
from hq.server import HqServer
from kiosk.domain import OrderStatus
from kiosk.hq_client import HqClient, new_idempotency_key
from kiosk.screens import Outcome, OverviewScreen, PaymentScreen, ResultScreen
from kiosk.signing import TerminalSigner
from kiosk.tasks import ManualLoop, Runner
from offline_queue.states import TxState

RigFactory = Callable[..., Rig]
SLOW_POLLS = {"poll_interval_s": 30.0}  # a payment seen within seconds cannot have come from a 30 s poll


def to_payment(rig: Rig) -> PaymentScreen:
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    rig.wait_for(OverviewScreen)
    rig.journey.quick_pay()
    return rig.wait_for(PaymentScreen)  # type: ignore[no-any-return]


def waiting_at_hq(hq_server: HqServer, order_no: str) -> int:
    assert hq_server.app is not None
    return hq_context(hq_server.app).watch.waiting(order_no)


def until_waiting(rig: Rig, hq_server: HqServer, order_no: str) -> None:
    """Run the journey's loop until its long poll for `order_no` waits at HQ."""
    rig.drain()  # runs what is due: the timer that sends the status check
    deadline = time.monotonic() + 5
    while not waiting_at_hq(hq_server, order_no):
        assert time.monotonic() < deadline, "the journey's long poll never reached HQ"
        time.sleep(0.005)


def test_a_cancel_is_not_delayed_by_a_long_poll_in_flight(make_rig: RigFactory, hq_server: HqServer) -> None:
    rig = make_rig(payment={**SLOW_POLLS, "long_poll_s": 20})
    payment = to_payment(rig)
    until_waiting(rig, hq_server, payment.order_no)  # a 20 s status check is waiting at HQ
    start = time.monotonic()
    rig.journey.cancel_payment()
    result = rig.wait_for(ResultScreen, timeout=5)
    took = time.monotonic() - start
    assert result.outcome is Outcome.CANCELLED
    assert took < 3, f"the cancel took {took:.1f} s: it waited for the long poll"
    record = rig.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and record.state is TxState.CANCELLED  # the worker's outcome, not the poll's
    rig.loop.run_until(lambda: not waiting_at_hq(hq_server, payment.order_no))  # the cancel ended the wait at HQ


def test_a_payment_on_the_phone_shows_at_once(make_rig: RigFactory, hq_server: HqServer) -> None:
    rig = make_rig(payment={**SLOW_POLLS, "long_poll_s": 20})
    payment = to_payment(rig)
    until_waiting(rig, hq_server, payment.order_no)
    start = time.monotonic()
    paid = pay_in_sandbox(payment.pay_url)
    result = rig.wait_for(ResultScreen, timeout=5)
    took = time.monotonic() - start
    assert result.outcome is Outcome.PAID and result.new_balance_fen == paid["new_balance_fen"]
    assert took < 3, f"the payment showed after {took:.1f} s"
    record = rig.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and record.state is TxState.PAID
    [receipt] = rig.printer.wait_for_receipts(1)
    assert payment.order_no in receipt.text


def test_polls_every_interval_without_the_long_poll(make_rig: RigFactory, hq_server: HqServer) -> None:
    rig = make_rig(payment={"long_poll_s": 0})
    payment = to_payment(rig)
    pay_in_sandbox(payment.pay_url)
    assert rig.wait_for(ResultScreen).outcome is Outcome.PAID
    assert waiting_at_hq(hq_server, payment.order_no) == 0


def test_the_next_journey_is_not_held_up_by_the_last_ones_poll(make_rig: RigFactory, hq_server: HqServer) -> None:
    """A journey ends (cancelled) while its long poll waits; HQ answers that poll at the cancel, so the next
    resident's status checks are not queued behind a stale one, and its answer changes nothing."""
    rig = make_rig(payment={**SLOW_POLLS, "long_poll_s": 20})
    first = to_payment(rig)
    until_waiting(rig, hq_server, first.order_no)
    rig.journey.cancel_payment()
    assert rig.wait_for(ResultScreen).outcome is Outcome.CANCELLED
    rig.journey.finish()
    second = to_payment(rig)
    until_waiting(rig, hq_server, second.order_no)
    pay_in_sandbox(second.pay_url)
    result = rig.wait_for(ResultScreen, timeout=5)
    assert result.outcome is Outcome.PAID and result.order_no == second.order_no


def test_the_client_long_poll_is_signed_and_outlasts_the_read_timeout() -> None:
    """`HqClient.order(wait_s=...)`: signed with its query (HQ requiring signatures takes it), and given wait_s more
    than the read timeout, so a wait longer than the read timeout is no failure."""
    with HqServer(require_signatures=True) as strict:
        client = HqClient(strict.base_url, 1.0, 0.5, signer=TerminalSigner("T-LP", strict.register_terminal("T-LP")))
        try:
            order = client.create_order(idempotency_key=new_idempotency_key(), terminal_id="T-LP",
                                        house_id=MAIN_HOUSE.house_id, meter_id=MAIN_HOUSE.lighting_meter_id,
                                        amount_fen=2000)
            start = time.monotonic()
            answer = client.order(order.order_no, wait_s=1.5, seen=OrderStatus.AWAITING_PAYMENT)
            took = time.monotonic() - start
        finally:
            client.close()
    assert answer.status is OrderStatus.AWAITING_PAYMENT and answer.order_no == order.order_no
    assert 1.4 <= took < 4.0  # it waited at HQ, three times the read timeout


def test_a_status_check_stuck_on_a_dead_connection_holds_up_no_other() -> None:
    """The watch lane runs each piece of work on a thread of its own: a long poll that never gets an answer (a
    half-open connection until its read timeout) does not delay the next payment's check."""
    loop = ManualLoop()
    runner = Runner(loop.dispatch, lanes=(), detached=("watch",))
    stuck, results = threading.Event(), []
    try:
        runner.submit("watch", lambda: stuck.wait(30), results.append, results.append)
        runner.submit("watch", lambda: "next", results.append, results.append)
        loop.run_until(lambda: results, 5)
        assert results == ["next"]
    finally:
        stuck.set()
        runner.shutdown()
