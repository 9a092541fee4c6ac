"""local/crash_report.py: how a process ended, with the faulting library the kernel names."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from local import crash_report
from local.crash_report import describe_exit

PID = 11051
# As kernel 6.x logged llama.cpp's AMX fault on this machine kind (GGML_NATIVE build): the
# worker thread's id, and the library on a record of its own.
AMX_FAULT = [
    (2936178265.0, f"traps: python[{PID + 2}] general protection fault ip:7f64b5e7c193 "
     "sp:7f64adffd980 error:0"),
    (2936178276.0, " in libggml-cpu.so.0[7c193,7f64b5e14000+156000]"),
]  # fmt: skip
STARTED = 2935.0  # time.monotonic() when the process started: before the fault


def kernel_says(monkeypatch: pytest.MonkeyPatch, records: list[tuple[float, str]]) -> None:
    monkeypatch.setattr(crash_report, "_kernel_records", lambda: records)


def test_a_general_protection_fault_names_its_library(monkeypatch: pytest.MonkeyPatch) -> None:
    kernel_says(monkeypatch, AMX_FAULT)
    ended = describe_exit(-11, PID, STARTED, None)
    assert str(ended) == "died by SIGSEGV (general protection fault in libggml-cpu.so.0)"
    assert ended.signal == "SIGSEGV"


def test_an_invalid_opcode_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    line = f"traps: python3[{PID}] trap invalid opcode ip:7f sp:7f error:0 in libggml-cpu.so[7f+1]"
    kernel_says(monkeypatch, [(2936e6, line)])
    assert str(describe_exit(-4, PID, STARTED, None)) == (
        "died by SIGILL (invalid opcode in libggml-cpu.so)"
    )


@pytest.mark.parametrize(
    "records",
    [
        # An older process's fault, and one logged before this process started.
        [(2936e6, f"python[{PID - 5}]: segfault at 0 ip 7f sp 7f error 4 in libc.so.6[7f+1]")],
        [(2900e6, f"python[{PID}]: segfault at 0 ip 7f sp 7f error 4 in libc.so.6[7f+1]")],
    ],
)
def test_a_fault_of_another_process_is_not_blamed(
    monkeypatch: pytest.MonkeyPatch, records: list[tuple[float, str]]
) -> None:
    kernel_says(monkeypatch, records)
    assert str(describe_exit(-11, PID, STARTED, None)) == "died by SIGSEGV"


def test_without_the_kernel_log_the_processs_own_output_may_name_the_library(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kernel_says(monkeypatch, [])
    output = tmp_path / "engine.log"
    output.write_text("loading model\nFatal: illegal instruction in /opt/x/libggml-cpu.so\n")
    assert str(describe_exit(-4, PID, STARTED, output)) == "died by SIGILL (in libggml-cpu.so)"


def test_an_exit_status_is_said_as_such() -> None:
    assert str(describe_exit(3, PID, STARTED, None)) == "exited with status 3"


@pytest.mark.skipif(not crash_report.KMSG.exists(), reason="no kernel log on this system")
def test_a_real_segfault_is_found_in_the_kernel_log_when_it_can_be_read() -> None:
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c", "import ctypes; ctypes.string_at(0)"])
    ended = describe_exit(child.wait(30), child.pid, started, None)
    assert ended.signal == "SIGSEGV"
    if crash_report._kernel_records():  # readable: root, or kernel.dmesg_restrict=0
        assert ended.library is not None and ended.library.startswith("libc.so")
