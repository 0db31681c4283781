"""Device adapters (card reader, QR scanner, receipt printer) and their simulators.

Nothing here imports the kiosk core or Qt: adapters report through plain callbacks.
"""

import os
from pathlib import Path

import platformdirs

# python-escpos caches its parsed printer database in a fresh temporary folder per process unless told where:
# every start would re-parse it (~0.2 s) and leave a folder behind. Give it a lasting place.
_cache = Path(platformdirs.user_cache_dir("community-kiosk")) / "escpos"
try:
    _cache.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(_cache))
except OSError:
    pass  # a read-only home: escpos falls back to a temporary folder
