"""`python -m bench [imports|router_warm|engine|queues ...]`: run the named benchmarks
(default: all but queues), each writing bench/results/<name>.json, and say where the
results went. Options after a single name go to that benchmark: `python -m bench queues
--jobs 300`."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import engine, imports, queues, router_warm

BENCHMARKS: dict[str, Callable[[], Path | None]] = {
    "imports": imports.run,
    "router_warm": router_warm.run,
    "engine": engine.run,
    "queues": queues.run,
}
# Not in a plain `python -m bench` (`make bench`): ~10 min, on venvs `make bench-setup` makes.
ON_REQUEST = ("queues",)
# The benchmarks that take options of their own.
WITH_OPTIONS: dict[str, Callable[[list[str]], Path | None]] = {"queues": queues.run}


def main(argv: list[str]) -> int:
    first_option = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    names, options = argv[:first_option], argv[first_option:]
    names = names or [name for name in BENCHMARKS if name not in ON_REQUEST]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    if options and (len(names) != 1 or names[0] not in WITH_OPTIONS):
        print(f"options go after one benchmark that takes them: {', '.join(WITH_OPTIONS)}")
        return 2
    written: list[Path] = []
    started = time.monotonic()
    for name in names:
        path = WITH_OPTIONS[name](options) if options else BENCHMARKS[name]()
        if path is not None:
            written.append(path)
        print()
    print(f"{len(written)} result file(s) in {time.monotonic() - started:.0f} s:")
    for path in written:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
