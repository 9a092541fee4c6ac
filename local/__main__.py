"""`python -m local` (`make up`): the whole system on this machine until Ctrl-C.

Exit status: 0 after Ctrl-C or SIGTERM, 1 when a part did not come up, 2 for a bad setting,
3 when the engine check failed (the engine died or produced no token; one line says how).
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from types import FrameType

from local.preflight import EngineCheckFailed
from local.processes import StartFailed
from local.settings import LocalSettings
from local.stack import LocalStack, StackAddresses
from tlfif.errors import ConfigError, TlfifError
from tlfif.settings import CommonSettings

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_ENGINE = 0, 1, 2, 3
READY_LINE = "TL-FIF local stack is up"


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived: stop everything."""


def say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def main() -> int:
    try:
        settings = LocalSettings.load()
        common = CommonSettings.load()
    except ConfigError as exc:
        print(f"local stack: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    stack = LocalStack(settings, common, say)
    status = EXIT_OK
    try:
        say("starting the local stack (moto, Redis, IMDS, router, node agent) ...")
        print(banner(stack.start()), flush=True)
        while True:
            signal.pause()
    except Interrupted as exc:
        say(f"{exc}: stopping everything ...")
    except EngineCheckFailed as exc:
        print(f"local stack: {exc}", file=sys.stderr, flush=True)
        status = EXIT_ENGINE
    except (StartFailed, TlfifError, OSError) as exc:
        print(f"local stack: did not start: {exc}", file=sys.stderr, flush=True)
        status = EXIT_FAILED
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
    say("stopped")
    return status


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # Ignored from here on: a second Ctrl-C (or a SIGINT sent to the whole process group)
    # must not cut the clean-up short and leave servers running.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Interrupted(signal.Signals(signum).name)


def banner(up: StackAddresses) -> str:
    account = up.account
    redis_shown = up.redis_url.split("@")[-1]  # without the password
    engine = "llama.cpp server" if up.local_engine else "external server"
    cli = _cli_command()
    instances = ", ".join(node.instance_id for node in up.nodes)
    if len(up.nodes) == 1:
        node_lines = [f"  IMDSv2         {up.nodes[0].imds_url}"]
    else:
        node_lines = [
            f"  node {index}         {node.instance_id}  IMDSv2 {node.imds_url}, "
            f"logs {node.run_dir}"
            for index, node in enumerate(up.nodes, start=1)
        ]
    return "\n".join(
        [
            f"{READY_LINE} (logs: {up.run_dir})",
            f"  router (API)   {up.router_url}",
            f"  OpenAI API     {up.router_url}/v1  model {up.engine_model} (a token as the key)",
            f"  chat page      {up.router_url}/  (the demo user signs in by itself)",
            f"  AWS emulator   {up.moto_url}  moto: EC2 {instances} (stopped), "
            f"S3 {account.bucket}, Cognito {account.user_pool_id}",
            f"  replies topic  {account.replies_topic_arn}  (webhooks: loopback receivers "
            "allowed, the sender reads S3 events from SQS)",
            f"  Redis          redis://{redis_shown}",
            *node_lines,
            f"  engine         {up.engine_url}  {engine}, model {up.engine_model}",
            f"  client profile {up.profile_path} (demo user and password inside)",
            "Try, in another terminal:",
            f'  {cli} infer "Hello"',
            "Ctrl-C stops everything.",
        ]
    )


def _cli_command() -> str:
    script = Path(sys.executable).parent / "tlfif"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


if __name__ == "__main__":
    sys.exit(main())
