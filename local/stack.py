"""The whole system on one machine: AWS emulator, Redis, IMDS, router, scheduled check,
node agent.

Start order follows the dependencies (the router needs Redis and moto; each IMDS needs its
seeded instance's id). With TLFIF_LOCAL_NODES above 1 each node instance gets its own IMDS,
agent thread and run sub-folder. `stop()` stops every node first, then every server, newest
first; it is safe after a start that failed or was interrupted half-way.
"""

from __future__ import annotations

import os
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
class LocalNodeAddress:
    """One node instance: its IMDS (what its watcher reads its id from) and its logs."""

    instance_id: str
    imds_url: str
    run_dir: Path


@dataclass(frozen=True)
class StackAddresses:
    """Where each part listens, for the banner."""

    router_url: str
    moto_url: str
    redis_url: str
    nodes: tuple[LocalNodeAddress, ...]
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
        self._agent_threads: list[threading.Thread] = []

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
        shared = {
            "TLFIF_REDIS_URL": redis_url,
            "TLFIF_BUCKET": account.bucket,
            # Webhook receivers on this machine are allowed; private addresses still not.
            "TLFIF_WEBHOOK_ALLOW_LOOPBACK": "true",
        }
        if "TLFIF_NODE_COUNT_MAX" not in os.environ:
            # As many nodes may run as there are (ADR 0032): the router and the check scale
            # out to them all.
            shared["TLFIF_NODE_COUNT_MAX"] = str(settings.nodes)
        aws_env = child_env(
            aws_endpoint_url=account.endpoint_url, region=account.region, shared=shared
        )
        nodes = tuple(self._node_address(account, i, run_dir) for i in account.instance_ids)
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
        engine_url = self._engine_url(engine)
        for node in nodes:
            self._start_agent(account, aws_env, node, engine, engine_url)
        return StackAddresses(
            router_url=router_url,
            moto_url=account.endpoint_url,
            redis_url=redis_url,
            nodes=nodes,
            engine_url=engine_url,
            engine_model=settings.engine_model,
            local_engine=engine is not None,
            run_dir=run_dir,
            profile_path=self._save_profile(account, router_url),
            account=account,
        )

    def stop(self) -> None:
        """Every node first, at once (a watcher may still be writing a reply), then every
        server."""
        self._agent_stop.set()
        for thread in self._agent_threads:
            thread.join()
        stop_all_started()

    def _node_address(
        self, account: EmulatedAccount, instance_id: str, run_dir: Path
    ) -> LocalNodeAddress:
        """The node's IMDS, serving its instance id; one node keeps the run dir as it is,
        several get a sub-folder each (logs, supervisord's socket)."""
        first = instance_id == account.instance_id
        node_dir = run_dir if len(account.instance_ids) == 1 else run_dir / instance_id
        node_dir.mkdir(parents=True, exist_ok=True)
        imds_args = ["-m", "local.imds", "--instance-id", instance_id,
                     "--region", account.region, "--host", "127.0.0.1"]  # fmt: skip
        # A fixed TLFIF_LOCAL_IMDS_PORT is the first node's; the others take free ports.
        port = self.settings.imds_port if first else 0
        imds_url = self._serve("imds", imds_args, port, child_env(), node_dir,
                               probe="/latest/api/token")  # fmt: skip
        return LocalNodeAddress(instance_id, imds_url, node_dir)

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
            node_count=self.settings.nodes,
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

    def _engine_url(self, engine: EngineCommand | None) -> str:
        """The engine URL the watchers use: the local engine's, or the external one."""
        return f"http://127.0.0.1:{engine.port}/v1" if engine else str(self.settings.engine_url)

    def _start_agent(
        self,
        account: EmulatedAccount,
        aws_env: Mapping[str, str],
        node_address: LocalNodeAddress,
        engine: EngineCommand | None,
        engine_url: str,
    ) -> None:
        """Starts one node's agent thread."""
        settings = self.settings
        watcher_env = {
            **aws_env,
            "TLFIF_WATCHER_ENGINE_URL": engine_url,
            "TLFIF_WATCHER_ENGINE_MODEL": settings.engine_model,
            "TLFIF_WATCHER_IMDS_URL": node_address.imds_url,
            "TLFIF_WATCHER_READINESS_TIMEOUT_SECONDS": str(settings.readiness_timeout_seconds),
        }
        if settings.idle_cap_seconds is not None:
            watcher_env["TLFIF_WATCHER_IDLE_CAP_SECONDS"] = str(settings.idle_cap_seconds)
        args, env = (engine.args, engine.env) if engine is not None else (None, engine_env())
        node = LocalNode(NodeSpec(args, env, watcher_env, node_address.run_dir))
        restarts = EngineRestarts(
            restart_delay_seconds=settings.engine_restart_delay_seconds,
            start_limit_burst=settings.engine_start_limit_burst,
            start_limit_interval_seconds=settings.engine_start_limit_interval_seconds,
        )
        agent = NodeAgent(
            aws_client("ec2", account.endpoint_url, account.region),
            node_address.instance_id,
            node,
            settings.boot_delay_seconds,
            settings.poll_seconds,
            engine_url,
            restarts,
            self.say,
            supervisord_restart_delay_seconds=settings.watcher_restart_delay_seconds,
        )
        thread = threading.Thread(
            target=agent.run,
            args=(self._agent_stop,),
            name=f"node-agent-{node_address.instance_id}",
        )
        self._agent_threads.append(thread)
        thread.start()

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
