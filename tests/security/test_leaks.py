"""Nothing internal reaches a caller: with Redis down, S3 failing (the real adapter, on moto,
naming its endpoint, bucket and key), EC2 refusing with an ARN in its words, and the JWKS
unreachable, no answer names a host, a port, a bucket, an ARN or an exception. The detail
is in the logs instead."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.doubles.cloud import NodeControlDouble
from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.moto_server import REGION
from tests.fixtures.redis_servers import RedisServer, free_port
from tests.fixtures.router_app import RouterHarness, open_router, router_on, router_settings
from tlfif.aws.s3 import S3ReplyStore
from tlfif.contracts import Reply, reply_key_for
from tlfif.delivery import deliver
from tlfif.keys import job as job_key
from tlfif.redis_conn import connect

pytestmark = pytest.mark.anyio

SECRET_BUCKET = "tl-fif-replies-123456789012"  # in AWS the bucket name holds the account id
ARN = "arn:aws:iam::123456789012:role/tl-fif-router"
# What must never be in a body: an address, an AWS account's words, an exception's name.
INTERNAL = re.compile(
    r"127\.0\.0\.1|localhost|:\d{4,5}\b|amazonaws|arn:aws|123456789012|" + SECRET_BUCKET + r"|"
    r"Error\b|Exception|Traceback|botocore|redis://|replies/"
)


def assert_clean(response: httpx.Response) -> None:
    found = INTERNAL.findall(response.text)
    assert not found, f"{response.request.method} {response.request.url.path}: {found}"


async def test_redis_down_says_queue_unavailable_and_no_more(
    token_issuer: TokenIssuerDouble, caplog: pytest.LogCaptureFixture
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    test_redis = connect(closed)
    async with open_router(token_issuer, lambda: connect(closed), test_redis) as router:
        answers = [
            await router.infer({"prompt": "hi"}),
            await router.client.get("/status", headers=router.auth()),
            await router.client.get("/queue-health"),
            # A bad token over a dead Redis: the per-address throttle fails first.
            await router.client.get("/status", headers={"Authorization": "Bearer x"}),
        ]
    await test_redis.aclose()
    for answer in answers:
        assert answer.status_code == 503
        assert_clean(answer)
    assert answers[0].json()["error"]["message"] == "queue unavailable"
    assert any("127.0.0.1" in str(vars(record)) for record in caplog.records)


@pytest.fixture
async def failing_s3_router(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, aws: str
) -> AsyncIterator[RouterHarness]:
    """The real S3 adapter on moto, for a bucket that does not exist."""
    async with router_on(
        redis_server, token_issuer, replies=S3ReplyStore(SECRET_BUCKET, REGION)
    ) as router:
        yield router


async def test_s3_failing_says_reply_store_unavailable(failing_s3_router: RouterHarness) -> None:
    router = failing_s3_router
    job_id = (await router.infer({"prompt": "hi"})).json()["id"]
    # The job is answered (its done signal set), but the reply cannot be read back.
    stored = await router.redis.get(job_key(job_id))
    assert stored is not None
    reply = Reply(id=job_id, status="done")
    await router.queue.signal_done(reply.id)
    answer = await router.result(job_id)
    assert answer.status_code == 503
    assert answer.json()["error"]["message"] == "reply store unavailable"
    assert_clean(answer)


async def test_s3_failing_on_write_through_delivery_names_nothing(
    failing_s3_router: RouterHarness,
) -> None:
    # The adapter's own message names the key (and AWS's words): the log's, not the caller's.
    from tlfif.errors import ReplyStoreError

    router = failing_s3_router
    with pytest.raises(ReplyStoreError) as failed:
        await deliver(
            router.queue, router.replies, "replies/x/y.json", Reply(id="y", status="done")
        )
    assert "replies/x/y.json" in failed.value.message
    assert failed.value.caller_message == "reply store unavailable"


async def test_ec2_refusing_with_an_arn_says_the_node_could_not_be_started(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    refusing = NodeControlDouble(refuse_start=f"UnauthorizedOperation for {ARN}")
    async with router_on(redis_server, token_issuer, node=refusing) as router:
        accepted = await router.infer({"prompt": "hi"})
        status = await router.client.get("/status", headers=router.auth())
    assert accepted.json()["node_error"] == "the node could not be started"
    assert status.json()["start_error"]["message"] == "the node could not be started"
    for answer in (accepted, status):
        assert_clean(answer)


async def test_jwks_unreachable_is_a_401_naming_no_host(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"connection refused to {request.url}", request=request)

    async with router_on(
        redis_server, token_issuer, jwks_transport=httpx.MockTransport(unreachable)
    ) as router:
        answer = await router.client.get("/status", headers=router.auth())
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "the signing keys (JWKS) are unreachable"
    assert "cognito-idp" not in answer.text
    assert_clean(answer)


async def test_the_openai_routes_name_nothing_internal_either(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, aws: str
) -> None:
    """/v1 in OpenAI's shape, with the same fixed words: Redis down, EC2 refusing with an
    ARN, S3 failing, and an engine error whose own words name its address."""
    chat = {"model": "engine-double", "messages": [{"role": "user", "content": "hi"}]}
    quick = router_settings(token_issuer, served_model="engine-double", v1_wait_seconds=0.1)
    answers: list[httpx.Response] = []
    closed = f"redis://127.0.0.1:{free_port()}/0"
    test_redis = connect(closed)
    async with open_router(
        token_issuer, lambda: connect(closed), test_redis, settings=quick
    ) as down:
        answers.append(
            await down.client.post("/v1/chat/completions", json=chat, headers=down.auth())
        )
        answers.append(await down.client.get("/v1/models", headers=down.auth()))
    await test_redis.aclose()
    refusing = NodeControlDouble(refuse_start=f"UnauthorizedOperation for {ARN}")
    async with router_on(redis_server, token_issuer, node=refusing, settings=quick) as router:
        pending = await router.client.post("/v1/chat/completions", json=chat, headers=router.auth())
        assert "the node could not be started" in pending.json()["error"]["message"]
        answers.append(pending)
        # Answered with an error whose words (the engine's own) name its address.
        headers = router.auth() | {"Idempotency-Key": "k"}
        prompt = {"model": "engine-double", "prompt": "x"}
        await router.client.post("/v1/completions", json=prompt, headers=headers)
        words = "engine answered HTTP 500 from http://127.0.0.1:8000/v1: Traceback"
        for job_id in await router.queue.pending_for(sub_of("alice")):
            leaky = Reply(id=job_id, status="error", error_code="engine_error", error=words)
            await deliver(
                router.queue, router.replies, reply_key_for(sub_of("alice"), job_id), leaky
            )
        failed = await router.client.post("/v1/completions", json=prompt, headers=headers)
        assert failed.status_code == 502
        assert failed.json()["error"]["message"] == "the model's engine refused this request"
        answers.append(failed)
    async with router_on(
        redis_server, token_issuer, replies=S3ReplyStore(SECRET_BUCKET, REGION), settings=quick
    ) as router:
        headers = router.auth() | {"Idempotency-Key": "s3"}
        await router.client.post("/v1/chat/completions", json=chat, headers=headers)
        for pending_id in await router.queue.pending_for(sub_of("alice")):
            await router.queue.signal_done(pending_id)
        unreadable = await router.client.post("/v1/chat/completions", json=chat, headers=headers)
        assert unreadable.status_code == 503
        assert unreadable.json()["error"]["message"] == "reply store unavailable"
        answers.append(unreadable)
    for answer in answers:
        assert set(answer.json()["error"]) == {"message", "type", "param", "code"}
        assert_clean(answer)
