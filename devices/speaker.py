"""The speaker: voice prompts spoken on one dedicated worker thread, a new prompt cutting off the old one.

`Speaker` holds the worker and the interrupt logic; an engine implements two primitives: `_synthesize` (text to
WAV bytes) and `_play` (play them, returning early once `cancel` is set). Speech never runs on the caller's
thread: `say` and `stop` only post to the worker and signal the prompt that is playing to stop.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import wave
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from devices.base import Device, DeviceState, ErrorAction

_log = logging.getLogger(__name__)

#: Settings are percentages of the engine's normal rate and volume.
MIN_PERCENT, MAX_PERCENT = 50, 200


class SpeakerError(Exception):
    """The engine is missing or failed; the message says what a technician should look at."""


@dataclass(frozen=True)
class Utterance:
    """One prompt: the words and the language they are in (a catalog language code, "zh_CN", "en")."""

    text: str
    language: str


class SpeechEvent(StrEnum):
    STARTED = "started"  # audio began to play
    FINISHED = "finished"  # played to the end
    INTERRUPTED = "interrupted"  # cut off by a newer prompt, `stop` or `close`
    FAILED = "failed"  # the engine failed; the device status says why


SpeechListener = Callable[[SpeechEvent, Utterance, float], None]


class SpeechLog:
    """A speech listener that keeps every event, and lets another thread wait for one (tests, benchmarks)."""

    def __init__(self) -> None:
        self.seen: list[tuple[SpeechEvent, Utterance, float]] = []
        self._changed = threading.Condition()

    def __call__(self, event: SpeechEvent, utterance: Utterance, at: float) -> None:
        with self._changed:
            self.seen.append((event, utterance, at))
            self._changed.notify_all()

    def wait_for(self, event: SpeechEvent, text: str | None = None, timeout: float = 10.0) -> tuple[Utterance, float]:
        """The first `event` (of `text`, if given) and when it happened; AssertionError after `timeout`."""

        def found() -> tuple[Utterance, float] | None:
            return next(((u, at) for e, u, at in self.seen if e is event and text in (None, u.text)), None)

        with self._changed:
            assert self._changed.wait_for(lambda: found() is not None, timeout), f"no {event}; saw {self.seen}"
            result = found()
            assert result is not None
            return result

    def wait_count(self, event: SpeechEvent, text: str, count: int, timeout: float = 10.0) -> None:
        """Until `event` happened `count` times to `text`; AssertionError after `timeout`."""
        with self._changed:
            assert self._changed.wait_for(lambda: self.texts(event).count(text) >= count, timeout), self.seen

    def texts(self, event: SpeechEvent) -> list[str]:
        with self._changed:
            return [u.text for e, u, _ in self.seen if e is event]


@dataclass(frozen=True)
class WavInfo:
    """What a rendered prompt sounds like, in figures: its length and loudness."""

    duration_s: float
    rms: float  # root mean square of the samples, 0..1 of full scale

    @property
    def silent(self) -> bool:
        return self.rms < 0.01


def wav_duration(data: bytes) -> float:
    """Seconds of audio in WAV bytes, from the samples present (espeak-ng's `--stdout` header gives no length)."""
    with wave.open(io.BytesIO(data)) as wav:
        frames = wav.readframes(wav.getnframes())
        size, rate = wav.getsampwidth() * wav.getnchannels(), wav.getframerate()
    return len(frames) / size / rate if size and rate else 0.0


def wav_info(data: bytes) -> WavInfo:
    """Length and loudness of 16-bit PCM WAV bytes (espeak-ng's output)."""
    with wave.open(io.BytesIO(data)) as wav:
        frames = wav.readframes(wav.getnframes())
        rate, width = wav.getframerate(), wav.getsampwidth()
    if width != 2:
        raise ValueError(f"expected 16-bit samples, got {width * 8}-bit")
    count = len(frames) // 2
    # Loudness from every fourth sample: the same figure for speech at 22 kHz, for a quarter of a pure-Python pass.
    samples = memoryview(frames[: count * 2]).cast("h")[::4]
    total = sum(s * s for s in samples)
    rms = (total / len(samples)) ** 0.5 / 32768 if len(samples) else 0.0
    return WavInfo(duration_s=count / rate if rate else 0.0, rms=rms)


class Speaker(Device):
    """Speaks one prompt at a time on its own thread; a new prompt, `stop` or `close` interrupts the current one."""

    kind = "speaker"

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Condition()
        self._pending: Utterance | None = None
        self._cancel = threading.Event()  # set to cut off the prompt that is playing now
        self._thread: threading.Thread | None = None
        self._closing = False
        self._rate = 100
        self._volume = 100
        self._listeners: list[SpeechListener] = []
        self._speaking = False

    # -- the caller's side (any thread, never blocks on audio) --

    def open(self) -> None:
        try:
            self._check()
        except SpeakerError as exc:
            _log.warning("speaker unavailable: %s", exc)
            self._set_status(state=DeviceState.NO_DEVICE, last_error=str(exc), action=ErrorAction.MAINTENANCE)
            return
        with self._lock:
            if self._thread is not None:
                return
            self._closing = False
            self._thread = threading.Thread(target=self._run, name=f"{self.kind}-worker", daemon=True)
            self._thread.start()
        self._set_status(state=DeviceState.ONLINE, last_error=None, action=ErrorAction.NONE)

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            self._closing = True
            self._pending = None
            self._cancel.set()
            self._lock.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)
        self._set_status(state=DeviceState.OFFLINE)

    def say(self, text: str, language: str) -> None:
        """Speak `text` as soon as the prompt playing now has been cut off; earlier pending prompts are dropped."""
        with self._lock:
            if self._thread is None:
                return  # no engine: the terminal works on without voice; the status reports the fault
            self._pending = Utterance(text, language)
            self._cancel.set()
            self._lock.notify_all()

    def stop(self) -> None:
        """Cut off the prompt playing now and forget any pending one (a touch, the end of a journey)."""
        with self._lock:
            self._pending = None
            self._cancel.set()

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def rate(self) -> int:
        return self._rate

    @property
    def volume(self) -> int:
        return self._volume

    def set_rate(self, percent: int) -> None:
        """Speech rate in percent of normal (50..200); applies from the next prompt."""
        self._rate = _clamp(percent)

    def set_volume(self, percent: int) -> None:
        """Volume in percent of normal (50..200); applies from the next prompt."""
        self._volume = _clamp(percent)

    def add_speech_listener(self, listener: SpeechListener) -> None:
        """`listener(event, utterance, monotonic_time)` is called on the speaker's thread."""
        self._listeners.append(listener)

    def render(self, text: str, language: str) -> bytes:
        """The prompt as WAV bytes, at the current rate and volume, without playing it (checks, tests)."""
        return self._synthesize(Utterance(text, language), self._rate, self._volume)

    # -- the worker --

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._pending is None and not self._closing:
                    self._lock.wait()
                if self._closing or self._pending is None:
                    return
                utterance, self._pending = self._pending, None
                self._cancel.clear()
            self._speak(utterance)

    def _speak(self, utterance: Utterance) -> None:
        try:
            audio = self._synthesize(utterance, self._rate, self._volume)
            if self._cancel.is_set():
                self._emit(SpeechEvent.INTERRUPTED, utterance)
                return
            self._speaking = True
            self._emit(SpeechEvent.STARTED, utterance)
            self._play(utterance, audio, self._cancel)
        except SpeakerError as exc:
            _log.error("speech failed: %s", exc)
            self._set_status(state=DeviceState.HARDWARE_ERROR, last_error=str(exc), action=ErrorAction.MAINTENANCE)
            self._emit(SpeechEvent.FAILED, utterance)
            return
        finally:
            self._speaking = False
        if self.status.state is not DeviceState.ONLINE:
            self._set_status(state=DeviceState.ONLINE, last_error=None, action=ErrorAction.NONE)
        self._emit(SpeechEvent.INTERRUPTED if self._cancel.is_set() else SpeechEvent.FINISHED, utterance)

    def _emit(self, event: SpeechEvent, utterance: Utterance) -> None:
        at = time.monotonic()
        for listener in list(self._listeners):
            try:
                listener(event, utterance, at)
            except Exception:
                _log.exception("speech listener failed")

    # -- the engine's primitives --

    @abstractmethod
    def _check(self) -> None:
        """Raise SpeakerError when the engine or the audio output is missing."""

    @abstractmethod
    def _synthesize(self, utterance: Utterance, rate: int, volume: int) -> bytes:
        """The utterance as WAV bytes; raise SpeakerError on failure."""

    @abstractmethod
    def _play(self, utterance: Utterance, audio: bytes, cancel: threading.Event) -> None:
        """Play the utterance's WAV bytes; return soon after `cancel` is set; raise SpeakerError on failure."""


def _clamp(percent: int) -> int:
    return max(MIN_PERCENT, min(MAX_PERCENT, int(percent)))
