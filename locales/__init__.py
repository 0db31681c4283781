"""Translation catalogs (gettext .po files, domain `kiosk`), one folder per language."""

from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent
DOMAIN = "kiosk"
