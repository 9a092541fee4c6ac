"""The node AMI (packer/): x86_64 for g4dn, vLLM flags that fit a T4, the node files in place,
no SSH left, and the watcher's venv pinned like the project."""

from __future__ import annotations

import re
import shlex
import tomllib
from typing import Any

from local.settings import LocalSettings
from tests.infra.hcl import ENVS, PACKER, REPO, load, nested

TEMPLATE = PACKER / "tl-fif-node.pkr.hcl"
FILES = PACKER / "files"
PROVISION = (PACKER / "scripts" / "provision.sh").read_text()


def code(text: str) -> str:
    """The text without its comment lines, which may name what the code avoids."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def template() -> dict[str, Any]:
    return load(TEMPLATE)


def variable_defaults() -> dict[str, Any]:
    return {
        name: body.get("default")
        for block in template()["variable"]
        for name, body in block.items()
    }


def source() -> dict[str, Any]:
    (block,) = template()["source"]
    return dict(block["amazon-ebs"]["node"])


def test_parameterised_by_base_os_model_and_vllm_version() -> None:
    defaults = variable_defaults()
    assert {"base_os", "model_id", "vllm_version"} <= set(defaults)
    assert defaults["base_os"] == "ubuntu-24.04"
    assert defaults["model_id"] == "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    assert re.fullmatch(r"\d+\.\d+\.\d+", defaults["vllm_version"]), "pin an exact vLLM release"
    major, minor, _ = (int(part) for part in defaults["vllm_version"].split("."))
    # From 0.10 on vLLM logs no request unless --enable-log-requests: prompts stay out of logs.
    assert (major, minor) >= (0, 10)
    assert "--enable-log-requests" not in (FILES / "vllm.service").read_text()


def test_current_packer_with_the_amazon_plugin() -> None:
    (packer,) = template()["packer"]
    (plugins,) = nested(packer, "required_plugins")
    assert plugins["amazon"]["source"] == "github.com/hashicorp/amazon"


def test_image_is_x86_64_ubuntu_and_built_on_a_t4() -> None:
    src = source()
    (ami_filter,) = nested(src, "source_ami_filter")
    assert ami_filter["filters"]["architecture"] == "x86_64"
    locals_ = template()["locals"][0]
    assert "amd64" in locals_["base_os_ami_names"]["ubuntu-24.04"]
    assert "arm64" not in code(TEMPLATE.read_text())
    assert variable_defaults()["builder_instance_type"] == "g4dn.xlarge"


def test_image_requires_imdsv2_and_encrypts_its_volume() -> None:
    src = source()
    (options,) = nested(src, "metadata_options")
    assert options["http_tokens"] == "required"
    assert src["imds_support"] == "v2.0"
    assert src["encrypt_boot"] is True
    (device,) = nested(src, "launch_block_device_mappings")
    assert device["volume_type"] == "gp3" and device["encrypted"] is True


def test_image_and_infra_agree_on_disk_size_and_parameter() -> None:
    defaults = variable_defaults()
    for env_file in sorted(ENVS.glob("*.tfvars")):
        values = load(env_file)
        assert defaults["root_volume_gb"] == values["node_root_volume_gb"]
    # Packer writes prod's parameter unless told dev's (-var ami_parameter_name, bake.yml).
    assert defaults["ami_parameter_name"] == load(ENVS / "prod.tfvars")["ami_parameter_name"]
    assert "--data-type aws:ec2:image" in TEMPLATE.read_text()


def vllm_args() -> list[str]:
    text = (FILES / "vllm.service").read_text()
    (exec_start,) = re.findall(r"^ExecStart=(.*?)(?<!\\)\n", text.replace("\\\n", " "), re.M)
    return shlex.split(exec_start)


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_vllm_serves_on_loopback_8000_with_flags_that_fit_a_t4() -> None:
    args = vllm_args()
    assert args[:2] == ["/opt/vllm/venv/bin/vllm", "serve"]
    assert flag(args, "--host") == "127.0.0.1"
    assert flag(args, "--port") == "8000"
    assert flag(args, "--dtype") == "half", "a T4 (Turing) has no bfloat16"
    assert float(flag(args, "--gpu-memory-utilization")) <= 0.9
    assert int(flag(args, "--max-model-len")) <= 2048, "TinyLlama's context"
    joined = " ".join(args)
    for unfit in ("bfloat16", "fp8", "--quantization", "flash_attn", "FLASHINFER"):
        assert unfit not in joined


def unit_settings(name: str) -> dict[str, dict[str, str]]:
    """A systemd unit's settings by section (the last value of a name wins, as in systemd)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in (FILES / name).read_text().replace("\\\n", " ").splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif "=" in line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            current[key] = value
    return sections


def test_vllm_restarts_within_the_local_agents_start_limit() -> None:
    # The node agent restarts the local engine by the same rule (LocalSettings): a change
    # to one must be made to the other.
    local = LocalSettings.model_fields
    unit = unit_settings("vllm.service")
    assert unit["Service"]["Restart"] == "on-failure"
    assert float(unit["Service"]["RestartSec"]) == local["engine_restart_delay_seconds"].default
    # Start limits belong to [Unit] since systemd 230; in [Service] they are ignored.
    assert int(unit["Unit"]["StartLimitBurst"]) == local["engine_start_limit_burst"].default
    interval = float(unit["Unit"]["StartLimitIntervalSec"])
    assert interval == local["engine_start_limit_interval_seconds"].default
    assert "StartLimitBurst" not in unit["Service"]


def test_model_is_safetensors_not_the_seeds_gguf() -> None:
    assert "*.safetensors" in PROVISION
    assert "gguf" not in code(PROVISION).lower()
    assert "gguf" not in code(TEMPLATE.read_text()).lower()
    assert "HF_HUB_OFFLINE=1" in (FILES / "vllm.service").read_text()


def test_node_files_are_installed_and_enabled() -> None:
    for name in ("vllm.service", "tlfif-node-env.service", "tlfif-watcher.service"):
        assert (FILES / name).is_file()
        assert name in PROVISION
    assert "systemctl enable vllm.service tlfif-node-env.service tlfif-watcher.service" in PROVISION
    assert "supervisord-watcher.conf" in PROVISION
    watcher_unit = (FILES / "tlfif-watcher.service").read_text()
    assert "supervisord -c /etc/tlfif/supervisord-watcher.conf" in watcher_unit
    assert (FILES / "supervisord-watcher.conf").is_file(), "shared with the local stack"


def test_watcher_env_gives_supervisord_what_its_conf_needs() -> None:
    conf = (FILES / "supervisord-watcher.conf").read_text()
    needed = set(re.findall(r"%\(ENV_(\w+)\)s", conf))
    env = dict(
        line.split("=", 1)
        for line in (FILES / "watcher.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert needed <= set(env), f"watcher.env lacks {needed - set(env)}"
    assert "watcher.log" in conf and env["NODE_LOG_DIR"] == "/var/log/tlfif"


def test_watcher_and_engine_are_in_their_own_venvs() -> None:
    assert "python3 -m venv /opt/vllm/venv" in PROVISION
    assert "python3 -m venv /opt/tlfif/venv" in PROVISION
    assert 'cp -r "${APP}/tlfif" "${APP}/watcher" /opt/tlfif/app/' in PROVISION


def test_watcher_requirements_are_pinned_like_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = dict(d.split("==") for d in project)
    wanted = [
        line.strip()
        for line in (FILES / "requirements-watcher.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for requirement in wanted:
        name, version = requirement.split("==")
        assert pins.get(name) == version, f"{name} is {pins.get(name)} in pyproject.toml"
    for framework in ("starlette", "uvicorn", "python-jose"):
        assert not any(r.startswith(framework) for r in wanted)


def test_cloudwatch_agent_ships_gpu_metrics_and_the_watchers_emf() -> None:
    """CloudWatch Logs extracts metrics from any valid EMF line it receives (the json/emf
    header is no longer needed), so shipping watcher.log ships the watcher's EMF metrics;
    the agent's own EMF listener (port 25888) stays off: the node listens on nothing."""
    import json

    config = json.loads((FILES / "amazon-cloudwatch-agent.json").read_text())
    assert "utilization_gpu" in config["metrics"]["metrics_collected"]["nvidia_gpu"]["measurement"]
    assert config["metrics"]["aggregation_dimensions"] == [["InstanceId"]]
    assert "metrics_collected" not in config["logs"]
    paths = [f["file_path"] for f in config["logs"]["logs_collected"]["files"]["collect_list"]]
    assert "/var/log/tlfif/watcher.log" in paths
    assert "amazon-cloudwatch-agent.deb" in PROVISION


def test_ssm_agent_present_and_no_ssh_server_left() -> None:
    assert "amazon-ssm-agent" in PROVISION
    builds = template()["build"][0]
    last = builds["provisioner"][-1]["shell"]
    assert last["script"].endswith("disable-ssh.sh") and last["expect_disconnect"] is True
    disable = (PACKER / "scripts" / "disable-ssh.sh").read_text()
    assert "apt-get -y purge openssh-server" in disable
    assert "systemctl mask ssh.service ssh.socket" in disable


def test_shell_provisioners_pass_their_environment() -> None:
    """Overriding execute_command drops environment_vars unless it keeps {{ .Vars }}."""
    for provisioner in template()["build"][0]["provisioner"]:
        shell = provisioner.get("shell", {})
        if "execute_command" in shell:
            assert "{{ .Vars }}" in shell["execute_command"]


def test_post_processor_publishes_the_ami_parameter() -> None:
    builds = template()["build"][0]
    kinds = [next(iter(p)) for p in builds["post-processor"]]
    assert kinds == ["manifest", "shell-local"]
