"""The installed local engine carries no instruction beyond the portable baseline.

An AMX tile instruction (ldtilecfg, tdpb*) or an AVX-512 register (zmm) in llama.cpp's
libraries faults on CPUs or VMs without them: with AMX, a general protection fault in
libggml-cpu.so on the first generation. Disassembling the libraries finds them on any
machine, with AMX or without, so the guard bites wherever CI runs.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

# Tile configuration and the tile dot products (tdpbssd, tdpbf16ps, ...), and any zmm register.
BEYOND_BASELINE = re.compile(r"\b(ldtilecfg|sttilecfg|tileloadd\w*|tdpb\w+)\b|%zmm\d+")


def engine_libraries() -> list[Path]:
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        pytest.fail("llama_cpp is not installed: the engine guard needs it (make test installs it)")
    libraries = sorted((Path(spec.origin).parent / "lib").glob("libggml*.so*"))
    # The versioned file and its symlinks are one library: disassemble each once.
    return sorted({library.resolve() for library in libraries})


def test_no_ggml_library_uses_amx_or_avx512() -> None:
    objdump = shutil.which("objdump")
    assert objdump, "objdump is missing: install binutils (.ci/run does)"
    libraries = engine_libraries()
    assert any("ggml-cpu" in library.name for library in libraries), libraries
    found = {}
    for library in libraries:
        listing = subprocess.run(
            [objdump, "-d", "--no-show-raw-insn", str(library)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        hits = sorted({match.group(0) for match in BEYOND_BASELINE.finditer(listing)})
        if hits:
            found[library.name] = hits[:10]
    assert found == {}, f"built beyond the portable baseline (make clean && make up): {found}"


def test_the_guard_sees_amx_and_avx512_where_they_are() -> None:
    amx = "  7c193:\tldtilecfg (%rax)\n  7c1a0:\ttdpbssd %tmm2,%tmm1,%tmm0\n"
    avx512 = "  1234:\tvfmadd231ps %zmm1,%zmm2,%zmm3\n"
    baseline = "  1234:\tvfmadd231ps %ymm1,%ymm2,%ymm3\n"
    assert {m.group(0) for m in BEYOND_BASELINE.finditer(amx)} == {"ldtilecfg", "tdpbssd"}
    assert BEYOND_BASELINE.search(avx512)
    assert not BEYOND_BASELINE.search(baseline)
