"""The voice guide: speaks each screen's prompt (kiosk/prompts.py) through the speaker, as the mode wants.

Elderly mode speaks every screen by itself; standard mode speaks what a resident asks for with the repeat button
(`speech.standard_mode = "on_request"`), every screen (`"always"`) or nothing (`"off"`). A new screen interrupts
the prompt being spoken, a touch silences it, and the end of a journey (back to the idle screen) silences it and
puts the volume and speed back to the configured ones.

Runs on the GUI thread like the journey it listens to, and only posts to the speaker, whose own worker thread
synthesises and plays: nothing here waits for audio.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from devices.base import DeviceState
from devices.speaker import Speaker
from kiosk.clock import utc_now
from kiosk.config import Config
from kiosk.i18n import current
from kiosk.prompts import Prompt, news, prompt_for, warning_prompt
from kiosk.screens import IdleScreen, LoadingScreen, Mode, OutOfServiceScreen, Screen
from kiosk.tasks import Dispatch, TimerHandle, Timers

log = logging.getLogger(__name__)

#: A loading screen is spoken only when it lasts this long: HQ usually answers first, and a prompt cut off after
#: half a word is worse than none.
LOADING_DELAY_S = 0.8


class StandardVoice(StrEnum):
    """`speech.standard_mode`: when standard mode speaks."""

    ON_REQUEST = "on_request"
    ALWAYS = "always"
    OFF = "off"


class VoicedJourney(Protocol):
    """What the guide needs of the journey (kiosk.journey.Journey)."""

    @property
    def screen(self) -> Screen: ...
    @property
    def mode(self) -> Mode: ...
    def add_screen_listener(self, listener: Callable[[Screen], None]) -> None: ...
    def add_time_warning_listener(self, listener: Callable[[int | None], None]) -> None: ...


def _at_rest(screen: Screen) -> bool:
    return isinstance(screen, IdleScreen | OutOfServiceScreen)


class VoiceGuide:
    """Chooses what to say and when; `speaker` None means a terminal configured without voice (`none:`)."""

    def __init__(
        self,
        speaker: Speaker | None,
        journey: VoicedJourney,
        config: Config,
        timers: Timers,
        dispatch: Dispatch,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._speaker = speaker
        self._journey = journey
        self._timers = timers
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []
        self._screen = journey.screen
        self._mode = journey.mode
        self._language = current().language
        self._warning: int | None = None
        self._delayed: TimerHandle | None = None
        self.last_prompt: Prompt | None = None  # the newest prompt handed to the speaker
        self.last_touch: float | None = None  # time.monotonic() of the newest touch, for latency figures
        self.apply_config(config)
        journey.add_screen_listener(self._screen_shown)
        journey.add_time_warning_listener(self._time_warning)
        if speaker is not None:
            # Status comes on the speaker's (or the opener's) thread: listeners hear of it on the GUI thread.
            speaker.add_status_listener(lambda _status: dispatch(self._tell))

    # ---- state -----------------------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """A speaker is configured and working (its status says so)."""
        return self._speaker is not None and self._speaker.status.state is DeviceState.ONLINE

    @property
    def speaks_by_itself(self) -> bool:
        return self._journey.mode is Mode.ELDERLY or self._standard is StandardVoice.ALWAYS

    @property
    def offers_repeat(self) -> bool:
        """Whether the "Say it again" button is shown: a working speaker, and a mode that lets residents ask."""
        wanted = self._journey.mode is Mode.ELDERLY or self._standard is not StandardVoice.OFF
        return wanted and self.available

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Called on the GUI thread whenever `offers_repeat` may have changed (mode, screen, speaker status)."""
        self._listeners.append(listener)

    def prompt(self) -> Prompt:
        """What the current screen says now (the time-out question while it is asked)."""
        if self._warning is not None:
            return warning_prompt(self._warning)
        return prompt_for(self._journey.screen, self._journey.mode, self._clock())

    # ---- what residents and staff do -------------------------------------------------------------------

    def repeat(self) -> None:
        """The repeat button: say the current screen's prompt again, from the start."""
        if self._standard is StandardVoice.OFF and self._journey.mode is not Mode.ELDERLY:
            return
        self._say(self.prompt())

    def touched(self) -> None:
        """Any touch: silence the prompt being spoken (cheap: the speaker only sets an event)."""
        self.last_touch = time.monotonic()
        self._cancel_delayed()
        if self._speaker is not None:
            self._speaker.stop()

    def set_volume(self, percent: int) -> None:
        """Louder or softer for this journey; back to the configured volume when it ends."""
        if self._speaker is not None:
            self._speaker.set_volume(percent)

    def set_rate(self, percent: int) -> None:
        """Slower or faster for this journey; back to the configured speed when it ends."""
        if self._speaker is not None:
            self._speaker.set_rate(percent)

    def apply_config(self, config: Config) -> None:
        """Settings changed (the maintenance menu, HQ's reload): used from now on and after every journey."""
        speech = config.speech
        self._volume, self._rate = speech.volume_pct, speech.rate_pct
        self._standard = StandardVoice(speech.standard_mode)
        self._reset_voice()
        self._tell()

    # ---- the journey's side ----------------------------------------------------------------------------

    def _screen_shown(self, screen: Screen) -> None:
        old, self._screen = self._screen, screen
        old_mode, mode, language = self._mode, self._journey.mode, current().language
        switched = mode is not old_mode or language != self._language
        self._mode, self._language = mode, language
        self._warning = None
        self._cancel_delayed()
        ended = _at_rest(screen) and not _at_rest(old)
        if ended:
            self._journey_ended()
        if switched or type(old) is not type(screen):
            self._tell()
        now = self._clock()
        if ended:
            # Nobody needs the welcome read out after a journey, unless it brings news (a card not known) to the
            # resident still standing there: in the mode they were in, since the journey's end resets the mode.
            if isinstance(screen, IdleScreen) and screen.notice is not None and (
                self.speaks_by_itself or old_mode is Mode.ELDERLY
            ):
                self._say(prompt_for(screen, old_mode if old_mode is Mode.ELDERLY else mode, now))
            return
        if not self.speaks_by_itself:
            if switched and self._speaker is not None:
                self._speaker.stop()  # elderly mode turned off: its prompt goes with it
            return
        # Switched: the whole screen again, in the new mode or language.
        prompt = prompt_for(screen, mode, now) if switched else news(old, screen, mode, now)
        if prompt is None:
            return
        if isinstance(screen, LoadingScreen):
            self._delayed = self._timers.call_later(LOADING_DELAY_S, lambda: self._say_if_still(screen, prompt))
        else:
            self._say(prompt)

    def _time_warning(self, seconds: int | None) -> None:
        first = seconds is not None and self._warning is None
        self._warning = seconds
        if first and seconds is not None and self.speaks_by_itself:
            self._say(warning_prompt(seconds))

    def _journey_ended(self) -> None:
        if self._speaker is not None:
            self._speaker.stop()
        self._reset_voice()

    # ---- speaking ----------------------------------------------------------------------------------------

    def _say(self, prompt: Prompt) -> None:
        self.last_prompt = prompt
        if self._speaker is not None and prompt.sentences:
            self._speaker.say(prompt.text, prompt.language)

    def _say_if_still(self, screen: Screen, prompt: Prompt) -> None:
        self._delayed = None
        if self._journey.screen is screen:
            self._say(prompt)

    def _cancel_delayed(self) -> None:
        if self._delayed is not None:
            self._delayed.cancel()
            self._delayed = None

    def _reset_voice(self) -> None:
        if self._speaker is not None:
            self._speaker.set_volume(self._volume)
            self._speaker.set_rate(self._rate)

    def _tell(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a broken listener must not stop speech nor the journey
                log.exception("voice listener failed")
