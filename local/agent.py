"""The node agent: turns the emulated instance's state in moto into the node's processes.

moto flips an instance between stopped and running at once, so the agent provides what a
real instance's boot would: stopped -> running starts the engine and the watcher after the
boot delay; running -> stopped (the watcher's own StopInstances through IMDS, POST /stop)
stops them. An engine that dies is restarted as systemd restarts vllm.service on the node,
within the same start limit, then left down; supervisord (the watcher's parent) as systemd
restarts tlfif-watcher.service, after its RestartSec; readiness, and the decision to stop a node
whose engine does not come back, are the watcher's, as on AWS.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from local.emulator import instance_state
from local.node import LocalNode, WatcherState
from local.start_limit import StartLimit

ENGINE_PROBE_TIMEOUT_SECONDS = 0.3


@dataclass(frozen=True)
class EngineRestarts:
    """vllm.service's restart rule: RestartSec, StartLimitBurst, StartLimitIntervalSec."""

    restart_delay_seconds: float
    start_limit_burst: int
    start_limit_interval_seconds: float


class NodeAgent:
    """Polls DescribeInstances and boots or stops the LocalNode to match."""

    def __init__(
        self,
        ec2: Any,
        instance_id: str,
        node: LocalNode,
        boot_delay_seconds: float,
        poll_seconds: float,
        engine_url: str,
        engine_restarts: EngineRestarts,
        say: Callable[[str], None],
        *,
        supervisord_restart_delay_seconds: float = 5.0,
    ) -> None:
        self.ec2 = ec2
        self.instance_id = instance_id
        self.node = node
        self.boot_delay = boot_delay_seconds
        self.poll_seconds = poll_seconds
        self.engine_address = httpx.URL(engine_url)
        self.say = say
        self.engine_restarts = engine_restarts
        self.start_limit = StartLimit(
            engine_restarts.start_limit_burst, engine_restarts.start_limit_interval_seconds
        )
        self._engine_restart_at: float | None = None
        self.supervisord_restart_delay = supervisord_restart_delay_seconds
        self._supervisord_restart_at: float | None = None
        self._booting_since: float | None = None
        self._booted_at: float | None = None
        self._engine_listening = False
        self._watcher_state: str | None = None
        self._last_error: str | None = None

    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set; then the node's processes are stopped too."""
        try:
            while not stop.is_set():
                try:
                    self.step()
                    self._last_error = None
                except Exception as exc:  # moto down, a process that cannot start: say so
                    self._report(exc)
                stop.wait(self.poll_seconds)
        finally:
            if self.node.up:
                self.node.shutdown()

    def step(self) -> None:
        state = instance_state(self.ec2, self.instance_id)
        if state == "running":
            self._on_running()
        elif self.node.up or self._booting_since is not None:
            # stopping, stopped (or gone): what a shutdown of the instance would end.
            ended = "engine and watcher" if self.node.spec.engine_args else "watcher"
            self._stop_node(f"{state}: {ended} stopped")

    def _on_running(self) -> None:
        now = time.monotonic()
        if self.node.up:
            self._watch_running_node(now)
        elif self._booting_since is None:
            self._booting_since = now
            self.say(f"node {self.instance_id}: running, booting ({self.boot_delay:g} s delay)")
        elif now - self._booting_since >= self.boot_delay:
            self.start_limit.reset()
            self.start_limit.try_start()  # the boot's start counts, as in systemd
            self.node.boot()
            self._booted_at = now
            self.say(f"node {self.instance_id}: booted: {self._describe_processes()}")

    def _watch_running_node(self, now: float) -> None:
        self._keep_engine_up(now)
        if not self._keep_supervisord_up(now):
            return
        if not self._engine_listening and self._engine_listens():
            self._engine_listening = True
            loaded = now - (self._booted_at or now)
            self.say(f"node {self.instance_id}: engine listening, {loaded:.1f} s after boot")
        watcher = self.node.watcher_state()
        if watcher is None:
            return
        if watcher.state != self._watcher_state:
            self._watcher_state = watcher.state
            self._announce(watcher)
        if watcher.state == "EXITED" and watcher.exit_status == 0:
            # The watcher exits 0 only after its self-stop: the instance stopped and was
            # started again between two polls. Reboot, so the restart is a fresh boot.
            self._stop_node("stopped and started again: rebooting")
            self._booting_since = now

    def _keep_engine_up(self, now: float) -> None:
        """Restart a dead engine after the restart delay, while the start limit allows."""
        node, limits = self.node, self.engine_restarts
        if self._engine_restart_at is not None:
            if now >= self._engine_restart_at:
                self._engine_restart_at = None
                node.start_engine()
                self.say(
                    f"node {self.instance_id}: engine restarted (start {self.start_limit.starts}"
                    f" of {limits.start_limit_burst} allowed in "
                    f"{limits.start_limit_interval_seconds:g} s)"
                )
            return
        ended = node.engine_ended()
        if ended is None:
            return
        self._engine_listening = False
        if self.start_limit.try_start():
            self._engine_restart_at = now + limits.restart_delay_seconds
            self.say(
                f"node {self.instance_id}: engine {ended}; restarting it in "
                f"{limits.restart_delay_seconds:g} s (log: {node.spec.run_dir / 'engine.log'})"
            )
        else:
            self.say(
                f"node {self.instance_id}: engine {ended}; start limit hit "
                f"({limits.start_limit_burst} starts in {limits.start_limit_interval_seconds:g} s)"
                ": left down, as systemd leaves vllm.service; the watcher stops the node"
            )

    def _keep_supervisord_up(self, now: float) -> bool:
        """Start a dead supervisord again after its restart delay; False while it is down."""
        if self._supervisord_restart_at is not None:
            if now < self._supervisord_restart_at:
                return False
            self._supervisord_restart_at = None
            self.node.start_supervisord()
            self.say(f"node {self.instance_id}: supervisord started again")
            return True
        ended = self.node.supervisord_ended()
        if ended is None:
            return True
        self._supervisord_restart_at = now + self.supervisord_restart_delay
        self._watcher_state = None
        self.say(
            f"node {self.instance_id}: supervisord {ended}; starting it again in "
            f"{self.supervisord_restart_delay:g} s, as systemd restarts tlfif-watcher.service"
        )
        return False

    def _stop_node(self, why: str) -> None:
        self._booting_since = None
        self._engine_restart_at = None
        self._supervisord_restart_at = None
        if self.node.up:
            self.node.shutdown()
            self.say(f"node {self.instance_id}: {why}")
        self._booted_at = None
        self._engine_listening = False
        self._watcher_state = None

    def _announce(self, watcher: WatcherState) -> None:
        if watcher.state == "RUNNING":
            self.say(f"node {self.instance_id}: watcher running (pid {watcher.pid})")
        elif watcher.state in ("BACKOFF", "FATAL") or watcher.exit_status not in (0, -1):
            log = self.node.spec.run_dir / "watcher.log"
            self.say(
                f"node {self.instance_id}: watcher {watcher.state.lower()} "
                f"(exit status {watcher.exit_status}): see {log}"
            )

    def _describe_processes(self) -> str:
        parts = []
        if self.node.engine is not None:
            parts.append(f"engine pid {self.node.engine.pid}")
        if self.node.supervisord is not None:
            parts.append(f"supervisord pid {self.node.supervisord.pid}")
        return ", ".join(parts)

    def _engine_listens(self) -> bool:
        # A connect, not a request: llama-cpp-python's server opens its port only once the
        # model is loaded, and answers even /v1/models only between two generations.
        url = self.engine_address
        address = (url.host, url.port or (443 if url.scheme == "https" else 80))
        try:
            with socket.create_connection(address, timeout=ENGINE_PROBE_TIMEOUT_SECONDS):
                return True
        except OSError:
            return False

    def _report(self, exc: Exception) -> None:
        """Once per distinct failure, not once per poll."""
        error = f"{type(exc).__name__}: {exc}"
        if error != self._last_error:
            self.say(f"node agent: {error}; trying again")
        self._last_error = error
