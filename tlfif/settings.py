"""Settings per deployable, from the environment (pydantic-settings).

`TLFIF_` holds what every part shares (Redis, bucket, region); each deployable has its own
prefix (`TLFIF_ROUTER_`, `TLFIF_WATCHER_`, ...). An invalid value, or an unknown name under
a prefix, fails at start and names the variable: a misspelled `TLFIF_WATCHER_IDLE_CAP`
silently ignored would leave a GPU running.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tlfif.errors import ConfigError

# What the node's engine serves unless told otherwise (the AMI's model); the router names it
# on /v1 and the watcher asks the engine for it.
DEFAULT_ENGINE_MODEL = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"

# The node's price per hour in EUR, for the usage estimate (ADR 0034): g4dn.xlarge on demand
# in eu-central-1, 0.658 USD at 1.1 USD per EUR (tlfif_cli/prices_eu_central_1.json).
DEFAULT_NODE_HOUR_EUR = 0.598

# Prefixes of the deployables; the shared TLFIF_ set must not claim their names.
DEPLOYABLE_PREFIXES = (
    "ROUTER_", "WATCHER_", "LOCAL_", "CLI_", "COST_", "BUDGET_", "CHECK_", "HEALTH_", "GUI_",
    "SENDER_", "PING_",
)  # fmt: skip


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
            if not first["loc"]:  # a rule across settings: its message names them
                message = first["msg"].removeprefix("Value error, ")
                raise ConfigError(f"invalid settings: {message}") from exc
            name = prefix + str(first["loc"][0]).upper()
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
    # Nodes (ADR 0032): at most this many tagged instances run at once (infra's
    # node_count_max), and another is started once the queue holds more than
    # `scale_out_backlog` jobs per node that beats; 1 keeps one node, as before.
    node_count_max: Annotated[int, Field(ge=1, le=8)] = 1
    scale_out_backlog: Annotated[int, Field(ge=1, le=1000)] = 8
    # Webhooks (ADR 0031), checked by the router at submit and by the sender at send. True
    # only on the local stack: receivers on loopback (127.0.0.0/8, ::1) are then allowed;
    # private, link-local and metadata addresses never are.
    webhook_allow_loopback: bool = False
    # host[:port] of the DNS server webhook hosts are resolved at (UDP); empty: the
    # system's resolver.
    webhook_nameserver: str = ""
    # The node's EUR per hour for the usage estimate (ADR 0034).
    node_hour_eur: Annotated[float, Field(ge=0, le=1000)] = DEFAULT_NODE_HOUR_EUR


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
    # POST /v1/chat/completions and /v1/completions hold the request this long while the
    # reply comes; then 503 with Retry-After, and the client's retry resumes the same job
    # (ADR 0024). API Gateway ends every request at 30 s: keep 25 where it fronts the router.
    v1_wait_seconds: Annotated[float, Field(gt=0, le=600)] = 25.0
    # POST /cancel/{id} of a running job waits this long for its node to stop it (the node
    # looks between tokens, every 50 ms) and answers the cancelled reply; past it, 202
    # "cancelling" (a node that lost its engine stops the job once it runs again).
    cancel_wait_seconds: Annotated[float, Field(ge=0, le=20)] = 5.0
    # A `stream: true` request's longest life: through a cold start (kept open by SSE
    # comments) and the whole generation.
    v1_stream_seconds: Annotated[float, Field(gt=0, le=3600)] = 600.0
    # How long a stream may stay silent (the node starting) before an SSE comment is sent.
    v1_keep_alive_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0
    # A `stream: true` client that goes away before [DONE] cancels its job unless a retry
    # of the request (ADR 0024's table) opens a stream on it within this many seconds.
    v1_disconnect_grace_seconds: Annotated[float, Field(gt=0, le=600)] = 10.0
    # False where the transport buffers the response (Lambda behind API Gateway): a streamed
    # request is then answered as a held one, its events sent at once.
    v1_stream_live: bool = True
    # The model the node's engine serves (the watcher's TLFIF_WATCHER_ENGINE_MODEL): GET
    # /v1/models lists it, and a /v1 request naming another is a 404 model_not_found.
    served_model: Annotated[str, Field(min_length=1)] = DEFAULT_ENGINE_MODEL
    queue_health_max_ms: Annotated[int, Field(ge=1)] = 200
    # True only on Lambda behind API Gateway's JWT authorizer: take the claims it verified
    # from the event (requestContext.authorizer.jwt.claims) and fetch no JWKS. Anywhere
    # else the router verifies the token itself; uvicorn refuses to start with this set.
    trust_gateway_claims: bool = False
    # The deployment's owner (ADR 0021): members of this Cognito group, and these subs.
    # Only the owner stops the node, lifts a hold and manages API keys.
    owner_group: str = "owner"
    owner_subs: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # API keys (ADR 0027): how long Redis keeps a key's owner after a look-up in the store,
    # and how long it remembers a key the store does not have (so a flood of one bad key
    # costs one store read a while). A revoke drops the cached owner at once either way.
    api_key_cache_seconds: Annotated[int, Field(ge=1, le=86400)] = 300
    api_key_miss_seconds: Annotated[int, Field(ge=1, le=3600)] = 30
    # Per-user rate limits (0 = none). POST /infer and POST /stop share the write limits;
    # the reads (GET /result, /status, /cost) have looser ones of their own, so a client
    # polling once a second through a 90 s cold start is never refused.
    throttle_write_per_second: Annotated[int, Field(ge=0)] = 5
    throttle_write_per_minute: Annotated[int, Field(ge=0)] = 20
    throttle_read_per_second: Annotated[int, Field(ge=0)] = 10
    throttle_read_per_minute: Annotated[int, Field(ge=0)] = 300
    # Pending jobs one user may hold (0 = no cap): a runaway loop cannot flood the queue
    # before the node wakes.
    user_pending_cap: Annotated[int, Field(ge=0)] = 20
    # How the chat page signs in (ADR 0026). Deployed: Cognito's hosted UI (its base URL,
    # https://<prefix>.auth.<region>.amazoncognito.com) and the page's app client, with
    # PKCE. On the local stack: its demo user, signed in by the page itself at the
    # emulator's Cognito endpoint (USER_PASSWORD_AUTH); served to whoever loads the page,
    # so refused where the router runs behind API Gateway. Neither: a pasted token.
    chat_hosted_ui: str = ""
    chat_client_id: str = ""
    chat_cognito_url: str = ""
    chat_demo_username: str = ""
    chat_demo_password: SecretStr = SecretStr("")

    _split_ids = field_validator("client_ids", "owner_subs", mode="before")(_comma_list)

    @model_validator(mode="after")
    def _chat_sign_in(self) -> Self:
        if (self.chat_hosted_ui or self.chat_cognito_url) and not self.chat_client_id:
            raise ValueError("the chat page's sign-in needs TLFIF_ROUTER_CHAT_CLIENT_ID")
        if self.chat_client_id and self.chat_client_id not in self.client_ids:
            # Its tokens would be refused: the page could sign in but never call the API.
            raise ValueError("TLFIF_ROUTER_CHAT_CLIENT_ID must be one of TLFIF_ROUTER_CLIENT_IDS")
        if self.chat_demo_password.get_secret_value() and self.trust_gateway_claims:
            raise ValueError(
                "TLFIF_ROUTER_CHAT_DEMO_PASSWORD is for the local stack only: the page would "
                "serve it to anyone"
            )
        return self

    @property
    def resolved_jwks_url(self) -> str:
        return self.jwks_url or f"{self.cognito_issuer.rstrip('/')}/.well-known/jwks.json"


class WatcherSettings(StrictSettings):
    """`TLFIF_WATCHER_*`."""

    model_config = SettingsConfigDict(env_prefix="TLFIF_WATCHER_", extra="forbid", frozen=True)

    engine_url: str = "http://127.0.0.1:8000/v1"
    engine_model: str = DEFAULT_ENGINE_MODEL
    engine_api_key: str = "none"
    engine_timeout_seconds: Annotated[float, Field(gt=0)] = 120.0
    # Tries after the first when the engine refuses a job (an HTTP error, finish_reason
    # error); an engine that is down (refused or cut connections) is waited for instead.
    engine_retries: Annotated[int, Field(ge=0, le=10)] = 2
    # First pause between engine attempts; it doubles on each retry.
    engine_retry_backoff_seconds: Annotated[float, Field(ge=0, le=30)] = 1.0
    # A job running when the engine died this many times is answered "engine_crashed"
    # instead of being run again: a prompt that kills the engine must not loop the GPU.
    engine_crash_limit: Annotated[int, Field(ge=1, le=10)] = 2
    # vLLM batches concurrent requests; one job at a time would waste the GPU.
    concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    heartbeat_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    claim_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 2.0
    # Operators (and tests) can cap every job's idle minutes, in seconds.
    idle_cap_seconds: Annotated[float, Field(gt=0)] | None = None
    # How long the engine may take to produce its first token, at boot and again after
    # each crash; past it the node stops itself with the start error engine_failed.
    readiness_timeout_seconds: Annotated[float, Field(gt=0)] = 900.0
    imds_url: str = "http://169.254.169.254"
    # Normally the instance id from IMDS; set to run a watcher outside EC2.
    node_id: str | None = None
    ready_parameter_prefix: str = "/tl-fif/ready/"
    redis_backoff_max_seconds: Annotated[float, Field(gt=0)] = 30.0
    # On SIGTERM, how long running jobs may finish; keep below supervisord's stopwaitsecs.
    shutdown_grace_seconds: Annotated[float, Field(ge=0)] = 30.0


class SenderSettings(StrictSettings):
    """`TLFIF_SENDER_*`: the webhook sender (a Lambda on the replies' S3 events, ADR 0031)."""

    model_config = SettingsConfigDict(env_prefix="TLFIF_SENDER_", extra="forbid", frozen=True)

    # The replies topic (SNS): every reply's id, submitter and status. Empty: none.
    topic_arn: str = ""
    # Tries per webhook, the wait before the second (doubled before each next one), and
    # each try's time limit: 4, 2 s and 5 s bound a failing receiver to ~34 s of the
    # function's 60.
    attempts: Annotated[int, Field(ge=1, le=8)] = 4
    backoff_seconds: Annotated[float, Field(ge=0, le=60)] = 2.0
    timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 5.0
    # A PEM file of CAs trusted besides the system's (a receiver behind a private CA).
    ca_file: str = ""


class HealthSettings(StrictSettings):
    """`TLFIF_HEALTH_*`: the queue_health Lambda."""

    model_config = SettingsConfigDict(env_prefix="TLFIF_HEALTH_", extra="forbid", frozen=True)

    # The seed's limit (RED-004): a PING slower than this is a failed check.
    max_ms: Annotated[int, Field(ge=1)] = 200


class PingSettings(StrictSettings):
    """`TLFIF_PING_*`: the ping_check Lambda, the uptime probe outside the VPC (ADR 0033)."""

    model_config = SettingsConfigDict(env_prefix="TLFIF_PING_", extra="forbid", frozen=True)

    # The public API's GET /ping (infra passes the API's own endpoint).
    url: str
    # Also called each run, so the queue_health Lambda checks Redis (and publishes
    # QueueHealthFailed) every minute, not only when someone asks; empty: not called.
    queue_health_url: str = ""
    # Each GET's limit: /ping answers in milliseconds, so a few seconds means down.
    timeout_seconds: Annotated[float, Field(gt=0, le=10)] = 3.0

    @field_validator("url", "queue_health_url")
    @classmethod
    def _http_url(cls, value: str, info: Any) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s):// URL")
        if info.field_name == "url" and not value:
            raise ValueError("must be the API's GET /ping URL")
        return value


class CostSettings(StrictSettings):
    """`TLFIF_COST_*`: the cost_publisher Lambda (GET /cost reads what it stores)."""

    model_config = SettingsConfigDict(env_prefix="TLFIF_COST_", extra="forbid", frozen=True)

    # The AWS Budgets budget whose CalculatedSpend is read (no per-call charge); empty:
    # Cost Explorer only.
    budget_name: str = "tl-fif-monthly"
    # DescribeBudget needs the account id; empty: the Lambda's own (from its ARN, else STS).
    account_id: str = ""
    # Cost Explorer bills $0.01 per request and refreshes a few times a day: at most one
    # call per this many hours, whatever the schedule.
    explorer_min_interval_hours: Annotated[float, Field(ge=1, le=744)] = 8.0
    # EUR per USD. An SSM parameter, when named, wins over the fixed rate.
    usd_to_eur: Annotated[float, Field(gt=0, le=10)] = 0.92
    usd_to_eur_parameter: str = ""
    # On-demand price of the node, for the live estimate: g4dn.xlarge Linux, eu-central-1.
    node_hourly_usd: Annotated[float, Field(ge=0, le=1000)] = 0.658


class BudgetSettings(StrictSettings):
    """`TLFIF_BUDGET_*`: the budget_killer Lambda."""

    model_config = SettingsConfigDict(env_prefix="TLFIF_BUDGET_", extra="forbid", frozen=True)

    # Act only on alerts of this budget; empty: any AWS Budgets alert that reaches the topic.
    name: str = ""


class CheckSettings(StrictSettings):
    """`TLFIF_CHECK_*`: the scheduled check (a Lambda each minute, a loop locally)."""

    model_config = SettingsConfigDict(env_prefix="TLFIF_CHECK_", extra="forbid", frozen=True)

    # A node with no job for its idle time plus this is stopped (the watcher failed).
    idle_grace_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    # The idle time when no heartbeat has told it: the most a job may ask (30 min), so the
    # safety net never stops a node before its own watcher would have.
    fallback_idle_seconds: Annotated[int, Field(ge=60, le=7200)] = 1800
    # At most this many pending ids are looked at per run for expired jobs.
    expired_scan_limit: Annotated[int, Field(ge=1, le=100000)] = 1000
    ec2_state_cache_seconds: Annotated[int, Field(ge=1, le=300)] = 15
    start_lock_seconds: Annotated[int, Field(ge=1, le=60)] = 10
