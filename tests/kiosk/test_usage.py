"""The journey's counts for HQ: journeys by entry with their time, languages, modes and results."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from journey_rig import Rig, pay_in_sandbox

from hq.seed import MAIN_HOUSE
from kiosk.screens import HouseNumberScreen, OverviewScreen, PaymentScreen, ResultScreen
from kiosk.usage import UsageCounter, UsageTotals


def test_counts_and_times_with_a_stepped_clock() -> None:
    clock = [100.0]
    usage = UsageCounter(lambda: datetime(2026, 11, 22, tzinfo=UTC), lambda: clock[0])
    usage.journey_started("card", "zh_CN", "elderly")
    clock[0] += 12.5
    usage.journey_ended("paid")
    usage.journey_ended("unknown")  # a later result of the same journey is not counted
    baseline = usage.totals()
    usage.journey_started("bill", "en", "standard")
    clock[0] += 4.0
    usage.journey_started("card", "en", "standard")  # a new journey ends the one under way as left
    usage.journey_closed()
    report = usage.totals().since(baseline).report()
    assert report == {
        "languages": {"en": 2}, "modes": {"standard": 2}, "results": {"left": 2},
        "entries": {"bill": {"journeys": 1, "paid": 0, "seconds": 4.0},
                    "card": {"journeys": 1, "paid": 0, "seconds": 0.0}},
    }
    assert baseline.since(UsageTotals()).report()["entries"] == {"card": {"journeys": 1, "paid": 1, "seconds": 12.5}}
    last = usage.last
    assert last is not None and (last.entry, last.result) == ("card", "left")


def test_a_journey_that_takes_up_its_cards_mode_is_counted_in_that_mode() -> None:
    usage = UsageCounter(lambda: datetime(2026, 11, 22, tzinfo=UTC), lambda: 0.0)
    usage.mode_changed("standard", "elderly")  # no journey under way: nothing to move
    usage.journey_started("card", "zh_CN", "standard")
    usage.mode_changed("standard", "elderly")
    assert usage.totals().report()["modes"] == {"elderly": 1}


def test_the_journey_counts_itself(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    rig.wait_for(OverviewScreen)
    rig.journey.quick_pay()
    payment = rig.wait_for(PaymentScreen)
    pay_in_sandbox(payment.pay_url)
    rig.wait_for(ResultScreen)
    rig.journey.finish()
    rig.journey.enter_house_number()
    rig.journey.submit_house_number("9", "9", "999")
    rig.wait(lambda: getattr(rig.journey.screen, "notice", None) is not None)
    assert isinstance(rig.journey.screen, HouseNumberScreen)
    rig.journey.finish()
    totals = rig.journey.usage.totals()
    assert dict(totals.journeys) == {"card": 1, "house_number": 1}
    assert dict(totals.paid) == {"card": 1}
    assert dict(totals.results) == {"paid": 1, "left": 1}
    assert dict(totals.languages) == {"en": 2} and dict(totals.modes) == {"standard": 2}
    assert totals.seconds["card"] > 0
