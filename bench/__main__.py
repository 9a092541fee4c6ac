"""`python -m bench [imports|router_warm|engine ...]`: run the named benchmarks (default:
all), each writing bench/results/<name>.json, and say where the results went."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import engine, imports, router_warm

BENCHMARKS: dict[str, Callable[[], Path | None]] = {
    "imports": imports.run,
    "router_warm": router_warm.run,
    "engine": engine.run,
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    written: list[Path] = []
    started = time.monotonic()
    for name in names:
        path = BENCHMARKS[name]()
        if path is not None:
            written.append(path)
        print()
    print(f"{len(written)} result file(s) in {time.monotonic() - started:.0f} s:")
    for path in written:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
