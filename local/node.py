"""What runs "on" the emulated GPU node: the engine and, under supervisord, the watcher.

The watcher runs under packer/files/supervisord-watcher.conf, the file the AMI uses, so the
local stack proves that configuration too. On the AMI systemd runs vLLM beside it; here the
engine is llama-cpp-python's server (or nothing, when an external engine URL is set).
"""

from __future__ import annotations

import sys
import xmlrpc.client
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from local.crash_report import Exit, describe_exit
from local.processes import ChildProcess

SUPERVISORD_CONF = Path(__file__).resolve().parent.parent / "packer/files/supervisord-watcher.conf"
WATCHER_PROGRAM = "watcher"
# Above the conf's stopwaitsecs (45 s): supervisord waits that long for running jobs.
SUPERVISORD_STOP_SECONDS = 60.0


@dataclass(frozen=True)
class WatcherState:
    """supervisord's view of the watcher program: RUNNING, EXITED, BACKOFF, FATAL, ..."""

    state: str
    pid: int
    exit_status: int


@dataclass(frozen=True)
class NodeSpec:
    """How to boot the node: the engine's command (None: an external engine) and the
    environment the watcher runs with."""

    engine_args: Sequence[str] | None
    engine_env: Mapping[str, str]
    watcher_env: Mapping[str, str]
    run_dir: Path


class LocalNode:
    """The node's processes between one boot and the next stop."""

    def __init__(self, spec: NodeSpec) -> None:
        self.spec = spec
        self.engine: ChildProcess | None = None
        self.supervisord: ChildProcess | None = None
        self.node_dir = spec.run_dir / "node"
        self._booted = False

    @property
    def up(self) -> bool:
        """Booted and not shut down (supervisord may be down meanwhile, to be restarted)."""
        return self._booted

    def boot(self) -> None:
        """Start the engine and supervisord side by side, as systemd does on the AMI: the
        watcher heartbeats "loading" until the engine produces a token."""
        self.node_dir.mkdir(parents=True, exist_ok=True)
        self._booted = True
        try:
            self.start_engine()
            self.start_supervisord()
        except BaseException:
            self.shutdown()  # no engine left behind for the next boot to collide with
            raise

    def start_supervisord(self) -> None:
        """supervisord, which starts the watcher (at boot, and again after it died)."""
        env = {
            **self.spec.watcher_env,
            "NODE_RUN_DIR": str(self.node_dir),
            "NODE_LOG_DIR": str(self.spec.run_dir),
            "NODE_PYTHON": sys.executable,
        }
        args = [sys.executable, "-m", "supervisor.supervisord", "-c", str(SUPERVISORD_CONF)]
        self.supervisord = ChildProcess("supervisord", args, env, self.spec.run_dir)

    def supervisord_ended(self) -> Exit | None:
        """How supervisord ended, once it has (it is forgotten then); None while it runs."""
        supervisord = self.supervisord
        if supervisord is None or supervisord.running():
            return None
        self.supervisord = None
        supervisord.stop()  # reaps it, and sweeps the watcher it may have left in its session
        return describe_exit(
            supervisord.process.returncode, supervisord.pid, supervisord.started,
            supervisord.log_path,
        )  # fmt: skip

    def start_engine(self) -> None:
        """Start the engine (none when an external engine is set)."""
        if self.spec.engine_args is not None:
            self.engine = ChildProcess(
                "engine", self.spec.engine_args, self.spec.engine_env, self.spec.run_dir
            )

    def engine_ended(self) -> Exit | None:
        """How the engine ended, once it has (it is forgotten then); None while it runs."""
        engine = self.engine
        if engine is None or engine.running():
            return None
        self.engine = None
        engine.stop()  # reaps it, and sweeps anything it left in its session
        return describe_exit(engine.process.returncode, engine.pid, engine.started, engine.log_path)

    def shutdown(self) -> None:
        """supervisord first (it lets the watcher finish running jobs), then the engine."""
        self._booted = False
        if self.supervisord is not None:
            self.supervisord.stop(SUPERVISORD_STOP_SECONDS)
            self.supervisord = None
        if self.engine is not None:
            self.engine.stop()
            self.engine = None

    def watcher_state(self) -> WatcherState | None:
        """What supervisord says of the watcher; None if it cannot be asked (yet)."""
        from supervisor.xmlrpc import SupervisorTransport

        socket_path = self.node_dir / "supervisor.sock"
        if self.supervisord is None or not socket_path.exists():
            return None
        transport = SupervisorTransport(None, None, f"unix://{socket_path}")
        proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
        try:
            info = cast(dict[str, Any], proxy.supervisor.getProcessInfo(WATCHER_PROGRAM))
        except (OSError, xmlrpc.client.Error):
            return None  # supervisord is starting or stopping
        finally:
            transport.close()
        return WatcherState(str(info["statename"]), int(info["pid"]), int(info["exitstatus"]))
