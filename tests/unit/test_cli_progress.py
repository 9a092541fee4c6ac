"""PhaseDisplay: a ticking spinner on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from rich.console import Console

from tlfif_cli.progress import PhaseDisplay


def test_on_a_terminal_each_finished_phase_leaves_a_line() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100)
    with PhaseDisplay(console) as display:
        for phase in ("starting", "starting", "booting", "generating"):
            display.show(phase)
        assert "generating" in display.__rich__().plain
    text = stream.getvalue()
    assert text.count("✓ starting the node") == 1
    assert "✓ the node is booting" in text
    assert "✓ generating" in text


def test_off_a_terminal_each_phase_is_one_timed_line() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False, width=100)
    with PhaseDisplay(console) as display:
        display.show("queued")
        display.show("generating")
        display.note("the API is busy; trying again in 5 s")
    lines = stream.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "queued, waiting for the node",
        "generating",
        "the API is busy; trying again in 5 s",
    ]
    assert all(line.startswith("[") and " s] " in line for line in lines)
