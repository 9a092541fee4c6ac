"""The whole system on one machine: AWS emulator, Redis, IMDS, router, scheduled check,
node agent.

Start order follows the dependencies (the router needs Redis and moto; the IMDS needs the
seeded instance's id). `stop()` stops the node first, then every server, newest first; it
is safe after a start that failed or was interrupted half-way.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from local.agent import EngineRestarts, NodeAgent
from local.emulator import EmulatedAccount, PoolUser, aws_client, seed_account, start_moto
from local.environment import child_env, engine_env
from local.llama_server import engine_args, model_path
from local.node import LocalNode, NodeSpec
from local.preflight import EngineCommand, check_engine
from local.processes import (
    ChildProcess,
    pick_port,
    stop_all_started,
    stopped_on_failure,
    wait_until_answers,
)
from local.redis_server import start_redis
from local.settings import LocalSettings
from tlfif.client.config import StackConfig, save_profile
from tlfif.settings import CommonSettings

START_TIMEOUT_SECONDS = 60.0
# --no-proxy-headers: uvicorn would otherwise take a loopback client's X-Forwarded-For as
# its address, and every local client is on loopback: the per-address limits would count
# whatever a client claims (router/middleware.py never reads that header either).
ROUTER_ARGS = ["-m", "uvicorn", "--factory", "router.asgi:create_app_from_env",
               "--host", "127.0.0.1", "--no-access-log", "--no-proxy-headers"]  # fmt: skip


@dataclass(frozen=True)
class StackAddresses:
    """Where each part listens, for the banner."""

    router_url: str
    moto_url: str
    redis_url: str
    imds_url: str
    engine_url: str
    engine_model: str
    local_engine: bool
    run_dir: Path
    profile_path: Path
    account: EmulatedAccount


class LocalStack:
    def __init__(
        self, settings: LocalSettings, common: CommonSettings, say: Callable[[str], None]
    ) -> None:
        self.settings = settings
        self.common = common
        self.say = say
        self._agent_stop = threading.Event()
        self._agent_thread: threading.Thread | None = None

    def start(self) -> StackAddresses:
        settings = self.settings
        run_dir = settings.run_dir or Path(tempfile.mkdtemp(prefix="tlfif-local-"))
        run_dir.mkdir(parents=True, exist_ok=True)
        engine = self._engine_command()
        if engine is not None:
            self.say(f"checking the engine: it must load and produce one token ({engine.model})")
            took = check_engine(engine, run_dir, settings.readiness_timeout_seconds)
            self.say(f"engine check passed in {took:.1f} s")
        account = self._start_emulator(run_dir)
        _, redis_url = start_redis(pick_port(settings.redis_port), child_env(), run_dir)
        aws_env = child_env(
            aws_endpoint_url=account.endpoint_url,
            region=account.region,
            shared={
                "TLFIF_REDIS_URL": redis_url,
                "TLFIF_BUCKET": account.bucket,
                # Webhook receivers on this machine are allowed; private addresses still not.
                "TLFIF_WEBHOOK_ALLOW_LOOPBACK": "true",
            },
        )
        imds_args = ["-m", "local.imds", "--instance-id", account.instance_id,
                     "--region", account.region, "--host", "127.0.0.1"]  # fmt: skip
        imds_url = self._serve("imds", imds_args, settings.imds_port, child_env(), run_dir,
                               probe="/latest/api/token")  # fmt: skip
        router_env = {
            **aws_env,
            "TLFIF_ROUTER_COGNITO_ISSUER": account.issuer,
            "TLFIF_ROUTER_JWKS_URL": account.jwks_url,
            "TLFIF_ROUTER_CLIENT_IDS": account.client_id,
            # What the node's engine serves: GET /v1/models lists it, /v1 requests name it.
            "TLFIF_ROUTER_SERVED_MODEL": settings.engine_model,
            # The chat page signs the demo user in by itself, at the emulator (ADR 0026).
            "TLFIF_ROUTER_CHAT_COGNITO_URL": account.endpoint_url,
            "TLFIF_ROUTER_CHAT_CLIENT_ID": account.client_id,
            "TLFIF_ROUTER_CHAT_DEMO_USERNAME": settings.demo_username,
            "TLFIF_ROUTER_CHAT_DEMO_PASSWORD": settings.demo_password,
        }
        router_url = self._serve(
            "router", ROUTER_ARGS, settings.router_port, router_env, run_dir, probe="/ping"
        )
        check_args = [sys.executable, "-m", "scheduled_check",
                      "--every", str(settings.check_every_seconds)]  # fmt: skip
        ChildProcess("scheduled-check", check_args, aws_env, run_dir)
        # The webhook sender on each new reply, fed from moto's S3 -> SQS events (ADR 0031).
        events_args = [sys.executable, "-m", "local.reply_events",
                       "--queue-url", account.reply_events_queue_url]  # fmt: skip
        sender_env = {**aws_env, "TLFIF_SENDER_TOPIC_ARN": account.replies_topic_arn}
        ChildProcess("reply-events", events_args, sender_env, run_dir)
        engine_url = self._start_agent(account, aws_env, imds_url, engine, run_dir)
        return StackAddresses(
            router_url=router_url,
            moto_url=account.endpoint_url,
            redis_url=redis_url,
            imds_url=imds_url,
            engine_url=engine_url,
            engine_model=settings.engine_model,
            local_engine=engine is not None,
            run_dir=run_dir,
            profile_path=self._save_profile(account, router_url),
            account=account,
        )

    def stop(self) -> None:
        """Node first (its watcher may still be writing a reply), then every server."""
        self._agent_stop.set()
        if self._agent_thread is not None:
            self._agent_thread.join()
        stop_all_started()

    def _start_emulator(self, run_dir: Path) -> EmulatedAccount:
        _, moto_url = start_moto(pick_port(self.settings.moto_port), child_env(), run_dir)
        return seed_account(
            moto_url,
            self.common.region,
            self.common.bucket,
            (self.common.node_tag_key, self.common.node_tag_value),
            [
                PoolUser(self.settings.demo_username, self.settings.demo_password, owner=True),
                PoolUser(self.settings.guest_username, self.settings.guest_password, owner=False),
            ],
        )

    def _serve(
        self,
        name: str,
        python_args: list[str],
        port_setting: int,
        env: Mapping[str, str],
        run_dir: Path,
        probe: str,
    ) -> str:
        """A Python server as a child on 127.0.0.1; its URL once `probe` answers."""
        port = pick_port(port_setting)
        args = [sys.executable, *python_args, "--port", str(port)]
        child = ChildProcess(name, args, env, run_dir)
        url = f"http://127.0.0.1:{port}"
        with stopped_on_failure(child):
            wait_until_answers(child, url + probe, START_TIMEOUT_SECONDS)
        return url

    def _engine_command(self) -> EngineCommand | None:
        """The engine the node runs: a command of the user's, llama.cpp's server with the
        local model, or None when the stack uses an external engine's URL."""
        settings = self.settings
        if settings.engine_url:
            return None
        port = pick_port(settings.engine_port)
        if settings.engine_command:
            args = shlex.split(settings.engine_command.replace("{port}", str(port)))
        else:
            # Assembled (and its sha256 checked) now, not on the first boot.
            args = engine_args(
                model_path(), settings.engine_model, port, settings.chat_format,
                settings.engine_context_tokens, settings.engine_threads,
            )  # fmt: skip
        return EngineCommand(args, engine_env(), port, settings.engine_model)

    def _start_agent(
        self,
        account: EmulatedAccount,
        aws_env: Mapping[str, str],
        imds_url: str,
        engine: EngineCommand | None,
        run_dir: Path,
    ) -> str:
        """Starts the node agent's thread; returns the engine URL the watcher uses."""
        settings = self.settings
        engine_url = f"http://127.0.0.1:{engine.port}/v1" if engine else str(settings.engine_url)
        watcher_env = {
            **aws_env,
            "TLFIF_WATCHER_ENGINE_URL": engine_url,
            "TLFIF_WATCHER_ENGINE_MODEL": settings.engine_model,
            "TLFIF_WATCHER_IMDS_URL": imds_url,
            "TLFIF_WATCHER_READINESS_TIMEOUT_SECONDS": str(settings.readiness_timeout_seconds),
        }
        if settings.idle_cap_seconds is not None:
            watcher_env["TLFIF_WATCHER_IDLE_CAP_SECONDS"] = str(settings.idle_cap_seconds)
        args, env = (engine.args, engine.env) if engine is not None else (None, engine_env())
        node = LocalNode(NodeSpec(args, env, watcher_env, run_dir))
        restarts = EngineRestarts(
            restart_delay_seconds=settings.engine_restart_delay_seconds,
            start_limit_burst=settings.engine_start_limit_burst,
            start_limit_interval_seconds=settings.engine_start_limit_interval_seconds,
        )
        agent = NodeAgent(
            aws_client("ec2", account.endpoint_url, account.region),
            account.instance_id,
            node,
            settings.boot_delay_seconds,
            settings.poll_seconds,
            engine_url,
            restarts,
            self.say,
        )
        self._agent_thread = threading.Thread(
            target=agent.run, args=(self._agent_stop,), name="node-agent"
        )
        self._agent_thread.start()
        return engine_url

    def _save_profile(self, account: EmulatedAccount, router_url: str) -> Path:
        """The owner's profile (its file is returned), and the guest's beside it."""
        settings = self.settings

        def profile(username: str, password: str) -> StackConfig:
            return StackConfig(
                api_url=router_url,
                region=account.region,
                user_pool_id=account.user_pool_id,
                client_id=account.client_id,
                cognito_endpoint_url=account.endpoint_url,
                demo_username=username,
                demo_password=password,
            )

        guest = profile(settings.guest_username, settings.guest_password)
        save_profile(guest, f"{settings.profile}-guest")
        return save_profile(
            profile(settings.demo_username, settings.demo_password), settings.profile
        )
