"""gui/desktop.py: each platform's branch, tried on any machine by passing the platform."""

from __future__ import annotations

import os
import sys
import webbrowser
from pathlib import Path

import pytest

from gui import desktop


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("win32", {"USERPROFILE": r"C:\Users\ada"}, Path(r"C:\Users\ada") / ".tl-fif.ini"),
        ("win32", {"HOMEDRIVE": "D:", "HOMEPATH": r"\home\ada"}, Path(r"D:\home\ada/.tl-fif.ini")),
        ("darwin", {"HOME": "/Users/ada"}, Path("/Users/ada/.tl-fif.ini")),
        ("linux", {"HOME": "/home/ada"}, Path("/home/ada/.tl-fif.ini")),
    ],
)
def test_the_settings_file_is_in_the_users_home_on_every_platform(
    platform: str, environ: dict[str, str], expected: Path
) -> None:
    assert desktop.settings_path(environ, platform) == expected


def test_the_settings_path_can_be_overridden(tmp_path: Path) -> None:
    environ = {"TLFIF_GUI_INI": str(tmp_path / "x.ini"), "HOME": "/home/ada"}
    assert desktop.settings_path(environ, "linux") == tmp_path / "x.ini"


def test_without_any_home_variable_the_os_is_asked() -> None:
    assert desktop.settings_path({}, "linux") == Path.home() / ".tl-fif.ini"


def test_owner_only_is_a_chmod_on_posix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modes: list[int] = []
    monkeypatch.setattr(Path, "chmod", lambda self, mode: modes.append(mode))
    desktop.restrict_to_owner(tmp_path / "f", os_name="posix")
    desktop.restrict_to_owner(tmp_path / "f", os_name="nt")  # the profile's ACL does it
    assert modes == [0o600]


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("win32", {}, True),
        ("darwin", {}, True),
        ("linux", {"DISPLAY": ":0"}, True),
        ("linux", {"WAYLAND_DISPLAY": "wayland-0"}, True),
        ("linux", {}, False),  # over SSH: no text browser in the user's terminal
        ("freebsd14", {"DISPLAY": ":0"}, True),
    ],
)
def test_a_browser_is_opened_only_where_one_can_appear(
    platform: str, environ: dict[str, str], expected: bool
) -> None:
    opened: list[str] = []

    def opener(url: str) -> bool:
        opened.append(url)
        return True

    assert (
        desktop.open_in_browser("https://x", opener=opener, environ=environ, platform=platform)
        is expected
    )
    assert opened == (["https://x"] if expected else [])


def test_a_browser_that_fails_to_start_means_show_the_url() -> None:
    def opener(url: str) -> bool:
        raise webbrowser.Error("could not locate runnable browser")

    assert (
        desktop.open_in_browser("https://x", opener=opener, environ={}, platform="win32") is False
    )


@pytest.mark.parametrize("platform", ["win32", "linux", "darwin"])
def test_ctrl_enter_sends_everywhere_and_cmd_enter_on_macos(platform: str) -> None:
    sequences = desktop.send_shortcuts(platform)
    assert {"<Control-Return>", "<Control-KP_Enter>"} <= set(sequences)
    assert ("<Command-Return>" in sequences) is (platform == "darwin")


@pytest.mark.parametrize(("os_name", "reuse"), [("posix", True), ("nt", False)])
def test_the_callback_port_is_not_shared_on_windows(os_name: str, reuse: bool) -> None:
    assert desktop.may_reuse_address(os_name) is reuse


@pytest.mark.parametrize(
    ("platform", "variable"), [("win32", "USERPROFILE"), ("darwin", "HOME"), ("linux", "HOME")]
)
def test_by_default_the_running_platform_decides(
    platform: str, variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.delenv("TLFIF_GUI_INI", raising=False)
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "profile"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / ("profile" if variable == "USERPROFILE" else "home") / ".tl-fif.ini"
    assert desktop.settings_path() == expected
    assert ("<Command-Return>" in desktop.send_shortcuts()) is (platform == "darwin")


@pytest.mark.parametrize(("os_name", "chmods"), [("posix", 1), ("nt", 0)])
def test_by_default_the_running_os_decides_owner_only(
    os_name: str, chmods: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modes: list[int] = []
    monkeypatch.setattr(Path, "chmod", lambda self, mode: modes.append(mode))
    monkeypatch.setattr(os, "name", os_name)
    desktop.restrict_to_owner(tmp_path / "f")
    assert len(modes) == chmods
    assert desktop.may_reuse_address() is (os_name == "posix")
