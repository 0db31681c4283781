"""Shared test set-up: Qt runs headless. Set here, before any test module imports Qt."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
