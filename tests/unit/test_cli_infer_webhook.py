"""`tlfif infer --webhook URL` puts the URL in POST /infer's body as `webhook` (the router
checks it: https only, a public host) and nothing else about the request changes."""

from __future__ import annotations

import json

from tests.doubles.router_api_double import RouterApiDouble
from tests.unit.test_cli import Tlfif, cli_env, profile, router_api, run_cli, tlfif
from tlfif_cli.errors import ExitCode

__all__ = ["cli_env", "profile", "router_api", "run_cli", "tlfif"]  # test_cli's fixtures

HOOK = "https://hooks.example.com/tlfif?from=cli"


def test_the_webhook_goes_in_the_body(tlfif: Tlfif, router_api: RouterApiDouble) -> None:
    run = tlfif("infer", "hi", "--no-wait", "--webhook", HOOK)
    assert run.code == ExitCode.OK
    (sent,) = router_api.sent("POST /infer")
    body = json.loads(sent.content)
    assert body["webhook"] == HOOK and body["prompt"] == "hi"


def test_without_the_flag_the_body_names_no_webhook(
    tlfif: Tlfif, router_api: RouterApiDouble
) -> None:
    assert tlfif("infer", "hi", "--no-wait").code == ExitCode.OK
    (sent,) = router_api.sent("POST /infer")
    assert "webhook" not in json.loads(sent.content)


def test_a_url_past_2048_characters_is_refused_before_sending(
    tlfif: Tlfif, router_api: RouterApiDouble
) -> None:
    run = tlfif("infer", "hi", "--webhook", "https://h.example/" + "a" * 2048)
    assert run.code == ExitCode.USAGE and run.err.count("\n") == 1 and "webhook" in run.err
    assert router_api.sent("POST /infer") == []
