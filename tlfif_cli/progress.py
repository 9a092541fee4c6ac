"""The live view of a waiting job on stderr: its phase and the time since it was sent.

On a terminal, a rich spinner whose elapsed time ticks between polls, and a line for each
phase once it is over, until the reply's text starts (`stop`); elsewhere (a pipe, a log,
CI) one plain line per phase change.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.status import Status
from rich.text import Text

from tlfif.client.phase import DESCRIPTION, JobPhase

# The spinner only redraws the clock: four frames a second is smooth enough.
REFRESH_PER_SECOND = 4


class PhaseDisplay:
    """`with PhaseDisplay(console) as display: display.show("starting")`."""

    def __init__(self, console: Console, started: float | None = None) -> None:
        self._console = console
        self._started = time.monotonic() if started is None else started
        self._phase: JobPhase | None = None
        self._phase_started = self._started
        self._status: Status | None = None

    def __enter__(self) -> PhaseDisplay:
        if self._console.is_terminal:
            # The Status draws this object on each refresh, so the clock ticks while a
            # long poll blocks the main thread.
            self._status = Status(
                self, console=self._console, refresh_per_second=REFRESH_PER_SECOND
            )
            self._status.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
            if exc_type is None:
                self._print_finished_phase()

    def stop(self) -> None:
        """The spinner ends now, its phase printed as finished: the reply's text is about
        to take the terminal, and a spinner redrawn beside it would tear its lines."""
        self.__exit__(None, None, None)

    def show(self, phase: JobPhase) -> None:
        if phase == self._phase:
            return
        if self._status is not None:
            self._print_finished_phase()
        self._phase, self._phase_started = phase, time.monotonic()
        if self._status is None:
            self.note(DESCRIPTION[phase])

    def note(self, message: str) -> None:
        """A line above the spinner (a retry, a node start error); the spinner goes on."""
        self._console.print(f"[{self.elapsed():6.1f} s] {message}", highlight=False, markup=False)

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def __rich__(self) -> Text:
        phase = DESCRIPTION[self._phase] if self._phase else "sending"
        return Text(f"{phase}  {self.elapsed():.0f} s")

    def _print_finished_phase(self) -> None:
        if self._phase is not None:
            took = time.monotonic() - self._phase_started
            self._console.print(
                Text(f"✓ {DESCRIPTION[self._phase]} ({took:.1f} s)", style="dim"),
            )
