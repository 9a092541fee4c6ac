"""`TLFIF_LOCAL_*`: how `python -m local` (`make up`) runs the whole system on one machine.

Region, bucket and the node's tag come from the shared `TLFIF_*` set (CommonSettings), so
the local stack names them as a deployed one would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from tlfif.settings import StrictSettings

# 0 means "any free loopback port".
Port = Annotated[int, Field(ge=0, le=65535)]


class LocalSettings(StrictSettings):
    """`TLFIF_LOCAL_*`."""

    model_config = SettingsConfigDict(env_prefix="TLFIF_LOCAL_", extra="forbid", frozen=True)

    # Node instances the emulator seeds (ADR 0032), each booted by its own agent with its own
    # IMDS and run sub-folder; the router and the check get TLFIF_NODE_COUNT_MAX=<nodes>
    # unless it is set. More than one needs engine_url: every node then shares that engine.
    nodes: Annotated[int, Field(ge=1, le=4)] = 1
    # What a cold start costs besides loading the model; a g4dn takes ~40-90 s to boot.
    boot_delay_seconds: Annotated[float, Field(ge=0, le=600)] = 4.0
    # Caps every job's idle minutes (TLFIF_WATCHER_IDLE_CAP_SECONDS), so a self-stop is seen
    # in seconds; unset, the job's own idle minutes (default 5) apply.
    idle_cap_seconds: Annotated[float, Field(gt=0)] | None = None
    # Any OpenAI-compatible /v1 base URL (vLLM, Ollama, a remote endpoint): no llama.cpp
    # server is started then, and engine_model must name a model that server serves.
    engine_url: str | None = None
    engine_model: str = "gemma-3-270m"
    # The local server's chat format: alpaca-instruct (local/llama_server.py says why) or any
    # of llama-cpp-python's own (gemma, chatml, alpaca, ...).
    chat_format: str = "alpaca-instruct"
    engine_context_tokens: Annotated[int, Field(ge=256, le=32768)] = 2048
    # Any OpenAI-compatible server's command, run as the node's engine instead of llama.cpp's
    # (`{port}` is replaced by the engine's port, engine_model must name what it serves):
    # checked before "up", restarted and stopped like the local one.
    engine_command: str | None = None
    # The engine is restarted when it dies, as systemd restarts vllm.service on the node,
    # and within the same limit: at most this many starts (the boot's and the restarts)
    # in this many seconds, then it is left down and the watcher stops the node. The
    # packer tests hold vllm.service's StartLimitBurst, StartLimitIntervalSec and
    # RestartSec to these defaults.
    engine_start_limit_burst: Annotated[int, Field(ge=1, le=100)] = 4
    engine_start_limit_interval_seconds: Annotated[float, Field(gt=0, le=3600)] = 300.0
    engine_restart_delay_seconds: Annotated[float, Field(ge=0, le=300)] = 5.0
    # supervisord (the watcher's parent) is started again this long after it dies, as
    # systemd restarts tlfif-watcher.service on the node (Restart=on-failure, RestartSec=5).
    watcher_restart_delay_seconds: Annotated[float, Field(ge=0, le=300)] = 5.0
    # How long the engine may take to produce its first token: in the check before "up",
    # and for the watcher (TLFIF_WATCHER_READINESS_TIMEOUT_SECONDS) at boot and after each
    # restart, past which it stops the node.
    readiness_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 120.0
    # Threads for generation and prompt reading; unset, half the cores (llama.cpp's default).
    engine_threads: Annotated[int, Field(ge=1, le=256)] | None = None
    router_port: Port = 0
    moto_port: Port = 0
    redis_port: Port = 0
    imds_port: Port = 0
    engine_port: Port = 0
    # The demo user owns the deployment; the guest is a plain user of it, so the difference
    # can be tried (`tlfif --profile local-guest ...`).
    demo_username: str = "demo"
    demo_password: str = "Demo-passw0rd!"
    guest_username: str = "guest"
    guest_password: str = "Guest-passw0rd!"
    # Which profile of the client config `make up` writes (`tlfif --profile`), the demo
    # user's; the guest's is this name with "-guest".
    profile: str = "local"
    # Logs, sockets and pid files; unset, a fresh temporary directory.
    run_dir: Path | None = None
    # How often the node agent reads the emulated instance's state.
    poll_seconds: Annotated[float, Field(gt=0, le=10)] = 0.5
    # The scheduled check (EventBridge every minute on AWS): requeues, expiries, idle net.
    check_every_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0

    @model_validator(mode="after")
    def _one_engine_per_stack(self) -> LocalSettings:
        # Each llama.cpp copy takes ~0.4 GB and half the cores: two on a 2-core laptop would
        # only share the same cores. Several nodes share one engine at engine_url instead.
        if self.nodes > 1 and not self.engine_url:
            raise ValueError(
                f"TLFIF_LOCAL_NODES={self.nodes} needs TLFIF_LOCAL_ENGINE_URL (an engine all "
                "nodes share); the local llama.cpp engine runs one node: set TLFIF_LOCAL_NODES=1"
            )
        return self
