"""`python -m scheduled_check --every 60`: the scheduled check as a loop, for the local stack.

Settings as the Lambda's (TLFIF_*, TLFIF_CHECK_*); AWS_ENDPOINT_URL reaches an emulator.
A failed run is logged and the loop goes on; SIGTERM or SIGINT ends it after the current
run. Exit status: 0, or 2 for a bad setting.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import asdict

from aws_lambda_powertools import Logger

from scheduled_check.handler import Checker, build
from tlfif.errors import ConfigError, TlfifError
from tlfif.runtime.lambda_logs import route_core_logs

EXIT_OK, EXIT_CONFIG = 0, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduled_check")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between runs")
    parser.add_argument("--once", action="store_true", help="run once and exit")
    args = parser.parse_args(argv)
    logger = Logger(service="scheduled_check")
    route_core_logs(logger)
    try:
        checker = build()
    except ConfigError as exc:
        logger.error("config error", extra={"error": exc.message})
        return EXIT_CONFIG
    asyncio.run(run_loop(checker, logger, every=args.every, once=args.once))
    return EXIT_OK


async def run_loop(checker: Checker, logger: Logger, *, every: float, once: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        while not stop.is_set():
            try:
                logger.info("check done", extra=asdict(await checker.run()))
            except TlfifError as exc:
                logger.error("check failed", extra={"code": exc.code, "error": exc.message})
            except Exception:
                logger.exception("check crashed")
            if once:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
    finally:
        await checker.aclose()


if __name__ == "__main__":
    raise SystemExit(main())
