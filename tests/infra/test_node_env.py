"""packer/files/tlfif-node-env.py: SSM parameters -> the watcher's environment file."""

from __future__ import annotations

import json

import pytest

from tests.infra.hcl import PACKER, node_env_script

node_env = node_env_script()


def test_env_text_takes_the_parameters_directly_under_the_path() -> None:
    parameters = [
        {"Name": "/tl-fif/node/env/TLFIF_REGION", "Value": "eu-central-1"},
        {"Name": "/tl-fif/node/env/TLFIF_REDIS_URL", "Value": 'rediss://u:p"w\\d@h:6379/0'},
        {"Name": "/tl-fif/node/env/nested/IGNORED", "Value": "x"},
        {"Name": "/other/TLFIF_BUCKET", "Value": "y"},
    ]
    text = node_env.env_text(parameters, "/tl-fif/node/env")
    assert text == (
        'TLFIF_REDIS_URL="rediss://u:p\\"w\\\\d@h:6379/0"\nTLFIF_REGION="eu-central-1"\n'
    )


@pytest.mark.parametrize("name", ["1BAD", "BAD-NAME", "BAD NAME", ""])
def test_env_line_refuses_what_is_no_variable_name(name: str) -> None:
    with pytest.raises((ValueError, IndexError)):
        node_env.env_line(name, "v")


def test_env_line_refuses_a_value_over_two_lines() -> None:
    with pytest.raises(ValueError, match="span lines"):
        node_env.env_line("A", "one\ntwo")


def test_agent_config_names_this_stacks_log_groups() -> None:
    template = (PACKER / "files" / "amazon-cloudwatch-agent.json").read_text()
    name = node_env.stack_name("/tl-fif-dev/node/env")
    config = json.loads(node_env.render_agent_config(template, name))
    groups = [
        f["log_group_name"] for f in config["logs"]["logs_collected"]["files"]["collect_list"]
    ]
    assert groups == ["/tl-fif-dev/node/watcher", "/tl-fif-dev/node/vllm"]
    assert "__STACK__" not in json.dumps(config)
