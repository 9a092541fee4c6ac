"""Bodies and keys an attacker crafts: deep nesting refused before parsing, adapter_uri refused
rather than ignored, idempotency keys that cannot collide across users, and no sub that is
not a Cognito user id ever reaches a Redis key or an S3 prefix."""

from __future__ import annotations

import pytest

from tests.doubles.token_issuer import sub_of
from tests.fixtures.router_app import RouterHarness
from tlfif import keys
from tlfif.contracts import Job

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("depth", [33, 1_000, 10_000])
async def test_deep_nesting_is_a_400_before_any_parsing(router: RouterHarness, depth: int) -> None:
    body = '{"prompt": "x", "idle": ' + "[" * depth + "]" * depth + "}"
    answer = await router.client.post("/infer", content=body, headers=router.auth())
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "code": "invalid_input",
        "message": "body nests arrays and objects deeper than 32 levels",
        "field": "body",
    }


async def test_brackets_inside_a_string_are_only_text(router: RouterHarness) -> None:
    answer = await router.infer({"prompt": "[" * 5000 + "{" * 1000})
    assert answer.status_code == 202


async def test_adapter_uri_is_refused_as_unsupported(router: RouterHarness) -> None:
    answer = await router.infer({"prompt": "x", "adapter_uri": "s3://models/lora.safetensors"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("unsupported", "adapter_uri")
    assert await router.queue.depth() == 0


async def test_one_idempotency_key_of_two_users_makes_two_jobs(router: RouterHarness) -> None:
    key = {"Idempotency-Key": "same-key"}
    first = await router.infer({"prompt": "x"}, sub="bob", headers=key)
    second = await router.infer({"prompt": "x"}, sub="carol", headers=key)
    again = await router.infer({"prompt": "x"}, sub="bob", headers=key)
    assert first.json()["id"] != second.json()["id"]
    assert again.json()["id"] == first.json()["id"]


def test_idempotency_keys_are_hashed_so_crafted_pairs_do_not_meet() -> None:
    # Spliced raw, "a:b" + "c" and "a" + "b:c" were the same Redis key.
    assert keys.idempotency("a:b", "c") != keys.idempotency("a", "b:c")
    assert keys.idempotency("a", "b") == keys.idempotency("a", "b")
    assert "client-key" not in keys.idempotency(sub_of("bob"), "client-key")


async def test_the_reply_key_of_every_accepted_job_is_under_a_uuid_prefix(
    router: RouterHarness,
) -> None:
    job_id = (await router.infer({"prompt": "x"}, sub="bob")).json()["id"]
    stored = await router.redis.get(keys.job(job_id))
    assert stored is not None
    job = Job.model_validate_json(stored)
    assert job.reply_key == f"replies/{sub_of('bob')}/{job_id}.json"
