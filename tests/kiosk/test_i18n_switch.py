"""A resident's language switch lasts for their journey; the next resident starts in the terminal's language."""

from __future__ import annotations

from collections.abc import Callable

from journey_rig import Rig

from hq.seed import MAIN_HOUSE
from kiosk.screens import IdleScreen, OverviewScreen

RigFactory = Callable[..., Rig]


def test_the_next_resident_starts_in_the_terminals_language(make_rig: RigFactory) -> None:
    rig = make_rig()  # the terminal's language (ui.language) is English
    rig.journey.set_language("zh_CN")
    assert rig.journey.screen == IdleScreen(language="zh_CN")  # at once, on the idle screen
    rig.journey.card_inserted(MAIN_HOUSE.card_id)
    rig.wait_for(OverviewScreen)
    rig.journey.finish()
    screen = rig.journey.screen
    assert isinstance(screen, IdleScreen) and screen.language == "en"


def test_a_switch_on_the_idle_screen_stays_while_no_one_has_finished(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.journey.set_language("zh_CN")
    rig.journey.set_language("zh_CN")
    rig.journey.set_out_of_service(True)
    rig.journey.set_out_of_service(False)
    screen = rig.journey.screen
    assert isinstance(screen, IdleScreen) and screen.language == "zh_CN"
