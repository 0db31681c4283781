"""The package rules of docs/architecture.md, checked on the source itself."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ("kiosk", "devices", "offline_queue", "hq", "locales")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_ui_imports_pyside6() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in CORE
        for path in (ROOT / package).rglob("*.py")
        if any(name.split(".")[0] == "PySide6" for name in imported_modules(path))
    ]
    assert offenders == []


def test_within_ui_qt_comes_through_one_module() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "ui").rglob("*.py")
        if path.name != "qt.py" and any(name.split(".")[0] == "PySide6" for name in imported_modules(path))
    ]
    assert offenders == []


def test_the_core_never_imports_the_ui() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in CORE
        for path in (ROOT / package).rglob("*.py")
        if any(name.split(".")[0] == "ui" for name in imported_modules(path))
    ]
    assert offenders == []
