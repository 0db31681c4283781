"""Rewrites the settings block of docs/configuration.md from kiosk.config (run by `make config-doc`)."""

import re
from pathlib import Path

from kiosk.config import describe

doc = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
text = doc.read_text(encoding="utf-8")
block = "```toml\n" + describe() + "```"
doc.write_text(re.sub(r"```toml\n.*```", lambda _m: block, text, flags=re.S), encoding="utf-8")
