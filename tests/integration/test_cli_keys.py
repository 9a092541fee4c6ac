"""`tlfif keys` against the real router under uvicorn (test_cli_router.py's stack: moto's
Cognito, real Redis): create shows the secret once, on stdout alone; the key works as a
bearer; list shows it without the secret; revoke by name stops it; errors are one line."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from tests.integration.test_cli_router import Run, Stack, profile, stack, tlfif
from tlfif_cli.errors import ExitCode

__all__ = ["profile", "stack", "tlfif"]  # test_cli_router's fixtures, used here


def test_create_list_use_and_revoke_a_key(stack: Stack, tlfif: Callable[..., Run]) -> None:
    created = tlfif("keys", "create", "laptop")
    assert created.code == ExitCode.OK, created.err
    secret = created.out.strip()
    assert secret.startswith("tlfif-sk-") and created.out == secret + "\n"
    assert "shown this once" in created.err and "/api-key/v1" in created.err

    bearer = {"Authorization": f"Bearer {secret}"}
    used = httpx.get(f"{stack.api_url}/api-key/status", headers=bearer)
    assert used.status_code == 200

    listed = tlfif("keys", "list")
    assert listed.code == ExitCode.OK and "laptop" in listed.out and secret not in listed.out
    as_json = json.loads(tlfif("keys", "list", "--json").out)
    assert [key["name"] for key in as_json["keys"]] == ["laptop"]

    taken = tlfif("keys", "create", "laptop")
    assert taken.code == ExitCode.USAGE and taken.err.count("\n") == 1
    assert "exists" in taken.err

    revoked = tlfif("keys", "revoke", "laptop")
    assert revoked.code == ExitCode.OK and "revoked" in revoked.out
    assert httpx.get(f"{stack.api_url}/api-key/status", headers=bearer).status_code == 401
    assert "no API keys" in tlfif("keys", "list").err


def test_bad_names_and_unknown_keys_are_one_line_each(tlfif: Callable[..., Run]) -> None:
    bad = tlfif("keys", "create", "two words")
    assert bad.code == ExitCode.USAGE and bad.err.count("\n") == 1 and "name" in bad.err
    unknown = tlfif("keys", "revoke", "nope")
    assert unknown.code == ExitCode.NOT_FOUND and unknown.err.count("\n") == 1
    assert "tlfif keys list" in unknown.err
    usage = tlfif("keys")
    assert usage.code == ExitCode.USAGE
