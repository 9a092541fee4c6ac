"""Settings per deployable, from the environment (pydantic-settings).

`TLFIF_` holds what every part shares (Redis, bucket, region); each deployable has its own
prefix (`TLFIF_ROUTER_`, `TLFIF_WATCHER_`, ...). An invalid value, or an unknown name under
a prefix, fails at start and names the variable: a misspelled `TLFIF_WATCHER_IDLE_CAP`
silently ignored would leave a GPU running.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tlfif.errors import ConfigError

# Prefixes of the deployables; the shared TLFIF_ set must not claim their names.
DEPLOYABLE_PREFIXES = ("ROUTER_", "WATCHER_", "LOCAL_", "CLI_", "COST_", "BUDGET_", "CHECK_")


class StrictSettings(BaseSettings):
    """BaseSettings that refuses unknown names under its prefix and names bad values."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)
    ignored_subprefixes: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def load(cls, **overrides: Any) -> Self:
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        known = {name.upper() for name in cls.model_fields}
        for name in os.environ:
            upper = name.upper()
            if not upper.startswith(prefix):
                continue
            rest = upper[len(prefix) :]
            if rest in known or rest.startswith(cls.ignored_subprefixes):
                continue
            raise ConfigError(f"unknown setting {name}; known: {sorted(prefix + k for k in known)}")
        try:
            return cls(**overrides)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = prefix + str(first["loc"][0]).upper() if first["loc"] else prefix
            raise ConfigError(f"invalid setting {name}: {first['msg']}") from exc


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class CommonSettings(StrictSettings):
    """`TLFIF_*`: what router, watcher, Lambdas and clients share."""

    model_config = SettingsConfigDict(env_prefix="TLFIF_", extra="forbid", frozen=True)
    ignored_subprefixes: ClassVar[tuple[str, ...]] = DEPLOYABLE_PREFIXES

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_cluster: bool = False
    bucket: str = "tl-fif-replies"
    region: str = "eu-central-1"
    job_ttl_seconds: Annotated[int, Field(ge=10, le=86400)] = 300
    node_tag_key: str = "env"
    node_tag_value: str = "tinyllama"


class RouterSettings(StrictSettings):
    """`TLFIF_ROUTER_*`."""

    model_config = SettingsConfigDict(env_prefix="TLFIF_ROUTER_", extra="forbid", frozen=True)

    # The issuer the tokens name, and where its keys are served. Separate because an
    # emulator serves the JWKS at its own address while its tokens name AWS's issuer.
    cognito_issuer: str = ""
    jwks_url: str = ""
    client_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    jwks_cache_seconds: Annotated[int, Field(ge=0, le=600)] = 600
    cold_eta_seconds: Annotated[int, Field(ge=0)] = 90
    warm_eta_seconds: Annotated[int, Field(ge=0)] = 5
    ec2_state_cache_seconds: Annotated[int, Field(ge=1, le=300)] = 15
    start_lock_seconds: Annotated[int, Field(ge=1, le=60)] = 10
    max_wait_seconds: Annotated[int, Field(ge=0, le=25)] = 25
    queue_health_max_ms: Annotated[int, Field(ge=1)] = 200

    _split_ids = field_validator("client_ids", mode="before")(_comma_list)

    @property
    def resolved_jwks_url(self) -> str:
        return self.jwks_url or f"{self.cognito_issuer.rstrip('/')}/.well-known/jwks.json"


class WatcherSettings(StrictSettings):
    """`TLFIF_WATCHER_*`."""

    model_config = SettingsConfigDict(env_prefix="TLFIF_WATCHER_", extra="forbid", frozen=True)

    engine_url: str = "http://127.0.0.1:8000/v1"
    engine_model: str = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    engine_api_key: str = "none"
    engine_timeout_seconds: Annotated[float, Field(gt=0)] = 120.0
    engine_retries: Annotated[int, Field(ge=0, le=10)] = 2
    # vLLM batches concurrent requests; one job at a time would waste the GPU.
    concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    heartbeat_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    claim_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 2.0
    # Operators (and tests) can cap every job's idle minutes, in seconds.
    idle_cap_seconds: Annotated[float, Field(gt=0)] | None = None
    readiness_timeout_seconds: Annotated[float, Field(gt=0)] = 900.0
    imds_url: str = "http://169.254.169.254"
    # Normally the instance id from IMDS; set to run a watcher outside EC2.
    node_id: str | None = None
    ready_parameter_prefix: str = "/tl-fif/ready/"
    redis_backoff_max_seconds: Annotated[float, Field(gt=0)] = 30.0
