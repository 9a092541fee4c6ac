"""What differs between Windows, macOS and Linux, in one place, each branch unit-tested.

Paths, the browser and key bindings go through portable calls (pathlib, webbrowser, Tk);
what still depends on the platform is decided here from `sys.platform` / `os.name`, read
at call time (or passed in), so tests can try every branch on any machine.
"""

from __future__ import annotations

import os
import sys
import webbrowser
from collections.abc import Callable, Mapping
from pathlib import Path

SETTINGS_FILE_NAME = ".tl-fif.ini"
# Lets tests (and users with several setups) point the GUI at another settings file.
SETTINGS_PATH_VARIABLE = "TLFIF_GUI_INI"


def home_directory(environ: Mapping[str, str], platform: str) -> Path:
    """The user's home: %USERPROFILE% on Windows, $HOME elsewhere (as os.path.expanduser)."""
    if platform == "win32":
        profile = environ.get("USERPROFILE")
        if profile:
            return Path(profile)
        drive, path = environ.get("HOMEDRIVE", ""), environ.get("HOMEPATH", "")
        if drive and path:
            return Path(drive + path)
    elif environ.get("HOME"):
        return Path(environ["HOME"])
    return Path.home()


def settings_path(environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """~/.tl-fif.ini, as the seed names it, on every platform; $TLFIF_GUI_INI overrides."""
    environ = os.environ if environ is None else environ
    override = environ.get(SETTINGS_PATH_VARIABLE)
    if override:
        return Path(override)
    return home_directory(environ, platform or sys.platform) / SETTINGS_FILE_NAME


def restrict_to_owner(path: Path, os_name: str | None = None) -> None:
    """The settings file may hold an API key: owner-only where the mode bits mean that.

    On Windows chmod only toggles the read-only flag; a file in the user's profile is
    already private through the profile folder's ACL, so there is nothing to do.
    """
    if (os_name or os.name) == "posix":
        path.chmod(0o600)


def can_open_browser(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a graphical browser can come up. On Linux without a display webbrowser
    would fall back to a text browser in the terminal the GUI was started from."""
    environ = os.environ if environ is None else environ
    if (platform or sys.platform) in ("win32", "darwin"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def open_in_browser(
    url: str,
    *,
    opener: Callable[[str], bool] = webbrowser.open,
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> bool:
    """Open `url` in the user's browser; False if it could not (show the URL instead)."""
    if not can_open_browser(environ, platform):
        return False
    try:
        return opener(url)
    except webbrowser.Error:
        return False


def send_shortcuts(platform: str | None = None) -> tuple[str, ...]:
    """Tk event sequences that send the prompt: Ctrl+Enter (seed 1.1.1), on either Enter
    key; on macOS Cmd+Enter too, the convention there."""
    sequences: tuple[str, ...] = ("<Control-Return>", "<Control-KP_Enter>")
    if (platform or sys.platform) == "darwin":
        sequences += ("<Command-Return>", "<Command-KP_Enter>")
    return sequences


def may_reuse_address(os_name: str | None = None) -> bool:
    """SO_REUSEADDR for the login callback's port. On POSIX it only skips TIME_WAIT; on
    Windows it would let another program bind the same port and catch the login code."""
    return (os_name or os.name) == "posix"
