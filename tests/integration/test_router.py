"""The router on a real redis-server: the HTTP contract end to end, cloud ports doubled.

Tokens are real RS256 JWTs from TokenIssuerDouble, checked by the real TokenVerifier.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest

from tests.doubles.cloud import NodeControlDouble
from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.redis_servers import RedisServer, free_port
from tests.fixtures.router_app import RouterHarness, open_router, router_on
from tlfif import keys
from tlfif.contracts import Job, Reply
from tlfif.delivery import deliver
from tlfif.nodes import NodeRegistry
from tlfif.ports import NodeControl
from tlfif.redis_conn import connect
from tlfif.runtime.logs import JsonFormatter

pytestmark = pytest.mark.anyio


@pytest.fixture
async def refusing_router(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> AsyncIterator[RouterHarness]:
    node = NodeControlDouble(refuse_start="InsufficientInstanceCapacity")
    async with router_on(redis_server, token_issuer, node=node) as harness:
        yield harness


async def submit(router: RouterHarness, sub: str = "alice") -> str:
    response = await router.infer({"prompt": "hello"}, sub=sub)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def stored_job(router: RouterHarness, job_id: str) -> Job:
    body = await router.redis.get(keys.job(job_id))
    assert body is not None, f"job {job_id} is not in Redis"
    return Job.model_validate_json(body)


async def answer(router: RouterHarness, job_id: str, text: str = "hi there") -> None:
    job = await stored_job(router, job_id)
    reply = Reply(id=job_id, status="done", text=text, finish_reason="stop")
    assert await deliver(router.queue, router.replies, job.reply_key, reply)


async def mark_ready(router: RouterHarness) -> None:
    await NodeRegistry(router.redis).beat("i-node", "ready", ttl_seconds=30)


# --- ping, request ids, unknown routes ---------------------------------------------------


async def test_ping_needs_no_token_and_carries_a_request_id(router: RouterHarness) -> None:
    response = await router.client.get("/ping")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert len(response.headers["x-request-id"]) == 36
    echoed = await router.client.get("/ping", headers={"X-Request-Id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"


async def test_unknown_route_and_wrong_method_answer_json(router: RouterHarness) -> None:
    missing = await router.client.get("/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert missing.headers["x-request-id"]
    wrong = await router.client.get("/infer")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


# --- POST /infer ------------------------------------------------------------------------


async def test_infer_on_a_stopped_node_starts_it_and_queues_the_job(router: RouterHarness) -> None:
    response = await router.infer({"prompt": "hello", "idle": 7, "max_tokens": 32})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "starting" and body["eta"] == 90 and "node_error" not in body
    job = await stored_job(router, body["id"])
    assert job.sub == sub_of("alice") and job.idle == 7 and job.params.max_tokens == 32
    assert job.messages[0].content == "hello"
    assert await router.queue.state(body["id"]) == "queued"
    assert router.node.calls == ["state", "start"]
    assert router.metrics.counts["EC2Starts"] == 1


async def test_infer_with_messages_on_a_ready_node_makes_no_aws_call(router: RouterHarness) -> None:
    await mark_ready(router)
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    response = await router.infer({"messages": messages})
    assert response.status_code == 202
    assert response.json()["status"] == "queued" and response.json()["eta"] == 5
    job = await stored_job(router, response.json()["id"])
    assert [m.role for m in job.messages] == ["system", "user"]
    assert router.node.calls == []


async def test_refused_start_keeps_the_job_shows_in_status_and_is_retried(
    refusing_router: RouterHarness,
) -> None:
    router = refusing_router
    response = await router.infer({"prompt": "hello"})
    assert response.status_code == 202
    # Fixed words to the caller; AWS's own (with ARNs, in AWS) go to the log.
    assert response.json()["node_error"] == "the node could not be started"
    job_id = response.json()["id"]
    assert await router.queue.depth() == 1
    status = (await router.client.get("/status", headers=router.auth())).json()
    assert status["start_error"]["code"] == "node_start_refused"
    assert "InsufficientInstanceCapacity" not in str(status)
    assert status["pending"] == [job_id]
    router.node.refuse_start = None  # capacity is back; the next poll starts the node
    assert (await router.result(job_id)).status_code == 202
    assert router.node.calls.count("start") == 2 and router.node.current == "pending"
    status = (await router.client.get("/status", headers=router.auth())).json()
    assert status["start_error"] is None and status["node"] == "starting"


async def test_status_names_each_node_with_its_phase_from_redis_alone(
    router: RouterHarness,
) -> None:
    registry = NodeRegistry(router.redis)
    await registry.beat("i-a", "ready", ttl_seconds=30, active=2)
    await registry.remember_instance_states({"i-a": "running", "i-b": "pending"}, 30)
    calls = list(router.node.calls)
    status = (await router.client.get("/status", headers=router.auth())).json()
    assert status["node"] == "ready"
    assert status["nodes"] == [
        {"node": "i-a", "phase": "ready", "active": 2},
        {"node": "i-b", "phase": "starting", "active": 0},
    ]
    assert router.node.calls == calls  # no EC2 call


async def test_same_idempotency_key_twice_gives_one_job(router: RouterHarness) -> None:
    headers = {"Idempotency-Key": "retry-1"}
    first = await router.infer({"prompt": "hello"}, headers=headers)
    again = await router.infer({"prompt": "hello"}, headers=headers)
    assert first.json()["id"] == again.json()["id"]
    assert await router.queue.depth() == 1


async def test_budget_hold_refuses_and_queues_nothing(router: RouterHarness) -> None:
    await NodeRegistry(router.redis).set_hold("budget")
    response = await router.infer({"prompt": "hello"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "budget_reached"
    assert int(response.headers["retry-after"]) > 0
    assert await router.queue.depth() == 0 and router.node.calls == []


async def test_redis_down_is_a_503_with_retry_after(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    test_redis = connect(redis_server.url)
    async with open_router(token_issuer, lambda: connect(closed), test_redis) as router:
        response = await router.infer({"prompt": "hello"})
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        assert response.json()["error"]["code"] == "queue_unavailable"
        assert (await router.client.get("/status", headers=router.auth())).status_code == 503
        health = await router.client.get("/queue-health")
        assert health.status_code == 503 and health.json()["redis"] == "error"
    await test_redis.aclose()


# --- GET /result ------------------------------------------------------------------------


async def test_result_is_202_while_pending_and_200_once_answered(router: RouterHarness) -> None:
    job_id = await submit(router)
    pending = await router.result(job_id)
    assert pending.status_code == 202
    assert pending.json() == {"status": "queued", "id": job_id, "node": "starting"}
    await answer(router, job_id)
    done = await router.result(job_id)
    assert done.status_code == 200
    assert done.json()["status"] == "done" and done.json()["text"] == "hi there"


async def test_wait_returns_the_moment_the_reply_is_delivered(router: RouterHarness) -> None:
    job_id = await submit(router)
    started = time.monotonic()
    waiting = asyncio.create_task(router.result(job_id, wait=20))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await answer(router, job_id)
    response = await asyncio.wait_for(waiting, timeout=5)
    assert response.status_code == 200 and time.monotonic() - started < 5


async def test_several_waiters_on_one_id_all_wake(router: RouterHarness) -> None:
    job_id = await submit(router)
    waiters = [asyncio.create_task(router.result(job_id, wait=20)) for _ in range(4)]
    await asyncio.sleep(0.3)
    await answer(router, job_id)
    responses = await asyncio.wait_for(asyncio.gather(*waiters), timeout=5)
    assert [r.status_code for r in responses] == [200] * 4


async def test_wait_without_a_reply_ends_in_202(router: RouterHarness) -> None:
    job_id = await submit(router)
    started = time.monotonic()
    response = await router.result(job_id, wait=1)
    assert response.status_code == 202 and 0.9 <= time.monotonic() - started < 3


async def test_expired_job_is_answered_expired_not_404(router: RouterHarness) -> None:
    job_id = await submit(router)
    await router.redis.pexpire(keys.job(job_id), 1)  # the 300 s TTL, run out
    await asyncio.sleep(0.05)
    response = await router.result(job_id)
    assert response.status_code == 200 and response.json()["status"] == "expired"
    assert len(router.replies.replies) == 1
    assert (await router.result(job_id)).json() == response.json()  # never changes


async def test_a_poll_requeues_the_jobs_of_a_dead_node(router: RouterHarness) -> None:
    job_id = await submit(router)
    await NodeRegistry(router.redis).beat("i-dead", "ready", ttl_seconds=0.2)
    assert await router.queue.claim_next("i-dead", timeout=1) == job_id
    assert (await router.result(job_id)).json()["status"] == "running"
    await asyncio.sleep(0.3)  # its heartbeat lapses
    response = await router.result(job_id)
    assert response.json()["status"] == "queued"
    assert await router.redis.lrange(keys.inflight("i-dead"), 0, -1) == []


async def test_unknown_and_foreign_ids_are_the_same_404(router: RouterHarness) -> None:
    job_id = await submit(router, sub="bob")
    foreign = await router.result(job_id, sub="alice")
    unknown = await router.result("6f1c1d4e-8d1a-4f3e-9a51-0c2b1e7e4b11")
    garbage = await router.result("not-a-uuid")
    for response in (foreign, unknown, garbage):
        assert response.status_code == 404
    assert foreign.json() == unknown.json() == garbage.json()
    assert (await router.result(job_id, sub="bob")).status_code == 202


# --- POST /stop, GET /status ------------------------------------------------------------


async def test_stop_holds_the_node_until_the_next_prompt(router: RouterHarness) -> None:
    job_id = await submit(router)
    stopped = await router.client.post("/stop", headers=router.auth())
    assert stopped.status_code == 200
    assert stopped.json() == {"status": "stopping", "node": "stopped"}
    assert router.metrics.counts["ManualStops"] == 1
    calls_after_stop = len(router.node.calls)
    for _ in range(3):
        assert (await router.result(job_id)).json()["node"] == "stopped"
    assert "start" not in router.node.calls[calls_after_stop:]
    status = (await router.client.get("/status", headers=router.auth())).json()
    assert status["hold"] == "manual"
    await submit(router)  # a new prompt lifts the hold and starts the node
    assert "start" in router.node.calls[calls_after_stop:]
    status = (await router.client.get("/status", headers=router.auth())).json()
    assert status["hold"] is None


async def test_status_lists_only_the_callers_pending_jobs(router: RouterHarness) -> None:
    mine = await submit(router, sub="alice")
    await submit(router, sub="bob")
    status = (await router.client.get("/status", headers=router.auth("alice"))).json()
    assert status["pending"] == [mine] and status["queue_depth"] == 2
    assert status["node"] == "starting" and status["hold"] is None


async def test_queue_health_reports_redis_latency(router: RouterHarness) -> None:
    response = await router.client.get("/queue-health")
    assert response.status_code == 200
    assert response.json()["redis"] == "ok" and response.json()["latencyMs"] >= 0


# --- never a 500, and what the log holds -------------------------------------------------


async def test_an_unexpected_error_is_a_logged_503_not_a_500(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_node_control() -> NodeControl:
        raise RuntimeError("adapter blew up")

    async with router_on(redis_server, token_issuer, node_control=broken_node_control) as router:
        response = await router.client.post("/stop", headers=router.auth())
    assert response.status_code == 503 and response.headers["retry-after"]
    assert response.json()["error"]["code"] == "unavailable"
    assert "blew up" not in response.text
    logged = [r for r in caplog.records if r.exc_info and r.message == "unexpected error"]
    assert logged and "adapter blew up" in JsonFormatter().format(logged[0])


async def test_log_lines_are_json_and_hold_no_prompt_or_token(
    router: RouterHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    token = router.issuer.access_token()
    secret = "my secret prompt text"
    await router.client.post(
        "/infer", json={"prompt": secret}, headers={"Authorization": f"Bearer {token}"}
    )
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert lines and not any(secret in line or token in line for line in lines)
    access = [r for r in caplog.records if r.name == "router.access"]
    assert len(access) == 1
    line = access[0].__dict__
    assert line["route"] == "/infer" and line["status"] == 202 and line["method"] == "POST"
    assert {"requestId", "ip", "latencyMs"} <= set(line)
