"""Numbers, money, house numbers and dates as words for the voice prompts."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.spoken import date_words, digits_words, en_number, house_parts, money_words, zh_number


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "零"), (2, "二"), (10, "十"), (15, "十五"), (20, "二十"), (105, "一百零五"), (110, "一百一十"),
        (200, "两百"), (1005, "一千零五"), (1050, "一千零五十"), (10010, "一万零一十"), (20000, "两万"),
        (100010, "十万零一十"), (12345, "一万二千三百四十五"), (100000005, "一亿零五"),
    ],
)
def test_chinese_numbers_read_as_people_say_them(n: int, words: str) -> None:
    assert zh_number(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [(0, "zero"), (13, "thirteen"), (40, "forty"), (45, "forty-five"), (105, "one hundred and five"),
     (1005, "one thousand and five"), (12345, "twelve thousand three hundred and forty-five"),
     (2_000_000, "two million")],
)
def test_english_numbers(n: int, words: str) -> None:
    assert en_number(n) == words


@pytest.mark.parametrize(
    ("fen", "zh", "en"),
    [
        (10000, "一百元", "one hundred yuan"),
        (10050, "一百元五角", "one hundred yuan and fifty fen"),
        (1205, "十二元零五分", "twelve yuan and five fen"),
        (5, "五分", "five fen"),
        (0, "零元", "zero yuan"),
    ],
)
def test_money_as_words(fen: int, zh: str, en: str) -> None:
    assert money_words(fen, "zh_CN") == zh
    assert money_words(fen, "en") == en


def test_a_language_without_rules_gets_digits_its_engine_reads() -> None:
    assert money_words(10050, "ug") == "100.50"
    assert digits_words("501", "ug") == "5 0 1"
    assert date_words(date(2026, 11, 22), "ug") == "2026-11-22"


def test_house_numbers_read_building_and_unit_as_counts_and_the_room_digit_by_digit() -> None:
    assert house_parts("3", "2", "501", "zh_CN") == {"building": "三", "unit": "二", "room": "五零一"}
    assert house_parts("12", "1", "1102", "en") == {"building": "twelve", "unit": "one", "room": "one one zero two"}
    assert house_parts("A", "2", "B1", "en") == {"building": "A", "unit": "two", "room": "B1"}


def test_dates() -> None:
    assert date_words(date(2026, 11, 22), "zh_CN") == "十一月二十二日"
    assert date_words(date(2026, 11, 22), "en") == "the twenty-second of November"
    assert date_words(date(2026, 3, 30), "en") == "the thirtieth of March"
    assert date_words(date(2026, 1, 1), "en") == "the first of January"


@given(st.integers(min_value=0, max_value=10**9))
def test_every_number_has_only_number_words(n: int) -> None:
    assert set(zh_number(n)) <= set("零一二两三四五六七八九十百千万亿")
    assert ("零零" not in zh_number(n) and not zh_number(n).endswith("零")) or n == 0
    assert all(word.isalpha() for word in en_number(n).replace("-", " ").split())
