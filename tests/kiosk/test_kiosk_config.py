"""Configuration: declared once, validated at start with messages a technician can act on."""

from pathlib import Path

import pytest

from kiosk.config import Config, ConfigError, describe, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file() -> None:
    config = load_config(None)
    assert config == Config()
    assert config.payment.presets_fen == (2000, 5000, 10000, 20000)
    assert config.ui.language == "zh_CN"


def test_a_file_overrides_defaults(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            '[hq]\nurl = "https://hq.example.cn"\nread_timeout_s = 4\n'
            "[payment]\npresets_fen = [1000, 3000]\n",
        )
    )
    assert config.hq.url == "https://hq.example.cn"
    assert config.hq.read_timeout_s == 4.0 and isinstance(config.hq.read_timeout_s, float)
    assert config.payment.presets_fen == (1000, 3000)
    assert config.ui == Config().ui


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[hq]\nurl = 'ftp://x'\n", "hq.url"),
        ("[hq]\nread_timeout_s = 'slow'\n", "hq.read_timeout_s: expected a number"),
        ("[hq]\nread_timeout_s = 0\n", "must be greater than 0"),
        ("[ui]\nlanguage = 'fr'\n", "must be one of zh_CN, en"),
        ("[ui]\nwarning_s = 5\n", "ui.warning_s"),
        ("[ui]\nfullscreen = 'yes'\n", "expected true or false"),
        ("[payment]\nmin_fen = 1.5\n", "expected a whole number"),
        ("[payment]\nmin_fen = 500000\n", "min_fen must not be larger"),
        ("[payment]\npresets_fen = []\n", "non-empty list"),
        ("[payment]\nlong_poll_s = 26\n", "payment.long_poll_s = 26.0 must be between 0 and 25"),
        ("[payment]\nlong_poll_s = -1\n", "must be between 0 and 25"),
        ("[terminal]\ntimezone = 'Mars/Olympus'\n", "not a known time zone"),
        ("[hq]\nurll = 'x'\n", "unknown setting(s) in [hq]: urll"),
        ("[printer]\nx = 1\n", "unknown section(s): printer"),
        ("hq = 3\n", "[hq] must be a table"),
    ],
)
def test_bad_values_are_refused_clearly(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert expected in str(info.value)
    assert "kiosk.toml" in str(info.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[hq\n"))


def test_with_changes_validates() -> None:
    config = Config().with_changes("ui", fullscreen=False)
    assert config.ui.fullscreen is False
    with pytest.raises(ConfigError):
        Config().with_changes("ui", language="xx")


def test_describe_lists_every_setting_and_parses_back(tmp_path: Path) -> None:
    text = describe()
    assert "# read_timeout_s = 10.0" in text and "[payment]" in text
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and "=" in line else line
        for line in text.splitlines()
        if not line.startswith("# ") or "=" in line
    )
    assert load_config(write(tmp_path, uncommented)) == Config()


def test_the_configuration_doc_lists_every_setting() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    for line in describe().splitlines():
        assert line in doc, f"docs/configuration.md is missing: {line}"
