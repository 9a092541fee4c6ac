"""How a child process ended, in words: the signal or exit code, and the library at fault.

A native crash shows in two places: the exit status (a signal) and, on Linux, a line of the
kernel log, e.g.
    python3[4242]: segfault at 0 ip 7f.. sp 7f.. error 4 in libllama.so[7f..]
    traps: python3[4242] trap invalid opcode ip:7f.. sp:7f.. error:0 in libggml-cpu.so[7f..]
or, as kernel 6.x logs a general protection fault, in two records:
    traps: python[11053] general protection fault ip:7f64b5e7c193 sp:7f64adffd980 error:0
     in libggml-cpu.so.0[7c193,7f64b5e14000+156000]
(seen here: llama.cpp built with GGML_NATIVE on a Xeon with AMX, faulting on `ldtilecfg`).
The pid there is the faulting thread's, not the process's (llama.cpp's worker threads run
the kernels), so a line is taken when it was logged after the process started, by a thread
id from the process's own on (threads get ids after the process's). The kernel log is read from
/dev/kmsg, which needs root or kernel.dmesg_restrict=0; without it, or when the process's
own output names a library beside the fault, that is used instead.
"""

from __future__ import annotations

import errno
import os
import re
import signal
from dataclasses import dataclass
from pathlib import Path

KMSG = Path("/dev/kmsg")
# What the kernel says of a fault, and where it happened.
FAULT_RE = re.compile(
    r"(general protection fault|segfault at|trap invalid opcode|trap divide error|"
    r"trap stack segment|trap int3)"
)
IN_LIBRARY_RE = re.compile(r"(?:^|\s)in ([\w.+-]+\.so[\w.]*)\[")
OUTPUT_LIBRARY_RE = re.compile(r"([\w.+-]*lib[\w.+-]+\.so[\w.]*)")
OUTPUT_FAULT_RE = re.compile(r"(?i)(fault|illegal instruction|segmentation|sigsegv|sigill|abort)")
THREAD_RE = re.compile(r"\[(\d+)\]")
# Kernel lines up to this long before the start count: printk's clock and CLOCK_MONOTONIC
# agree to well under this on x86 (both follow the TSC).
CLOCK_SLACK_SECONDS = 0.1
# How much of the process's own output is read for a library name.
OUTPUT_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class Exit:
    """A finished process: `how` ("died by SIGSEGV", "exited with status 1") and, where
    known, the kernel's word for the fault and the library it happened in."""

    how: str
    signal: str | None
    fault: str | None = None
    library: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.fault and self.library:
            where = f" ({self.fault} in {self.library})"
        elif self.library:
            where = f" (in {self.library})"
        elif self.fault:
            where = f" ({self.fault})"
        return self.how + where


def describe_exit(returncode: int, pid: int, started_monotonic: float, output: Path | None) -> Exit:
    """How process `pid`, started at `started_monotonic` (time.monotonic()), ended;
    `output` is where its stdout and stderr went."""
    if returncode >= 0:
        return Exit(f"exited with status {returncode}", None)
    name = _signal_name(-returncode)
    fault, library = _kernel_fault(pid, started_monotonic)
    if library is None and output is not None:
        library = _library_in_output(output)
    return Exit(f"died by {name}", name, fault, library)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _kernel_fault(pid: int, since_monotonic: float) -> tuple[str | None, str | None]:
    """The last fault the kernel logged for the process, and its library; (None, None) if
    the log cannot be read or says nothing of it."""
    since_us = (since_monotonic - CLOCK_SLACK_SECONDS) * 1_000_000
    found: tuple[str | None, str | None] = (None, None)
    records = _kernel_records()
    for index, (stamp_us, text) in enumerate(records):
        fault = FAULT_RE.search(text)
        thread = THREAD_RE.search(text)
        if stamp_us < since_us or fault is None or thread is None or int(thread[1]) < pid:
            continue
        # The library is on the same line, or on the next record when the kernel split it.
        following = records[index + 1][1] if index + 1 < len(records) else ""
        library = IN_LIBRARY_RE.search(text) or IN_LIBRARY_RE.match(following.lstrip())
        kind = "segfault" if fault.group(1) == "segfault at" else fault.group(1)
        found = (kind.removeprefix("trap "), library.group(1) if library else None)
    return found


def _kernel_records() -> list[tuple[float, str]]:
    """(timestamp in µs since boot, text) of each record in the kernel's ring buffer."""
    try:
        fd = os.open(KMSG, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return []
    records = []
    try:
        while True:
            try:
                raw = os.read(fd, 8192)
            except OSError as exc:
                if exc.errno == errno.EPIPE:
                    continue  # the buffer wrapped under us: read on from the oldest
                break  # EAGAIN: read to the end
            if not raw:
                break
            # "<priority>,<seq>,<µs since boot>,<flags>;<text>\n"
            prefix, _, text = raw.decode("utf-8", "replace").partition(";")
            fields = prefix.split(",")
            if len(fields) >= 3 and fields[2].isdigit():
                records.append((float(fields[2]), text.splitlines()[0] if text else ""))
    finally:
        os.close(fd)
    return records


def _library_in_output(output: Path) -> str | None:
    """A library the process's own last words name beside a fault (an abort message, a
    backtrace)."""
    try:
        with output.open("rb") as log:
            log.seek(max(0, output.stat().st_size - OUTPUT_TAIL_BYTES))
            tail = log.read().decode("utf-8", "replace")
    except OSError:
        return None
    for line in reversed(tail.splitlines()):
        library = OUTPUT_LIBRARY_RE.search(line)
        if library and OUTPUT_FAULT_RE.search(line):
            return Path(library.group(1)).name
    return None
