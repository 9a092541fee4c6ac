"""`python -m bench [NAME ...]`: run the named benchmarks (default: all, `make bench`,
~9 min on 2 cores after `make bench-setup`), each writing bench/results/<name>.json, and
say where the results went. Options after a single name go to that benchmark: `python -m
bench queues --jobs 5000 --rounds 5`."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import (
    burst,
    cold_start,
    engine,
    first_token,
    imports,
    queue_backlog,
    queues,
    router,
    wake_ahead,
    watcher_engine,
)

BENCHMARKS: dict[str, Callable[[], Path | None]] = {
    "imports": imports.run,
    "router": router.run,
    "engine": engine.run,
    "queues": queues.run,
    "queue_backlog": queue_backlog.run,
    "watcher_engine": watcher_engine.run,
    "cold_start": cold_start.run,
    "first_token": first_token.run,
    "wake_ahead": wake_ahead.run,
    "burst": burst.run,
}
# Not in a plain `python -m bench` (`make bench`): wake_ahead, which waits out real 30 s
# boots (~4 min), and burst, two local stacks of one and two nodes (~3 min); the queues
# run in their quicker defaults there, and the longer runs are options (`--jobs`,
# `--rounds`).
ON_REQUEST: tuple[str, ...] = ("wake_ahead", "burst")
# The benchmarks that take options of their own.
WITH_OPTIONS: dict[str, Callable[[list[str]], Path | None]] = {
    "queues": queues.run,
    "queue_backlog": queue_backlog.run,
}


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
