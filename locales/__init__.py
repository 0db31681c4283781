"""Translation catalogs (gettext .po files, domain `kiosk`), one folder per language."""

from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent
DOMAIN = "kiosk"
_FIRST = ("zh_CN", "en")  # the residents' default language first, then English; any other after, by code


def shipped_languages(folder: Path = LOCALES_DIR) -> tuple[str, ...]:
    """Every language with a catalog (`<code>/LC_MESSAGES/kiosk.po`): adding one is adding its folder."""
    found = {path.parent.parent.name for path in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return tuple(code for code in _FIRST if code in found) + tuple(sorted(found - set(_FIRST)))
