"""Child processes of the local stack: each in its own session, logged to a file, stopped
as a whole (its process group, then anything left in its session).

A new session keeps a terminal's Ctrl-C away from the children, so the stack stops them in
its own order; supervisord puts each program in a process group of its own, so a stop also
sweeps the session, not only the group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx

STOP_TIMEOUT_SECONDS = 10.0

# Every child this process started and has not stopped yet, oldest first, so a start
# interrupted half-way (Ctrl-C between two steps) still leaves nothing running.
_started: list[ChildProcess] = []


def free_port() -> int:
    """A port free on 127.0.0.1 now (the OS may hand it out again, so bind it soon)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pick_port(configured: int) -> int:
    return configured or free_port()


class ChildProcess:
    """One command started in a new session, stdout and stderr into `<log_dir>/<name>.log`."""

    def __init__(
        self, name: str, args: Sequence[str], env: Mapping[str, str], log_dir: Path
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.started = time.monotonic()  # the clock local/crash_report.py compares with
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(args),
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _started.append(self)

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """SIGTERM to the group, SIGKILL after `timeout`; then whatever is left in the session."""
        if self.running():
            _signal_group(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.pid, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT_SECONDS)
        for pid in session_members(self.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self in _started:
            _started.remove(self)

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def stop_all_started() -> None:
    """Stop every child still running, newest first."""
    for child in reversed(list(_started)):
        child.stop()


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def session_members(sid: int) -> list[int]:
    """Live processes of session `sid` (a started child is its session's leader)."""
    members = []
    for pid in _all_pids():
        try:
            if pid != os.getpid() and os.getsid(pid) == sid:
                members.append(pid)
        except (ProcessLookupError, PermissionError):
            continue
    return members


def _all_pids() -> list[int]:
    proc = Path("/proc")
    if proc.is_dir():
        return [int(entry.name) for entry in proc.iterdir() if entry.name.isdigit()]
    # macOS and the BSDs have no /proc.
    listing = subprocess.run(["ps", "-A", "-o", "pid="], capture_output=True, text=True)
    return [int(word) for word in listing.stdout.split()]


@contextlib.contextmanager
def stopped_on_failure(child: ChildProcess) -> Iterator[None]:
    """Stop `child` if the block fails (or is interrupted) before it is handed on."""
    try:
        yield
    except BaseException:
        child.stop()
        raise


class StartFailed(RuntimeError):
    """A part of the stack did not come up; the message names it and quotes its log."""


def wait_until_answers(child: ChildProcess, url: str, timeout: float) -> None:
    """Wait until `url` answers any HTTP status (the server is up), or fail naming the log."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            pass
        if not child.running():
            raise StartFailed(f"{child.name} exited ({child.log_path}):\n{child.tail()}")
        if time.monotonic() > deadline:
            raise StartFailed(f"{child.name} did not answer {url} within {timeout:.0f} s")
        time.sleep(0.1)
