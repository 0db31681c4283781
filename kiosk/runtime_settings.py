"""Settings staff may change at the terminal, and how those changes sit on top of the configuration file.

A change made in the maintenance menu is validated like the file (`Config.with_changes`) and against the range
the menu offers, applied at once, and kept in the database (`terminal_overrides`, key `settings`), so it outlives
a restart. At start the overrides are laid over the file; one that no longer validates (the file changed) is
skipped with a warning. "Reset to the file" drops them all. The file itself is never rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.config import LANGUAGES, Config, ConfigError

SETTINGS_KEY = "settings"
OUT_OF_SERVICE_KEY = "out_of_service"


@dataclass(frozen=True)
class Editable:
    """One setting the menu offers: a whole number stepped within a range, or one of a few choices."""

    key: str  # "section.name"
    minimum: int = 0
    maximum: int = 0
    step: int = 1
    choices: tuple[str, ...] = ()

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    def problem(self, value: Any) -> str | None:
        if self.choices:
            return None if value in self.choices else f"{self.key} must be one of {', '.join(self.choices)}"
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{self.key} must be a whole number"
        if not self.minimum <= value <= self.maximum:
            return f"{self.key} must be between {self.minimum} and {self.maximum}"
        return None


EDITABLE: tuple[Editable, ...] = (
    Editable("speech.volume_pct", 50, 200, 10),
    Editable("speech.rate_pct", 50, 200, 10),
    Editable("ui.language", choices=LANGUAGES),
    Editable("ui.mode", choices=("standard", "elderly")),
    Editable("ui.inactivity_s", 20, 600, 10),
    Editable("ui.warning_s", 20, 120, 5),
    Editable("ui.result_s", 10, 120, 5),
    Editable("payment.countdown_s", 60, 600, 30),
)
_BY_KEY = {e.key: e for e in EDITABLE}


def editable(key: str) -> Editable:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise ConfigError(f"{key} cannot be changed at the terminal") from None


def value_of(config: Config, key: str) -> Any:
    item = editable(key)
    return getattr(getattr(config, item.section), item.name)


def with_value(config: Config, key: str, value: Any) -> Config:
    """`config` with one setting changed; ConfigError when the value is outside the menu's range or the file's
    rules."""
    item = editable(key)
    problem = item.problem(value)
    if problem:
        raise ConfigError(problem)
    return config.with_changes(item.section, **{item.name: value})


def apply_overrides(config: Config, overrides: Mapping[str, Any]) -> tuple[Config, dict[str, Any], list[str]]:
    """Lay the saved overrides over `config`: the result, the overrides applied, and a problem per one skipped."""
    applied: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in sorted(overrides.items()):
        try:
            config = with_value(config, key, value)
        except ConfigError as exc:
            problems.append(f"setting changed at the terminal not applied: {exc}")
            continue
        applied[key] = value
    return config, applied, problems
