"""Catalog lookups and formats in both languages; every message translated in every shipped catalog."""

from datetime import UTC, date, datetime
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from kiosk.config import LANGUAGES
from kiosk.i18n import Translator, load_catalog
from kiosk.messages import meter_use_text, notice_text, outcome_title
from kiosk.screens import Notice, Outcome
from locales import LOCALES_DIR, shipped_languages


def test_lookups_in_both_languages() -> None:
    zh, en = Translator("zh_CN"), Translator("en")
    assert zh.gettext("Payment successful") == "支付成功"
    assert en.gettext("Payment successful") == "Payment successful"
    assert zh.ngettext("About {days} day left", "About {days} days left", 3).format(days=3) == "大约还能用 3 天"
    assert en.ngettext("About {days} day left", "About {days} days left", 1).format(days=1) == "About 1 day left"


def test_money_and_dates_follow_the_locale() -> None:
    zh, en = Translator("zh_CN"), Translator("en")
    assert zh.money(10000) == "¥100.00"
    assert en.money(123456) == "¥1,234.56"
    assert zh.money(-250) == "-¥2.50"
    paid = datetime(2026, 11, 22, 3, 5, tzinfo=UTC)  # 11:05 in Beijing
    assert "11:05" in zh.datetime(paid) and "2026" in zh.datetime(paid)
    assert en.time(paid) == "11:05\u202fAM"
    assert zh.date(date(2026, 12, 31)) == "2026年12月31日"


def test_switching_language_tells_listeners_and_changes_texts() -> None:
    translator = Translator("zh_CN")
    heard: list[str] = []
    translator.add_listener(heard.append)
    translator.set_language("en")
    translator.set_language("en")
    assert heard == ["en"]
    assert translator.gettext("Lighting") == "Lighting"
    with pytest.raises(ValueError, match="unsupported language"):
        translator.set_language("fr")


def test_messages_for_codes() -> None:
    zh = Translator("zh_CN")
    assert meter_use_text("air_conditioning", "01", zh) == "空调"
    assert meter_use_text("heat_pump", "0042", zh) == "电表 0042"
    for notice in Notice:
        assert notice_text(notice, minimum="¥10.00", maximum="¥2,000.00")
    for outcome in Outcome:
        assert outcome_title(outcome)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_is_missing_from_a_shipped_catalog(language: str) -> None:
    template = read_po((LOCALES_DIR / "kiosk.pot").open("rb"))
    catalog = read_po((LOCALES_DIR / language / "LC_MESSAGES" / "kiosk.po").open("rb"), locale=language)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    assert sorted(ids - translated) == []


def fields(text: str) -> set[str]:
    """The `{name}` placeholders of a text (`{{` is a literal brace, not one)."""
    return {name for _literal, name, _spec, _conversion in Formatter().parse(text) if name is not None}


def wrong_placeholders(catalog: Catalog) -> list[str]:
    """Translations whose placeholders are not exactly their source's (a plural form may leave out the count, as
    "one attempt" does) or that do not format."""
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        sources = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        names = set().union(*(fields(source) for source in sources))
        for i, target in enumerate(targets):
            try:
                found = fields(target)
                target.format(**dict.fromkeys(found, "x"))
            except (ValueError, IndexError) as exc:  # an unbalanced brace, a positional {}
                wrong.append(f"{sources[0]!r} -> {target!r}: {exc}")
                continue
            # the form for "other" (the last) carries every placeholder of the plural source
            needed = fields(sources[-1]) if len(sources) > 1 and i == len(targets) - 1 else fields(sources[0])
            if not needed <= found <= names:
                wrong.append(f"{sources[0]!r} -> {target!r}: placeholders {sorted(found)}, source {sorted(names)}")
    return wrong


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_survive_translation(language: str) -> None:
    """So no text on screen shows a brace, misses its number or raises."""
    catalog = read_po((LOCALES_DIR / language / "LC_MESSAGES" / "kiosk.po").open("rb"), locale=language)
    assert wrong_placeholders(catalog) == []


def test_the_placeholder_rule_finds_every_kind_of_mistake() -> None:
    catalog = Catalog(locale="zh_CN")
    catalog.add("Pay {amount}", "支付 {amount}")
    catalog.add("Due: {amount}", "应缴：{金额}")  # a translated placeholder
    catalog.add("Balance: {amount}", "余额")  # a lost one
    catalog.add("Meter {number}", "电表 {number")  # an unbalanced brace
    catalog.add(("{n} attempt", "{n} attempts"), ("尝试",))  # the count lost from the only form
    catalog.add(("One try left", "{n} tries left"), ("还剩 {n} 次",))  # fine: the singular has no count
    assert [line.split(" -> ")[0] for line in wrong_placeholders(catalog)] == [
        "'Due: {amount}'", "'Balance: {amount}'", "'Meter {number}'", "'{n} attempt'"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_shipped_catalog_is_whole(language: str) -> None:
    """No fuzzy header (the compiled catalog would lose its plural rule) or fuzzy message, the plural rule of the
    language, and every plural message with a form for each of its plural categories."""
    catalog = read_po((LOCALES_DIR / language / "LC_MESSAGES" / "kiosk.po").open("rb"), locale=language)
    assert not catalog.fuzzy
    assert [m.id for m in catalog if m.id and m.fuzzy] == []
    assert catalog.num_plurals == get_plural(language).num_plurals
    for message in catalog:
        if message.id and message.pluralizable:
            assert len(message.string) == catalog.num_plurals and all(message.string), message.id


def test_every_source_text_is_in_the_template() -> None:
    """Fails when code gained a text that `make update-catalogs` has not extracted yet."""
    from babel.messages.extract import extract_from_dir

    root = LOCALES_DIR.parent
    template = read_po((LOCALES_DIR / "kiosk.pot").open("rb"))
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    found = set()
    for package in ("kiosk", "ui", "devices"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            root / package, keywords={"_": None, "N_": None, "ngettext": (1, 2)}, method_map=[("**.py", "python")]
        ):
            found.add(message if isinstance(message, str) else message[0])
    assert sorted(found - known) == []


def test_catalogs_load_from_po_without_a_build_step() -> None:
    assert load_catalog("zh_CN").gettext("Done") == "完成"


def test_a_new_catalog_folder_is_a_new_language(tmp_path: Path) -> None:
    for code in ("ug", "en", "zh_CN"):
        folder = tmp_path / code / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "kiosk.po").write_text("", encoding="utf-8")
    (tmp_path / "fr" / "LC_MESSAGES").mkdir(parents=True)  # a folder without a catalog is no language
    assert shipped_languages(tmp_path) == ("zh_CN", "en", "ug")
    assert shipped_languages() == LANGUAGES == ("zh_CN", "en")
