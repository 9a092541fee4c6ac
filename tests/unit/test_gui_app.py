"""`tlfif gui` before the window: a settings file it cannot read, or no display, is one
line and an exit code, never a traceback. (The window itself: tests/gui under Xvfb.)"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gui import log
from tlfif_cli import main
from tlfif_cli.errors import ExitCode


@pytest.fixture(autouse=True)
def quiet_gui_log(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    yield
    # run() logs to the stderr of its time: this test's captured one, gone afterwards.
    log.logger.handlers.clear()
    log.logger.propagate = True


def test_a_bad_settings_file_is_named_and_nothing_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ini = tmp_path / "bad.ini"
    ini.write_text("[gui]\nidle_minutes = 99\n", "utf-8")
    assert main(["gui", "--ini", str(ini)]) == ExitCode.USAGE
    assert f"tlfif gui: {ini}: [gui] idle_minutes = 99" in capsys.readouterr().err


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="Tk needs no X display on Windows and macOS"
)
def test_without_a_display_it_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["gui", "--ini", str(tmp_path / "new.ini")]) == ExitCode.UNREACHABLE
    assert "tlfif gui: no display to open the window on" in capsys.readouterr().err
