"""The environments the stack's children start with.

Every boto3 client in a child reaches moto through AWS_ENDPOINT_URL with fake credentials;
nothing of the developer's own AWS setup (profile, keys, config file) may leak in, or a
local run could touch a real account. The engine gets a bare environment: llama-cpp-python's
server reads unprefixed names (HOST, PORT, MODEL, N_CTX, ...) that a shell may well have set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from local.emulator import FAKE_CREDENTIALS

# What the engine keeps of the developer's environment.
ENGINE_ENV_NAMES = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "TMPDIR", "VIRTUAL_ENV")


def child_env(
    aws_endpoint_url: str | None = None,
    region: str | None = None,
    shared: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The developer's environment without AWS_*, plus moto's endpoint and fake keys.

    TLFIF_ROUTER_* and TLFIF_WATCHER_* pass through, so any router or watcher setting can be
    tried locally; the stack's own values (Redis URL, engine, IMDS, ...) override them.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "TLFIF_LOCAL_", "TLFIF_CLI_"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(FAKE_CREDENTIALS)
    # An empty config: no profile, no per-service endpoint, no credential process.
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    # botocore would otherwise ask 169.254.169.254 for credentials and wait for it.
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    if aws_endpoint_url is not None:
        env["AWS_ENDPOINT_URL"] = aws_endpoint_url
    if region is not None:
        env["AWS_DEFAULT_REGION"] = region
        env["TLFIF_REGION"] = region
    env.update(shared or {})
    return env


def engine_env() -> dict[str, str]:
    env = {name: os.environ[name] for name in ENGINE_ENV_NAMES if name in os.environ}
    env.update({name: value for name, value in os.environ.items() if name.startswith("LC_")})
    env["PYTHONUNBUFFERED"] = "1"
    return env
