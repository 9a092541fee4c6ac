"""What the router counts (the Metrics port; EMF on the wire is tested where it is printed:
tests/unit/test_runtime_metrics.py for uvicorn, test_router_lambda_process.py for Lambda)."""

from __future__ import annotations

import fakeredis
import pytest

from tests.doubles.token_issuer import TokenIssuerDouble
from tests.fixtures.redis_servers import free_port
from tests.fixtures.router_app import RouterHarness, open_router
from tlfif.redis_conn import connect

pytestmark = pytest.mark.anyio


async def test_every_post_infer_is_a_request_whatever_its_answer(router: RouterHarness) -> None:
    await router.infer({"prompt": "hello"})
    await router.infer({"prompt": ""})  # 400
    await router.client.post("/infer", json={"prompt": "hello"})  # 401
    await router.client.get("/status", headers=router.auth())  # not a POST /infer
    assert router.metrics.counts["Requests"] == 3


async def test_queue_depth_is_sampled_as_each_job_joins(router: RouterHarness) -> None:
    for i in range(3):
        await router.infer({"prompt": f"p{i}"}, sub=f"user{i}")
    assert router.metrics.values("QueueDepth") == [1, 2, 3]


async def test_a_failed_enqueue_is_counted_and_answered_503(
    token_issuer: TokenIssuerDouble,
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    test_redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    async with open_router(token_issuer, lambda: connect(closed), test_redis) as router:
        response = await router.infer({"prompt": "hello"})
        assert response.status_code == 503 and response.headers["retry-after"]
        assert response.json()["error"]["code"] == "queue_unavailable"
        await router.client.get("/status", headers=router.auth())  # a read fails, no enqueue
        assert router.metrics.counts == {"Requests": 1, "RedisEnqueueFail": 1}
    await test_redis.aclose()
