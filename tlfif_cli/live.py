"""`tlfif infer` on a terminal: the reply's text on stdout as it is generated.

The phase display (stderr) runs until the first text. A generation that starts over (the
job taken again after a node or engine failure) is said on stderr and its text printed from
its start on a fresh line: two generations are never spliced into one line. When stdout is
not a terminal nothing is printed live (commands.py waits for the whole reply), so a file
or a pipe gets exactly the stored reply. Where live events cannot go on (an older router,
a broken stream, a gateway that buffers it), the wait goes on by polling, as `--whole`.
"""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console

from tlfif.client.api import ApiClient
from tlfif.client.live import follow_reply
from tlfif.client.phase import JobPhase
from tlfif.contracts import Reply
from tlfif_cli.context import Context
from tlfif_cli.progress import PhaseDisplay

RESTARTED = "↻ the generation started over (the job was taken again); the text above is void:"


class TerminalText:
    """A LiveListener that writes the text to stdout and the rest to stderr."""

    def __init__(self, display: PhaseDisplay, out: TextIO, err: Console) -> None:
        self._display = display
        self._out = out
        self._err = err
        self._line_open = False

    def phase(self, phase: JobPhase) -> None:
        self._display.show(phase)

    def text(self, delta: str) -> None:
        self._display.stop()
        self._out.write(delta)
        self._out.flush()
        self._line_open = not delta.endswith("\n")

    def restarted(self) -> None:
        self.end_line()
        self._err.print(RESTARTED, style="yellow")

    def end_line(self) -> None:
        """A line of text left open ends, so what stderr says next starts on its own."""
        if self._line_open:
            self._out.write("\n")
            self._out.flush()
            self._line_open = False


def follow_on_terminal(
    ctx: Context, api: ApiClient, job_id: str, first: JobPhase, started: float
) -> tuple[Reply, str]:
    """The reply, and the text of it already on stdout ("" when none is)."""
    # Taken before the spinner starts: while it runs, rich swaps sys.stdout for a proxy
    # that prints through the stderr console.
    out = sys.stdout
    with PhaseDisplay(ctx.err, started) as display:
        display.show(first)
        screen = TerminalText(display, out, ctx.err)
        try:
            found, told = follow_reply(
                api, job_id, screen, deadline=started + ctx.settings.wait_timeout_seconds
            )
        except BaseException:  # a timeout, Ctrl-C: the one-line message gets its own line
            screen.end_line()
            raise
    if isinstance(found, Reply):
        return found, told.told
    screen.end_line()
    ctx.err.print(
        f"{found.reason}: waiting for job {job_id}'s reply by polling; it is stored whole "
        "whatever became of the stream",
        style="dim",
    )
    return ctx.wait(api, job_id, None, started), ""
