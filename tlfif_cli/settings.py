"""`TLFIF_CLI_*`: the few knobs of the `tlfif` command line, checked strictly at start."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from tlfif.client.api import MAX_WAIT_SECONDS
from tlfif.client.config import DEFAULT_PROFILE
from tlfif.settings import StrictSettings


class CliSettings(StrictSettings):
    model_config = SettingsConfigDict(env_prefix="TLFIF_CLI_", extra="forbid", frozen=True)

    # Read by tlfif.client.config (the profile file's path); named here so the strict
    # check of the prefix knows it.
    config: str | None = None
    profile: str = DEFAULT_PROFILE
    # One long poll's length; the router caps it at 25 s (API Gateway's 30 s limit). Short
    # enough that each phase of a cold start shows as it comes (a reply still returns the
    # moment it is signalled); a 90 s cold start costs ~30 polls, far under the read limit.
    poll_seconds: Annotated[int, Field(ge=1, le=MAX_WAIT_SECONDS)] = 3
    # How long `infer` and `result --wait` wait before giving the id back to the user.
    wait_timeout_seconds: Annotated[float, Field(gt=0)] = 900.0
    # The least time between two polls, whatever the server does.
    min_poll_interval_seconds: Annotated[float, Field(ge=0, le=10)] = 1.0
    # An owner's API key (`tlfif keys create`): when set, every command sends it instead of
    # a login's token, through the key routes (ADR 0027); a pipeline's `tlfif smoke` uses it.
    api_key: SecretStr | None = None
