"""The theme keeps text contrast at AAA level and touch targets large."""

from __future__ import annotations

import pytest

from ui.theme import TEXT_PAIRS, Theme, contrast_ratio, elderly


@pytest.mark.parametrize(("foreground", "background"), TEXT_PAIRS)
def test_text_colours_reach_7_to_1(foreground, background):
    assert contrast_ratio(foreground, background) >= 7.0


def test_contrast_of_black_on_white_is_21():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)


def test_targets_and_text_are_large_and_scale_together():
    theme = Theme()
    assert theme.px(theme.button_h) >= 40  # 10 mm at about 4 px per mm
    assert theme.px(theme.body_pt) >= 30
    bigger = elderly(theme)
    assert bigger.px(theme.body_pt) > theme.px(theme.body_pt)
    assert bigger.px(theme.button_h) > theme.px(theme.button_h)
