"""Boot step of the GPU node: this stack's settings from SSM into an environment file.

Reads, through IMDSv2, the region and the instance's `tlfif-env-path` tag (IMDS exposes tags
because the launch template enables instance_metadata_tags), then every parameter under that
path (SecureStrings decrypted) and writes them as NAME=value lines to /run/tlfif/node.env,
owner-only, for tlfif-watcher.service. It also renders the CloudWatch agent's configuration
with this stack's log group names. Runs as root from tlfif-node-env.service; stdlib + boto3.
"""

from __future__ import annotations

import os
import pwd
import sys
import time
import urllib.request
from pathlib import Path

IMDS = "http://169.254.169.254"
ENV_FILE = Path("/run/tlfif/node.env")
AGENT_TEMPLATE = Path("/etc/tlfif/amazon-cloudwatch-agent.json")
AGENT_CONFIG = Path("/opt/aws/amazon-cloudwatch-agent/etc/tlfif.json")
OWNER = "tlfif"
# IMDSv2 token TTL: any value up to AWS's 21600 s cap; this script needs seconds.
TOKEN_TTL_SECONDS = "300"


def imds(path: str, token: str | None = None, method: str = "GET") -> str:
    headers = (
        {"X-aws-ec2-metadata-token": token}
        if token
        else {"X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL_SECONDS}
    )
    request = urllib.request.Request(f"{IMDS}{path}", headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=2) as response:
        return str(response.read().decode("utf-8"))


def env_line(name: str, value: str) -> str:
    """One systemd EnvironmentFile line: double-quoted, with \\ and " escaped."""
    if not name.replace("_", "").isalnum() or name[0].isdigit():
        raise ValueError(f"{name!r} is not an environment variable name")
    if "\n" in value:
        raise ValueError(f"{name}: a value may not span lines")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}="{escaped}"'


def env_text(parameters: list[dict[str, str]], path: str) -> str:
    """NAME=value lines for the parameters directly under `path`, sorted by name."""
    prefix = path.rstrip("/") + "/"
    lines = []
    for parameter in sorted(parameters, key=lambda p: p["Name"]):
        name = parameter["Name"]
        if not name.startswith(prefix) or "/" in name[len(prefix) :]:
            continue
        lines.append(env_line(name[len(prefix) :], parameter["Value"]))
    return "\n".join(lines) + "\n"


def stack_name(path: str) -> str:
    """`/tl-fif/node/env` -> `tl-fif`: the prefix the stack's log groups carry."""
    return path.strip("/").split("/")[0]


def render_agent_config(template: str, name: str) -> str:
    return template.replace("__STACK__", name)


def read_parameters(region: str, path: str) -> list[dict[str, str]]:
    import boto3  # only on the node; the functions above are tested without it

    ssm = boto3.client("ssm", region_name=region)
    pages = ssm.get_paginator("get_parameters_by_path").paginate(
        Path=path, Recursive=False, WithDecryption=True
    )
    return [p for page in pages for p in page["Parameters"]]


def write_private(path: Path, text: str, owner: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o600)
    user = pwd.getpwnam(owner)
    os.chown(tmp, user.pw_uid, user.pw_gid)
    tmp.replace(path)


def main() -> int:
    for attempt in range(10):
        try:
            token = imds("/latest/api/token", method="PUT")
            region = imds("/latest/meta-data/placement/region", token)
            path = imds("/latest/meta-data/tags/instance/tlfif-env-path", token)
            parameters = read_parameters(region, path)
            break
        except Exception as exc:  # IMDS or SSM not answering yet right after boot
            print(f"tlfif-node-env: attempt {attempt + 1} failed: {exc}", file=sys.stderr)
            time.sleep(min(2**attempt, 10))
    else:
        return 1
    write_private(ENV_FILE, env_text(parameters, path), OWNER)
    AGENT_CONFIG.write_text(
        render_agent_config(AGENT_TEMPLATE.read_text("utf-8"), stack_name(path)), "utf-8"
    )
    names = sorted(line.split("=", 1)[0] for line in env_text(parameters, path).splitlines())
    print(f"tlfif-node-env: wrote {ENV_FILE} ({', '.join(names)})")  # names only, no values
    return 0


if __name__ == "__main__":
    sys.exit(main())
