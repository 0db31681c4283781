"""Rewrites the settings block of docs/configuration.md and deploy/kiosk.example.toml from kiosk.config
(run by `make config-doc`; tests fail when either is out of date)."""

import re
from pathlib import Path

from kiosk.config import describe

root = Path(__file__).resolve().parents[1]
doc = root / "docs" / "configuration.md"
text = doc.read_text(encoding="utf-8")
block = "```toml\n" + describe() + "```"
doc.write_text(re.sub(r"```toml\n.*```", lambda _m: block, text, flags=re.S), encoding="utf-8")
(root / "deploy" / "kiosk.example.toml").write_text(describe(), encoding="utf-8")
