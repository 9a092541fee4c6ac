"""gui/settings.py: ~/.tl-fif.ini keeps the backend, the idle minutes and the endpoints."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gui.backend import OPENAI
from gui.settings import GuiSettings, SettingsFile
from tlfif.errors import ConfigError


def test_a_missing_file_means_the_defaults(tmp_path: Path) -> None:
    settings = SettingsFile(tmp_path / "absent.ini").load()
    assert settings == GuiSettings()
    assert (settings.backend, settings.idle_minutes) == ("AWS TinyLlama", 5)


def test_what_is_saved_is_loaded_again(tmp_path: Path) -> None:
    file = SettingsFile(tmp_path / ".tl-fif.ini")
    saved = GuiSettings(
        backend=OPENAI,
        idle_minutes=17,
        endpoint="https://abc.execute-api.eu-central-1.amazonaws.com",
        hosted_ui="https://tl-fif.auth.eu-central-1.amazoncognito.com",
        client_id="desktop-client",
        base_url="http://127.0.0.1:8000/v1",
        model="gemma",
    )
    file.save(saved)
    assert file.load() == saved
    text = file.path.read_text("utf-8")
    assert "[gui]\nbackend = OpenAI\nidle_minutes = 17" in text
    assert "endpoint = https://abc.execute-api" in text


@pytest.mark.skipif(os.name != "posix", reason="mode bits mean owner-only on POSIX only")
def test_the_file_is_owner_only(tmp_path: Path) -> None:
    file = SettingsFile(tmp_path / ".tl-fif.ini")
    file.save(GuiSettings(api_key="sk-secret"))
    assert stat.S_IMODE(file.path.stat().st_mode) == 0o600


def test_a_hand_written_partial_file_fills_in_defaults(tmp_path: Path) -> None:
    path = tmp_path / ".tl-fif.ini"
    path.write_text("[gui]\nidle_minutes = 9\n", "utf-8")
    assert SettingsFile(path).load() == GuiSettings(idle_minutes=9)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[gui]\nidle_minutes = 31\n", "idle_minutes = 31"),
        ("[gui]\nidle_minutes = five\n", "idle_minutes = 'five'"),
        ("[gui]\nbackend = Bard\n", "backend = 'Bard'"),
        ("[gui]\nidle = 5\n", "unknown setting [gui] idle"),
        ("[aws]\ncallback_port = 0\n", "callback_port = 0"),
        ("not an ini file\n", "is not an ini file"),
    ],
)
def test_a_value_the_file_cannot_mean_fails_naming_it(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / ".tl-fif.ini"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")) as caught:
        SettingsFile(path).load()
    assert str(path) in caught.value.message


def test_wake_ahead_is_on_by_default_and_off_by_the_file(tmp_path: Path) -> None:
    assert GuiSettings().wake_ahead is True
    path = tmp_path / ".tl-fif.ini"
    path.write_text("[gui]\nwake_ahead = false\n", "utf-8")
    file = SettingsFile(path)
    assert file.load().wake_ahead is False
    file.save(file.load())
    assert file.load().wake_ahead is False
    path.write_text("[gui]\nwake_ahead = sometimes\n", "utf-8")
    with pytest.raises(ConfigError, match="wake_ahead = 'sometimes'; true or false"):
        file.load()


def test_the_readmes_commented_example_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    example = readme.split("```ini\n", 1)[1].split("```", 1)[0]
    path = tmp_path / ".tl-fif.ini"
    path.write_text(example, "utf-8")
    assert SettingsFile(path).load() == GuiSettings()
