"""Voice prompts: every screen in both modes and languages says something from the catalog, numbers as words, and
sounds like it (rendered by the real espeak-ng: audible, and as long as its words)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from devices.espeak_speaker import SimulatedSpeaker
from devices.speaker import WavInfo, wav_info
from kiosk import i18n
from kiosk.config import LANGUAGES
from kiosk.prompts import Prompt, confirmation, news, prompt_for, sentence, warning_prompt
from kiosk.screens import (
    CodePayment,
    IdleScreen,
    Loading,
    LoadingScreen,
    Mode,
    Notice,
    Outcome,
    ReceiptState,
)
from ui.samples import AIRCON, HOUSE, LIGHTING, result, sample_screens

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
SAMPLES = sample_screens(NOW)


@pytest.fixture
def language() -> Iterator[i18n.Translator]:
    """The screen's translator, put back afterwards."""
    with i18n.using(i18n.Translator("en")) as translator:
        yield translator


class Marking(i18n.Translator):
    """Wraps every catalog text in ⟦ ⟧: a sentence that is not one whole marked text did not come from the
    catalog."""

    def gettext(self, message: str) -> str:
        return f"⟦{super().gettext(message)}⟧"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"⟦{super().ngettext(singular, plural, n)}⟧"


def one_marked_text(text: str) -> bool:
    """`text` is one whole catalog text (which may hold others in its placeholders: a meter, a house)."""
    depth = 0
    for i, char in enumerate(text):
        depth += {"⟦": 1, "⟧": -1}.get(char, 0)
        if depth == 0 and i < len(text) - 1:
            return False
    return depth == 0 and text.startswith("⟦")


def every_prompt() -> Iterator[tuple[str, Prompt]]:
    for name, screen in SAMPLES.items():
        for mode in Mode:
            yield f"{name} {mode.value}", prompt_for(screen, mode, NOW)
    yield "time-warning", warning_prompt(20)


@pytest.mark.parametrize("language_code", LANGUAGES)
def test_every_screen_says_something_from_the_catalog_in_both_modes(language_code: str) -> None:
    with i18n.using(Marking(language_code)):
        prompts = list(every_prompt())
    assert len(prompts) == 2 * len(SAMPLES) + 1
    not_from_catalog = []
    for name, prompt in prompts:
        assert prompt.sentences, name
        assert prompt.language == language_code
        assert 1 <= prompt.act_after <= len(prompt.sentences), name
        for text in prompt.sentences:
            core = text.rstrip(".。")  # the stop `sentence` adds after a catalog text that has none
            if not one_marked_text(core):
                not_from_catalog.append(f"{name}: {text}")
    assert not_from_catalog == []


@pytest.mark.parametrize("language_code", LANGUAGES)
def test_numbers_amounts_dates_and_houses_are_spoken_as_words(language_code: str) -> None:
    with i18n.using(i18n.Translator(language_code)):
        with_digits = [f"{name}: {p.text}" for name, p in every_prompt() if re.search(r"[0-9¥]", p.text)]
    assert with_digits == []


def test_the_house_and_amount_are_said_before_paying(language: i18n.Translator) -> None:
    expected = ("You are recharging the lighting meter of Building three, unit two, room five zero one with one "
                "hundred yuan.")
    assert confirmation(HOUSE, LIGHTING, 10000) == expected
    payment = prompt_for(SAMPLES["payment"], Mode.STANDARD, NOW)
    assert payment.sentences[0] == expected
    assert expected in payment.before_action  # heard in full before the resident is told how to pay
    language.set_language("zh_CN")
    chinese = confirmation(HOUSE, AIRCON, 12050)
    # Built from the catalog's texts (the sentence is translated by the catalog): numbers as Chinese words.
    assert "三号楼二单元五零一室" in chinese and "一百二十元五角" in chinese
    assert chinese.startswith(i18n._("You are recharging the {meter} of {house} with {amount}.").split("{")[0])


def test_elderly_mode_says_more_and_the_action_comes_before_the_details(language: i18n.Translator) -> None:
    screen = SAMPLES["overview-two-meters"]
    standard, elderly = (prompt_for(screen, mode, NOW) for mode in Mode)
    assert len(elderly.sentences) > len(standard.sentences)
    assert "Heating fee: two thousand six hundred and forty yuan due." in elderly.sentences
    assert any("lighting meter" in s for s in elderly.sentences)  # the meter not selected is spoken too
    assert not any("Heating" in s for s in standard.sentences)
    # The resident can tap "Recharge again" once the selected meter and the action are said, not after the fees.
    assert elderly.sentences[elderly.act_after - 1] == "Tap Recharge one hundred yuan again, or tap Other amount."
    assert len(elderly.before_action) < len(elderly.text) * 0.6


def test_the_idle_screen_offers_only_the_ways_that_work(language: i18n.Translator) -> None:
    no_card = prompt_for(IdleScreen(card_reader_ready=False), Mode.ELDERLY, NOW)
    assert "resident card" not in no_card.text and "QR code" in no_card.text
    nothing = prompt_for(IdleScreen(card_reader_ready=False, qr_scanner_ready=False), Mode.STANDARD, NOW)
    assert nothing.sentences[0] == "Type your house number to start."
    assert "Elderly mode" in nothing.text  # standard mode points to the 长辈版 switch


def test_time_left_to_pay_and_the_time_out_question(language: i18n.Translator) -> None:
    payment = replace(SAMPLES["payment"], deadline=NOW + timedelta(seconds=50))
    assert "You have one minute to pay." in prompt_for(payment, Mode.ELDERLY, NOW).sentences
    warning = warning_prompt(20)
    assert warning.text == ("Do you need more time? Otherwise the screen goes back to the start in twenty seconds. "
                            "If you do, tap Yes, more time.")


def test_a_slip_that_did_not_print_gets_its_order_number_read_out(language: i18n.Translator) -> None:
    spoken = prompt_for(SAMPLES["result-unknown-slip-paper-out"], Mode.ELDERLY, NOW)
    assert "Your order number is E O seven K Q two M four X nine Z P three R eight T." in spoken.sentences
    printed = prompt_for(SAMPLES["result-unknown-slip-printed"], Mode.ELDERLY, NOW)
    assert "order number is" not in printed.text


def test_news_says_only_what_changed(language: i18n.Translator) -> None:
    printing = result(Outcome.PAID, ReceiptState.PRINTING)
    printed = replace(printing, receipt=ReceiptState.PRINTED)
    assert news(printing, printed, Mode.ELDERLY, NOW) == Prompt("en", ("Please take your receipt.",), 1)
    idle = IdleScreen()
    assert news(idle, replace(idle, waiting=2, online=False), Mode.ELDERLY, NOW) is None  # staff's business
    assert news(idle, replace(idle, notice=Notice.UNKNOWN_CARD), Mode.ELDERLY, NOW) is not None
    payment = SAMPLES["payment"]
    confirming = news(payment, replace(payment, code=CodePayment.CONFIRMING), Mode.STANDARD, NOW)
    assert confirming is not None and confirming.sentences[0] == "Your phone is asking you to confirm this payment."
    assert news(payment, replace(payment, connection_ok=False), Mode.STANDARD, NOW) == Prompt(
        "en", ("Connection trouble. If you have paid, the payment is safe.",), 1)
    two = SAMPLES["overview-two-meters"]
    other = news(two, replace(two, selected_meter_id=LIGHTING.meter_id), Mode.STANDARD, NOW)
    assert other is not None and other.sentences[0] == "Balance of the lighting meter: forty-two yuan and ten fen."
    assert news(LoadingScreen(Loading.FINDING_HOUSE), SAMPLES["overview-one-meter"], Mode.STANDARD, NOW) == (
        prompt_for(SAMPLES["overview-one-meter"], Mode.STANDARD, NOW))


def test_a_catalog_text_becomes_a_sentence_with_a_stop() -> None:
    assert sentence("Finding your home…") == "Finding your home."
    assert sentence("正在查找您的房屋…") == "正在查找您的房屋。"
    assert sentence("Payment successful") == "Payment successful."
    assert sentence("Done?") == "Done?"
    assert sentence("  ") == ""


# ---- heard: rendered by the real espeak-ng ------------------------------------------------------------------

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (scripts/system-deps.sh installs it)"
)


def units(text: str) -> int:
    """Roughly what a voice says one at a time: Chinese characters and Latin words."""
    return len(re.findall(r"[\u4e00-\u9fff]", text)) + len(re.findall(r"[A-Za-z]+", text))


@cache
def rendered() -> dict[tuple[str, str], WavInfo]:
    """Every distinct prompt of every screen, mode and language, rendered once for this module."""
    wanted: set[tuple[str, str]] = set()
    for code in LANGUAGES:
        with i18n.using(i18n.Translator(code)):
            wanted |= {(p.text, p.language) for _name, p in every_prompt()}
    speaker = SimulatedSpeaker()  # render() needs no open(): synthesis only, at the normal rate and volume
    with ThreadPoolExecutor(4) as pool:  # espeak-ng runs outside the GIL
        audio = dict(zip(wanted, pool.map(lambda key: speaker.render(*key), wanted), strict=True))
    return {key: wav_info(data) for key, data in audio.items()}


@needs_espeak
def test_every_prompt_renders_to_audible_speech_of_plausible_length() -> None:
    found = []
    for (text, language), info in rendered().items():
        n = units(text)
        # About 0.3-0.4 s a syllable or word at the normal rate; far outside means digits read one by one,
        # a voice that skipped the text, or silence.
        if info.silent or not max(0.5, 0.15 * n) <= info.duration_s <= 0.8 * n + 1.5:
            found.append(f"{language} {info.duration_s:.1f} s for {n} units, rms {info.rms:.3f}: {text[:60]}")
    assert found == []
    assert len(rendered()) > 60


@needs_espeak
def test_the_confirmation_takes_a_few_seconds_to_say(language: i18n.Translator) -> None:
    info = wav_info(SimulatedSpeaker().render(confirmation(HOUSE, LIGHTING, 10000), "en"))
    assert not info.silent
    assert 4.0 < info.duration_s < 12.0  # 24 words at about 150 a minute, with pauses
