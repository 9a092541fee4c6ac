"""tlfif_cli/live.py and print_reply's `shown`: what stdout ends with is the stored reply,
whatever was printed live; and stdout that is not a terminal gets no live text at all."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest
from rich.console import Console

from tests.doubles.router_api_double import RouterApiDouble
from tests.fixtures.moto_server import CognitoPool
from tlfif.client.config import save_profile
from tlfif.contracts import Reply
from tlfif_cli import main
from tlfif_cli.errors import ExitCode
from tlfif_cli.live import RESTARTED, TerminalText
from tlfif_cli.output import print_reply
from tlfif_cli.progress import PhaseDisplay

REPLY = Reply(id="job-1", status="done", text="uno dos", finish_reason="stop")


def console() -> Console:
    return Console(file=io.StringIO(), markup=False, highlight=False, width=200)


def said(err: Console) -> str:
    stream = err.file
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def test_text_printed_live_that_is_the_reply_is_not_printed_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = console()
    assert print_reply(REPLY, as_json=False, err=err, elapsed=1.0, shown="uno dos") == 0
    assert capsys.readouterr().out == "\n"  # the live line ends; nothing is repeated
    assert "finish: stop" in said(err) and "differs" not in said(err)


def test_live_text_that_differs_is_followed_by_the_whole_reply(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = console()
    print_reply(REPLY, as_json=False, err=err, elapsed=1.0, shown="uno d")
    assert capsys.readouterr().out == "\nuno dos\n"
    assert "differs from the live text" in said(err)


def test_a_failed_reply_after_live_text_starts_on_a_line_of_its_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = console()
    failed = Reply(id="job-1", status="error", error="engine failed", error_code="engine_error")
    assert print_reply(failed, as_json=False, err=err, elapsed=1.0, shown="uno") == 1
    assert capsys.readouterr().out == "\n"
    assert "job job-1 error: engine failed" in said(err)


def test_a_restart_ends_the_line_and_says_the_text_above_is_void() -> None:
    out, err = io.StringIO(), console()
    with PhaseDisplay(err) as display:
        screen = TerminalText(display, out, err)
        screen.phase("booting")
        screen.text("one two")
        screen.restarted()
        screen.text("uno")
    assert out.getvalue() == "one two\nuno"
    assert RESTARTED in said(err)


def test_stdout_that_is_not_a_terminal_gets_the_stored_reply_alone(
    cognito_pool: CognitoPool,
    aws: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in [n for n in os.environ if n.startswith("TLFIF_CLI_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TLFIF_CLI_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.setenv("TLFIF_CLI_MIN_POLL_INTERVAL_SECONDS", "0")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    save_profile(cognito_pool.demo_profile("http://router.test", aws))
    router = RouterApiDouble(reply_text="uno dos")
    assert main(["infer", "count"], transport=router.transport()) == ExitCode.OK
    assert capsys.readouterr().out == "uno dos\n"
    [sent] = router.sent("POST /infer")
    assert "stream" not in json.loads(sent.content)  # no live text asked for, none followed
    assert not [r for r in router.requests if r.url.path.endswith("/events")]
