"""`tlfif webhook-secret` and `tlfif webhook-text` against the real router under uvicorn
(test_cli_router.py's stack: moto's Cognito, real Redis): the secret alone on stdout and
how receivers check it on stderr; rotate makes a new one; the text setting is kept across
it; `tlfif infer --webhook` with an address the router refuses is one line naming it."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.integration.test_cli_router import Run, Stack, profile, stack, tlfif
from tlfif.webhook_contracts import WebhookProfile, sign, verify_signature
from tlfif_cli.errors import ExitCode

__all__ = ["profile", "stack", "tlfif"]  # test_cli_router's fixtures, used here


def test_show_rotate_and_the_text_setting(stack: Stack, tlfif: Callable[..., Run]) -> None:
    shown = tlfif("webhook-secret", "show")
    assert shown.code == ExitCode.OK, shown.err
    secret = shown.out.strip()
    assert secret.startswith("whsec_") and shown.out == secret + "\n"
    assert "HMAC-SHA256" in shown.err and "X-Tlfif-Signature" in shown.err
    assert "<X-Tlfif-Timestamp>.<body>" in shown.err and "text in deliveries: off" in shown.err
    assert tlfif("webhook-secret", "show").out == shown.out  # made once, then shown
    body = b'{"type":"reply"}'
    assert verify_signature(secret, "1800000000", body, sign(secret, 1800000000, body), now=1.8e9)

    on = tlfif("webhook-text", "on")
    assert on.code == ExitCode.OK and "carry the reply's text" in on.out
    rotated = tlfif("webhook-secret", "rotate")
    assert rotated.code == ExitCode.OK
    new = rotated.out.strip()
    assert new.startswith("whsec_") and new != secret
    assert "old one stopped working at once" in rotated.err
    profile = WebhookProfile.model_validate(
        json.loads(tlfif("webhook-secret", "show", "--json").out)
    )
    assert profile.secret == new and profile.include_text  # the setting survives the rotate

    off = tlfif("webhook-text", "off", "--json")
    assert off.code == ExitCode.OK and json.loads(off.out)["include_text"] is False
    assert "facts only" in tlfif("webhook-text", "off").out


def test_usage_and_refused_webhooks_are_one_line(tlfif: Callable[..., Run]) -> None:
    for argv in (("webhook-text", "maybe"), ("webhook-secret",), ("webhook-secret", "print")):
        usage = tlfif(*argv)
        assert usage.code == ExitCode.USAGE and usage.err.count("\n") == 1, argv
    refused = tlfif("infer", "--webhook", "http://127.0.0.1:9/hook", "--no-wait", "hi")
    assert refused.code == ExitCode.USAGE and refused.err.count("\n") == 1
    assert "webhook" in refused.err and refused.out == ""
