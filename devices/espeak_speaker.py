"""Speakers driven by espeak-ng directly: synthesis to WAV by the `espeak-ng` command, then playback.

pyttsx3 is not used: its `runAndWait` blocks and is not re-entrant, and 2.99 speaks only the first utterance;
a command per prompt is simple to interrupt (terminate the player) and to render to a file for checks.

- `EspeakSpeaker` (`espeak:`, `espeak:?player=paplay`) plays through a player command reading WAV on stdin.
- `SimulatedSpeaker` (`sim:`) synthesizes with the real engine and "plays" into a virtual output that takes the
  audio's duration (divided by `speed`) and keeps what was said, for the demo panel and the tests.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections import deque
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from devices.speaker import Speaker, SpeakerError, Utterance, wav_duration

#: espeak-ng voice per catalog language; another language uses its own code (espeak-ng knows "ug", "ar", ...).
VOICES = {"zh": "cmn-latn-pinyin", "en": "en-us"}
NORMAL_WPM = 150  # words a minute at rate 100 %; espeak-ng's 175 is quick for an elderly listener
NORMAL_AMPLITUDE = 100  # espeak-ng amplitude (0..200) at volume 100 %
_SYNTH_TIMEOUT_S = 10.0


def voice_for(language: str) -> str:
    family = language.replace("-", "_").split("_")[0].lower()
    return VOICES.get(family, family)


class EspeakEngine:
    """The `espeak-ng` command: text in, 16-bit mono WAV bytes out."""

    def __init__(self, command: str = "espeak-ng") -> None:
        self.command = command

    def check(self) -> None:
        if shutil.which(self.command) is None:
            raise SpeakerError(f"speech engine {self.command!r} not found; install the espeak-ng package")

    def synthesize(self, utterance: Utterance, rate: int, volume: int) -> bytes:
        args = [
            self.command, "--stdout", "-v", voice_for(utterance.language),
            "-s", str(round(NORMAL_WPM * rate / 100)), "-a", str(min(200, round(NORMAL_AMPLITUDE * volume / 100))),
            "--", utterance.text,
        ]
        try:
            done = subprocess.run(args, capture_output=True, timeout=_SYNTH_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SpeakerError(f"espeak-ng failed: {exc}") from exc
        if done.returncode != 0 or not done.stdout:
            detail = done.stderr.decode(errors="replace").strip()[:200]
            raise SpeakerError(f"espeak-ng exited with {done.returncode}: {detail}")
        return done.stdout


class EspeakSpeaker(Speaker):
    """espeak-ng synthesis played through a player command (`aplay -q -` by default)."""

    def __init__(self, engine: EspeakEngine | None = None, player: tuple[str, ...] = ("aplay", "-q", "-")) -> None:
        super().__init__()
        self._engine = engine or EspeakEngine()
        self._player = player

    @classmethod
    def from_url(cls, url: str) -> EspeakSpeaker:
        parts = urlsplit(url)
        if parts.netloc or parts.path:
            raise ValueError(f"speaker URL {url!r} takes no path; use espeak: or espeak:?player=paplay")
        options = dict(parse_qsl(parts.query))
        unknown = set(options) - {"player"}
        if unknown:
            raise ValueError(f"unknown speaker option {sorted(unknown)[0]!r}; accepted: player")
        player = options.get("player", "aplay")
        players = {"aplay": ("aplay", "-q", "-"), "paplay": ("paplay",), "pw-play": ("pw-play", "-")}
        if player not in players:
            raise ValueError(f"speaker player must be one of {', '.join(players)}, not {player!r}")
        return cls(player=players[player])

    def _check(self) -> None:
        self._engine.check()
        if shutil.which(self._player[0]) is None:
            raise SpeakerError(f"audio player {self._player[0]!r} not found")

    def _synthesize(self, utterance: Utterance, rate: int, volume: int) -> bytes:
        return self._engine.synthesize(utterance, rate, volume)

    def _play(self, utterance: Utterance, audio: bytes, cancel: threading.Event) -> None:
        try:
            player = subprocess.Popen(self._player, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            raise SpeakerError(f"audio player failed to start: {exc}") from exc
        feeder = threading.Thread(target=_feed, args=(player, audio), name="speaker-feed", daemon=True)
        feeder.start()
        while player.poll() is None:
            if cancel.wait(0.01):
                player.terminate()
                break
        player.wait()
        feeder.join(1.0)
        stderr = player.stderr.read() if player.stderr else b""
        if player.returncode not in (0, -15) and not cancel.is_set():
            detail = stderr.decode(errors="replace").strip().splitlines()
            raise SpeakerError(f"audio output failed: {detail[-1] if detail else player.returncode}")


def _feed(player: subprocess.Popen[bytes], audio: bytes) -> None:
    assert player.stdin is not None
    try:
        player.stdin.write(audio)
        player.stdin.close()
    except (BrokenPipeError, OSError):
        pass  # the player was cut off or failed; its exit status tells which


@dataclass(frozen=True)
class SpokenPrompt:
    """What the simulated speaker played: the words, the language and how long the audio lasts."""

    text: str
    language: str
    duration_s: float
    interrupted: bool


class SimulatedSpeaker(Speaker):
    """Real synthesis into a virtual audio output that plays for the audio's duration / `speed`."""

    def __init__(self, engine: EspeakEngine | None = None, speed: float = 1.0, keep: int = 200) -> None:
        super().__init__()
        self._engine = engine or EspeakEngine()
        self.speed = speed
        self._spoken: deque[SpokenPrompt] = deque(maxlen=keep)
        self._spoken_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> SimulatedSpeaker:
        parts = urlsplit(url)
        if parts.netloc or parts.path:
            raise ValueError(f"simulated speaker URL {url!r} takes no path; use sim: or sim:?speed=10")
        options = dict(parse_qsl(parts.query))
        unknown = set(options) - {"speed"}
        if unknown:
            raise ValueError(f"unknown speaker option {sorted(unknown)[0]!r}; accepted: speed")
        try:
            speed = float(options.get("speed", "1"))
        except ValueError:
            raise ValueError(f"speaker speed must be a number, not {options['speed']!r}") from None
        if not 0.1 <= speed <= 1000:
            raise ValueError("speaker speed must be between 0.1 and 1000")
        return cls(speed=speed)

    def spoken(self) -> list[SpokenPrompt]:
        """Every prompt played so far (the newest last), interrupted ones included."""
        with self._spoken_lock:
            return list(self._spoken)

    def _check(self) -> None:
        self._engine.check()

    def _synthesize(self, utterance: Utterance, rate: int, volume: int) -> bytes:
        return self._engine.synthesize(utterance, rate, volume)

    def _play(self, utterance: Utterance, audio: bytes, cancel: threading.Event) -> None:
        duration = wav_duration(audio)  # no Python pass over the samples (wav_info's loudness) before "playing"
        interrupted = cancel.wait(duration / self.speed)
        with self._spoken_lock:
            self._spoken.append(SpokenPrompt(utterance.text, utterance.language, duration, interrupted))
