"""GET /usage and the audit events through the router on a real redis-server (ADR 0034):
a user's own month, the owner's everyone, an owner-sub key's everyone, a malformed month a
400 naming it, the store down a 503 naming nothing; one `audit` line per action, no secret."""

from __future__ import annotations

import json
import logging

import pytest

from tests.doubles.token_issuer import sub_of
from tests.fixtures.router_app import RouterHarness
from tlfif.runtime.logs import event_fields
from tlfif.usage_contracts import UsageDelta

pytestmark = pytest.mark.anyio
MONTH = {"month": "2026-12"}
JOB = UsageDelta(prompts=1, prompt_tokens=3, completion_tokens=4, node_seconds=12.0, cost_eur=0.002)


async def test_a_user_sees_their_month_and_the_owner_everyones(router: RouterHarness) -> None:
    await router.usage.add("2026-12", sub_of("bob"), "job-1", JOB)
    await router.usage.add("2026-12", sub_of("carol"), "job-2", JOB)
    bob = await router.client.get("/usage", params=MONTH, headers=router.auth("bob"))
    assert bob.status_code == 200
    assert bob.json()["users"] == [
        {"sub": sub_of("bob"), "prompts": 1, "prompt_tokens": 3, "completion_tokens": 4,
         "node_seconds": 12.0, "cost_eur": 0.002}
    ]  # fmt: skip
    dave = await router.client.get("/usage", headers=router.auth("dave"))  # nothing yet: zeros
    assert dave.json()["users"][0]["prompts"] == 0
    owner = await router.client.get("/usage", params=MONTH, headers=router.auth())
    assert [user["sub"] for user in owner.json()["users"]] == sorted(
        [sub_of("bob"), sub_of("carol")]
    )


async def test_a_malformed_month_is_a_400_naming_it(router: RouterHarness) -> None:
    refused = await router.client.get("/usage", params={"month": "12-2026"}, headers=router.auth())
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "month"


async def test_a_key_speaks_for_its_owner_and_reads_everyone(router: RouterHarness) -> None:
    # ADR 0027's addendum: only the owner makes keys, so a key reads what the owner reads.
    created = await router.client.post("/keys", json={"name": "ci"}, headers=router.auth())
    key = {"Authorization": f"Bearer {created.json()['secret']}"}
    await router.usage.add("2026-12", sub_of("bob"), "job-1", JOB)
    listed = await router.client.get("/api-key/usage", params=MONTH, headers=key)
    assert listed.status_code == 200
    assert [user["sub"] for user in listed.json()["users"]] == [sub_of("bob")]


async def test_each_action_leaves_one_audit_line_without_secrets(
    router: RouterHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="router")
    created = await router.client.post("/keys", json={"name": "ci"}, headers=router.auth())
    secret, key_id = created.json()["secret"], created.json()["id"]
    await router.client.delete(f"/keys/{key_id}", headers=router.auth())
    queued = (await router.infer({"prompt": "never logged"})).json()["id"]
    await router.client.post(f"/cancel/{queued}", headers=router.auth())
    await router.client.post("/stop", headers=router.auth())
    await router.client.post("/wake", headers=router.auth())
    await router.client.post("/budget/resume", headers=router.auth())
    audits = [f for r in caplog.records if (f := event_fields(r))["event"] == "audit"]
    assert [(a["action"], a["outcome"]) for a in audits] == [
        ("key_create", "created"), ("key_revoke", "revoked"), ("cancel", "queued"),
        ("stop", "stopped"), ("wake", "started"), ("budget_resume", "no_hold"),
    ]  # fmt: skip
    assert all(a["sub"] == sub_of("alice") for a in audits)
    assert audits[0]["keyId"] == key_id and audits[2]["jobId"] == queued
    logged = json.dumps(audits)
    assert secret not in logged and "never logged" not in logged
