"""infra/ run by the real tool against moto's server: a copy of the root module, the emulator
overrides of tests/infra/moto_overrides/ laid over it, and init/plan/apply/destroy.

The product HCL carries no emulator switch: everything moto needs is written into the
temporary copy (the provider's endpoints, a local backend, the override files, each
naming the moto gap it bridges).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.emulator import FAKE_CREDENTIALS, start_moto
from local.processes import ChildProcess
from tests.fixtures.redis_servers import free_port
from tests.infra.hcl import INFRA, load

OVERRIDES = Path(__file__).resolve().parent / "moto_overrides"
# Variables a trip sets over its env's tfvars (the opt-ins it applies), beside envs/.
TEST_VARS = "test.tfvars.json"
REGION = "eu-central-1"
LAMBDAS = (
    "router", "queue_health", "cost_publisher", "budget_killer", "scheduled_check",
    "webhook_sender", "ping_check",
)  # fmt: skip
# Where a provider may sit on machines of this kind; TLFIF_TF_PLUGIN_DIR names another.
PLUGIN_DIRS = ("/opt/tf-plugins", "~/.terraform.d/plugins")
STEP_TIMEOUT_SECONDS = 600
# The services infra/ calls; each is pointed at moto.
SERVICES = (
    "apigatewayv2", "budgets", "cloudtrail", "cloudwatch", "cloudwatchlogs", "cognitoidp",
    "configservice", "ec2", "elasticache", "events", "iam", "lambda", "s3", "sns", "ssm",
    "sts", "xray",
)  # fmt: skip
NO_TOOL = (
    "neither tofu nor terraform on PATH: install OpenTofu >= 1.10 or Terraform >= 1.10 "
    "(with the hashicorp/aws 5.100.0 provider) to run the infra round trips"
)


def tool() -> str | None:
    """OpenTofu if it is here, else Terraform, else None."""
    return shutil.which("tofu") or shutil.which("terraform")


def require_tool() -> str:
    found = tool()
    if found is None:
        pytest.skip(NO_TOOL)
    return found


def plugin_dir(binary: str) -> Path | None:
    """A filesystem mirror of the AWS provider, for a machine that reaches no registry."""
    named = os.environ.get("TLFIF_TF_PLUGIN_DIR")
    if named:
        if not Path(named).is_dir():
            pytest.fail(f"TLFIF_TF_PLUGIN_DIR={named} is not a directory")
        return Path(named)
    # The default places hold providers under registry.terraform.io/, which tofu does not
    # look up (its hashicorp/aws is registry.opentofu.org's): tofu downloads its own.
    if Path(binary).name != "terraform":
        return None
    return next((p for p in map(Path, PLUGIN_DIRS) if p.expanduser().is_dir()), None)


def init_args(binary: str) -> list[str]:
    plugins = plugin_dir(binary)
    return ["init", "-input=false", *([f"-plugin-dir={plugins.expanduser()}"] if plugins else [])]


def tool_env() -> dict[str, str]:
    """The shell's TF_* (TF_VAR_*, TF_CLI_ARGS*, TF_DATA_DIR) and AWS_* must not change what
    runs; a CLI config file is kept if it exists (it may say where providers come from)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    config = os.environ.get("TF_CLI_CONFIG_FILE")
    if config and Path(config).is_file():
        env["TF_CLI_CONFIG_FILE"] = config
    else:
        env["TF_CLI_CONFIG_FILE"] = os.devnull  # a missing file only warns on every command
    return env | {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}


def run_tool(
    binary: str,
    args: list[str],
    cwd: Path,
    timeout: float = STEP_TIMEOUT_SECONDS,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *args, "-no-color"], cwd=cwd, env=env or tool_env(), capture_output=True,
        text=True, timeout=timeout, check=False,
    )  # fmt: skip


def provider_override(endpoint: str) -> str:
    """The root's override: moto's endpoints, its fake credentials, a local state file, and
    few retries, so an unimplemented call (moto's HTTP 500) fails in seconds instead of
    after the provider's 25, while a dropped connection is still tried again."""
    endpoints = "\n".join(f'    {name} = "{endpoint}"' for name in SERVICES)
    return f"""# Written by tests/infra/terraform_stack.py into the test's copy only.
terraform {{
  backend "local" {{}}
}}

provider "aws" {{
  access_key                  = "{FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]}"
  secret_key                  = "{FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  max_retries                 = 3
  endpoints {{
{endpoints}
  }}
}}
"""


@dataclass
class Stack:
    """One environment of infra/ on a fresh moto of its own (moto's DescribeTrails ignores
    the names it is asked for, so two stacks in one moto would read each other's trail)."""

    env: str
    root: Path
    moto_url: str
    binary: str
    log: Path
    timings: dict[str, float] = field(default_factory=dict)
    # Read once, here: the dev trip's app check swaps os.environ while the prod trip runs.
    base_env: dict[str, str] = field(default_factory=tool_env)

    @property
    def name(self) -> str:
        return "tl-fif" if self.env == "prod" else f"tl-fif-{self.env}"

    def run(
        self, *args: str, check: bool = True, quiet: bool = False
    ) -> subprocess.CompletedProcess[str]:
        done = run_tool(self.binary, list(args), self.root, env=self.base_env)
        with self.log.open("a", encoding="utf-8") as out:
            out.write(f"$ {' '.join(args)}\n{'' if quiet else done.stdout}\n{done.stderr}\n")
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
        return done

    def init(self) -> None:
        self.run(*init_args(self.binary))

    @property
    def var_files(self) -> list[str]:
        """The env's tfvars, then the test's own (TEST_VARS) where it wrote one: a later
        -var-file wins, where an *.auto.tfvars would lose to the env's."""
        own = [f"-var-file={TEST_VARS}"] if (self.root / TEST_VARS).is_file() else []
        return [f"-var-file=envs/{self.env}.tfvars", *own]

    def plan(self, out: str) -> dict[str, Any]:
        """Plan into `out`; returns the plan as JSON (`show -json`)."""
        self.run("plan", "-input=false", *self.var_files, f"-out={out}")
        found: dict[str, Any] = json.loads(self.run("show", "-json", out, quiet=True).stdout)
        return found

    def apply(self, plan: str) -> None:
        self.run("apply", "-input=false", plan)

    def destroy(self) -> None:
        """Without the refresh a destroy starts with: the second plan has just read every
        resource back (about half of the destroy's time on this machine).

        moto sometimes drops a security group rule itself while Terraform deletes what it
        refers to in parallel; Terraform, not having refreshed, then revokes a rule that is
        gone (InvalidPermission.NotFound). An emulator gap: that one failure is answered
        with a destroy that refreshes first, which finds the rule gone and goes on."""
        args = ("destroy", "-input=false", "-auto-approve")
        done = self.run(*args, "-refresh=false", *self.var_files, check=False)
        if done.returncode == 0:
            return
        if "InvalidPermission.NotFound" not in done.stdout + done.stderr:
            raise AssertionError(f"destroy failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        self.run(*args, *self.var_files)

    def empty_buckets(self) -> None:
        """What the owner does before a destroy: versioned buckets are deleted only empty."""
        s3 = self.client("s3")
        for bucket in s3.list_buckets()["Buckets"]:
            pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket["Name"])
            for page in pages:
                versions = page.get("Versions", []) + page.get("DeleteMarkers", [])
                objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]
                if objects:
                    s3.delete_objects(Bucket=bucket["Name"], Delete={"Objects": objects})

    def state(self) -> list[str]:
        return self.run("state", "list", check=False).stdout.splitlines()

    def outputs(self) -> dict[str, Any]:
        found = json.loads(self.run("output", "-json", quiet=True).stdout)
        return {name: value["value"] for name, value in found.items()}

    def client(self, service: str) -> Any:
        return boto3.client(
            service, endpoint_url=self.moto_url, region_name=REGION,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )  # fmt: skip


def changes(plan: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """address -> actions of every resource the plan would touch."""
    return {
        change["address"]: tuple(change["change"]["actions"])
        for change in plan.get("resource_changes", [])
        if change["change"]["actions"] != ["no-op"] and change["change"]["actions"] != ["read"]
    }


def planned_resources(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every resource of the plan's planned values, the modules' included."""
    modules = [plan["planned_values"]["root_module"]]
    while modules:
        module = modules.pop()
        yield from module.get("resources", [])
        modules += module.get("child_modules", [])


def copy_infra(tmp: Path, moto_url: str) -> Path:
    """infra/ in `tmp`, the overrides laid over it, placeholder Lambda zips beside it (moto
    stores a function's code and never runs it: it would need Docker)."""
    root = tmp / "infra"
    shutil.copytree(INFRA, root, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    for override in OVERRIDES.rglob("*.tf"):
        target = root / override.relative_to(OVERRIDES)
        shutil.copyfile(override, target)
    (root / "moto_provider_override.tf").write_text(provider_override(moto_url), "utf-8")
    zips = tmp / "dist" / "lambda"  # tfvars: lambda_zip_dir = "../dist/lambda"
    zips.mkdir(parents=True)
    for name in LAMBDAS:
        with zipfile.ZipFile(zips / f"{name}.zip", "w") as archive:
            archive.writestr(
                f"{name}/handler.py", "def handler(event, context):\n    return None\n"
            )
    return root


def owners_first_steps(stack: Stack) -> None:
    """What the README asks of the owner before the first apply: an AMI id in the parameter
    the launch template resolves (Packer writes it), and the Redis password (ADR 0023)."""
    image = stack.client("ec2").describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ssm = stack.client("ssm")
    parameter = load(stack.root / "envs" / f"{stack.env}.tfvars")["ami_parameter_name"]
    ssm.put_parameter(Name=parameter, Value=image, Type="String", DataType="aws:ec2:image")
    ssm.put_parameter(Name=f"/{stack.name}/redis/password", Value="p" * 32, Type="SecureString")


def start_stack_moto(tmp: Path) -> tuple[ChildProcess, str]:
    """A fresh moto server that loads AWS's managed IAM policies (the stack attaches some)."""
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    return start_moto(free_port(), env, tmp)


# The layer's wrapper, as awslabs/aws-lambda-web-adapter ships it (layer/bootstrap); moto
# stores the layer and never runs it.
LWA_BOOTSTRAP = '#!/bin/bash\n\nexec -- "${LAMBDA_TASK_ROOT}/${_HANDLER}"\n'


def add_test_vars(stack: Stack, values: dict[str, Any]) -> None:
    """Variables set over the env's tfvars for this trip (TEST_VARS), beside any set before."""
    path = stack.root / TEST_VARS
    before = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    path.write_text(json.dumps(before | values), "utf-8")


def enable_stream_edge(stack: Stack) -> None:
    """ADR 0028's opt-in, so moto creates the function URL and its function: the Lambda
    Web Adapter's layer published in moto's own account (moto looks a function's layers up
    there, and AWS's is in account 753240598075), its ARN passed with the switch."""
    with io.BytesIO() as layer:
        with zipfile.ZipFile(layer, "w") as archive:
            archive.writestr("bootstrap", LWA_BOOTSTRAP)
        published = stack.client("lambda").publish_layer_version(
            LayerName="LambdaAdapterLayerX86", Content={"ZipFile": layer.getvalue()}
        )
    values = {
        "router_stream_edge": True,
        "router_stream_reserved_concurrency": 2,
        "lambda_web_adapter_layer_arn": published["LayerVersionArn"],
    }
    add_test_vars(stack, values)
