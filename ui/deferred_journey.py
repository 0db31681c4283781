"""A stand-in for the journey while the core is still being built, so the idle screen paints first.

The window is built against this object. Until `attach` hands it the real `Journey`, it shows the idle screen and
ignores touches; afterwards it forwards every call and every listener. The core (SQLAlchemy, requests, device
drivers, recovery of interrupted payments) takes most of a cold start, and a resident can read the welcome
screen meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.screens import IdleScreen, Mode, Screen
from ui.journey_api import JourneyApi


class DeferredJourney:
    """Implements the JourneyApi by forwarding to the real journey once it is attached."""

    def __init__(self, language: str, mode: Mode = Mode.STANDARD) -> None:
        self._real: JourneyApi | None = None
        self._idle = IdleScreen(language=language)
        self._mode = mode
        self._screen_listeners: list[Callable[[Screen], None]] = []
        self._warning_listeners: list[Callable[[int | None], None]] = []

    @property
    def ready(self) -> bool:
        return self._real is not None

    def attach(self, journey: JourneyApi) -> None:
        """Hand over to the real journey: it gets every listener and its screen is shown."""
        self._real = journey
        for screen_listener in self._screen_listeners:
            journey.add_screen_listener(screen_listener)
        for warning_listener in self._warning_listeners:
            journey.add_time_warning_listener(warning_listener)
        for screen_listener in self._screen_listeners:
            screen_listener(journey.screen)

    @property
    def screen(self) -> Screen:
        return self._real.screen if self._real else self._idle

    @property
    def mode(self) -> Mode:
        return self._real.mode if self._real else self._mode

    def add_screen_listener(self, cb: Callable[[Screen], None]) -> None:
        self._screen_listeners.append(cb)
        if self._real:
            self._real.add_screen_listener(cb)

    def add_time_warning_listener(self, cb: Callable[[int | None], None]) -> None:
        self._warning_listeners.append(cb)
        if self._real:
            self._real.add_time_warning_listener(cb)

    # Resident actions: nothing to do until the core is there (a fraction of a second after the first paint).
    def start(self) -> None:
        if self._real:
            self._real.start()

    def card_inserted(self, card_id: str) -> None:
        if self._real:
            self._real.card_inserted(card_id)

    def qr_scanned(self, payload: str) -> None:
        if self._real:
            self._real.qr_scanned(payload)

    def enter_house_number(self) -> None:
        if self._real:
            self._real.enter_house_number()

    def submit_house_number(self, building: str, unit: str, room: str) -> None:
        if self._real:
            self._real.submit_house_number(building, unit, room)

    def select_meter(self, meter_id: str) -> None:
        if self._real:
            self._real.select_meter(meter_id)

    def quick_pay(self) -> None:
        if self._real:
            self._real.quick_pay()

    def other_amount(self) -> None:
        if self._real:
            self._real.other_amount()

    def choose_amount(self, amount_fen: int) -> None:
        if self._real:
            self._real.choose_amount(amount_fen)

    def reprint_last_receipt(self) -> None:
        if self._real:
            self._real.reprint_last_receipt()

    def cancel_payment(self) -> None:
        if self._real:
            self._real.cancel_payment()

    def back(self) -> None:
        if self._real:
            self._real.back()

    def finish(self) -> None:
        if self._real:
            self._real.finish()

    def user_activity(self) -> None:
        if self._real:
            self._real.user_activity()

    def more_time(self) -> None:
        if self._real:
            self._real.more_time()

    def set_language(self, language: str) -> None:
        if self._real:
            self._real.set_language(language)

    def set_mode(self, mode: Mode) -> None:
        if self._real:
            self._real.set_mode(mode)
