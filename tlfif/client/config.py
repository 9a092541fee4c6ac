"""Where a client (CLI, GUI) finds the stack: API URL and Cognito pool, per profile.

`make up` writes the `local` profile; a deployed stack's outputs fill another. The file is
~/.config/tlfif/config.json (or $TLFIF_CLI_CONFIG); a missing file means "no stack yet".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ValidationError

from tlfif.client.private_files import write_private_json
from tlfif.errors import ConfigError

DEFAULT_PROFILE = "local"


class StackConfig(BaseModel):
    api_url: str
    region: str = "eu-central-1"
    user_pool_id: str
    client_id: str
    # Only for an emulated stack: where its Cognito API answers (AWS_ENDPOINT_URL style).
    cognito_endpoint_url: str | None = None
    # The local stack's demo user, so `tlfif login` and the GUI need no typing locally.
    demo_username: str | None = None
    demo_password: str | None = None


def config_path() -> Path:
    override = os.environ.get("TLFIF_CLI_CONFIG")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tlfif" / "config.json"


def load_profile(profile: str = DEFAULT_PROFILE) -> StackConfig:
    path = config_path()
    try:
        profiles = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no stack configured ({path} is missing): run `make up` for the local stack"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if profile not in profiles:
        raise ConfigError(f"profile {profile!r} is not in {path}; known: {sorted(profiles)}")
    try:
        return StackConfig.model_validate(profiles[profile])
    except ValidationError as exc:
        raise ConfigError(f"profile {profile!r} in {path} is invalid: {exc}") from exc


def save_profile(config: StackConfig, profile: str = DEFAULT_PROFILE) -> Path:
    path = config_path()
    try:
        profiles = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        profiles = {}
    profiles[profile] = config.model_dump()
    # 0600 in a 0700 folder: a profile may hold the demo user's password.
    write_private_json(path, profiles, indent=2)
    return path
