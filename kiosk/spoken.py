"""Numbers, money, house numbers and dates as a listener understands them, for the voice prompts.

A speech engine reads "¥100.50" or "3-2-501" badly or not at all (espeak-ng's Mandarin voice reads digits in
English), so prompts carry words: 一百元五角, "one hundred yuan and fifty fen"; room numbers are read digit by digit
(五零一, "five zero one"), as residents say them. A language with no rules here falls back to digits, which a
speech engine for that language reads well enough, so a translator can add a language without code.
"""

from __future__ import annotations

from datetime import date

from babel.dates import get_month_names

_ZH_DIGITS = "零一二三四五六七八九"
_EN_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_ORDINAL_ENDINGS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                       "nine": "ninth", "twelve": "twelfth"}


def _zh_below_10000(n: int) -> str:
    """0 < n < 10000 in Chinese, with 零 for a gap (一千零五) and no 一 before 十 at the start (十五)."""
    out: list[str] = []
    gap = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, value)
        if digit:
            if gap and out:
                out.append("零")
            out.append(_ZH_DIGITS[digit] + unit)
            gap = False
        else:
            gap = True
    text = "".join(out)
    return text[1:] if text.startswith("一十") else text


def zh_number(n: int) -> str:
    """A whole number in Chinese: 105 → 一百零五, 20000 → 两万, 100010 → 十万零一十."""
    if n < 0:
        return "负" + zh_number(-n)
    if n == 0:
        return "零"
    parts: list[str] = []
    for value, unit in ((100_000_000, "亿"), (10_000, "万"), (1, "")):
        chunk, n = divmod(n, value)
        if chunk:
            if parts and chunk < 1000:
                parts.append("零")
            words = _zh_below_10000(chunk)
            if parts and words.startswith("十"):
                words = "一" + words  # 十万零一十, not 十万零十
            parts.append(words + unit)
        elif parts and n:
            parts.append("零")
    text = "".join(parts).replace("零零", "零")
    # 两 before a unit of 百 and above reads naturally (两百, 两万); 二 stays in 十二 and 二十.
    if text.startswith("二") and len(text) > 1 and text[1] in "百千万亿":
        text = "两" + text[1:]
    return text


def en_number(n: int) -> str:
    """A whole number in English words: 1205 → "one thousand two hundred and five"."""
    if n < 0:
        return "minus " + en_number(-n)
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_EN_ONES[hundreds]} hundred" + (f" and {en_number(rest)}" if rest else "")
    for value, name in ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand")):
        if n >= value:
            high, rest = divmod(n, value)
            if not rest:
                return f"{en_number(high)} {name}"
            joiner = " and " if rest < 100 else " "
            return f"{en_number(high)} {name}{joiner}{en_number(rest)}"
    raise AssertionError("unreachable")


def _en_ordinal(n: int) -> str:
    words = en_number(n)
    head, _, last = words.rpartition("-") if "-" in words else words.rpartition(" ")
    sep = "-" if "-" in words else " "
    if last in _EN_ORDINAL_ENDINGS:
        last = _EN_ORDINAL_ENDINGS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head}{sep}{last}" if head else last


def _language_family(language: str) -> str:
    return language.replace("-", "_").split("_")[0].lower()


def money_words(amount_fen: int, language: str) -> str:
    """¥100.50 as words: 一百元五角 / "one hundred yuan and fifty fen"; digits for other languages."""
    yuan, fen = divmod(abs(amount_fen), 100)
    sign = "-" if amount_fen < 0 else ""
    family = _language_family(language)
    if family == "zh":
        jiao, fen_only = divmod(fen, 10)
        text = zh_number(yuan) + "元" if yuan or not fen else ""
        if jiao:
            text += _ZH_DIGITS[jiao] + "角"
        if fen_only:
            text += ("零" if yuan and not jiao else "") + _ZH_DIGITS[fen_only] + "分"
        return ("负" if sign else "") + text
    if family == "en":
        parts = []
        if yuan or not fen:
            parts.append(f"{en_number(yuan)} yuan")
        if fen:
            parts.append(f"{en_number(fen)} fen")
        return ("minus " if sign else "") + " and ".join(parts)
    return f"{sign}{yuan}.{fen:02d}"


def digits_words(digits: str, language: str) -> str:
    """A room or order number read digit by digit: 501 → 五零一 / "five zero one"."""
    family = _language_family(language)
    if family == "zh":
        return "".join(_ZH_DIGITS[int(c)] if c.isdigit() else c for c in digits)
    if family == "en":
        return " ".join(_EN_ONES[int(c)] if c.isdigit() else c for c in digits)
    return " ".join(digits)


def count_words(n: int, language: str) -> str:
    """A count or building number as a listener says it: 3 → 三 / "three"."""
    family = _language_family(language)
    if family == "zh":
        return zh_number(n)
    if family == "en":
        return en_number(n)
    return str(n)


def house_parts(building: str, unit: str, room: str, language: str) -> dict[str, str]:
    """The parts of a house number as words, for a catalog prompt with {building}, {unit} and {room}.

    Building and unit are counts (三号楼, "building three"); the room is read digit by digit (五零一). Parts that
    are not plain numbers (楼 "A") are passed through as they are.
    """

    def count(part: str) -> str:
        return count_words(int(part), language) if part.isdigit() else part

    room_words = digits_words(room, language) if room.isdigit() else room
    return {"building": count(building), "unit": count(unit), "room": room_words}


def date_words(day: date, language: str) -> str:
    """A date as said aloud: 十一月二十二日 / "the twenty-second of November"; ISO digits otherwise."""
    family = _language_family(language)
    if family == "zh":
        return f"{zh_number(day.month)}月{zh_number(day.day)}日"
    if family == "en":
        month = get_month_names("wide", locale="en")[day.month]
        return f"the {_en_ordinal(day.day)} of {month}"
    return day.isoformat()
