"""The queue on real redis-server: Redis 7, Redis 6.2 and cluster mode, all with a password."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.fixtures.redis_servers import TEST_BLOCK_SECONDS, RedisServer
from tlfif import keys
from tlfif.contracts import InferRequest, Job
from tlfif.errors import BudgetHold, QueueUnavailable
from tlfif.nodes import NodeRegistry
from tlfif.queue import Claim, JobQueue
from tlfif.redis_conn import RedisClient, connect

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(any_redis: RedisServer) -> AsyncIterator[RedisClient]:
    redis = connect(any_redis.url, cluster=any_redis.cluster, blocking_seconds=TEST_BLOCK_SECONDS)
    yield redis
    await redis.aclose()


def make_job(sub: str = "alice", prompt: str = "hello") -> Job:
    return Job.from_request(InferRequest(prompt=prompt), sub)


async def test_enqueue_writes_job_with_ttl_owner_and_pending(client: RedisClient) -> None:
    queue = JobQueue(client, job_ttl_seconds=300)
    job = make_job()
    result = await queue.enqueue(job)
    assert result.id == job.id and result.created
    assert 295 <= await client.ttl(keys.job(job.id)) <= 300
    stored = await client.get(keys.job(job.id))
    assert stored is not None and Job.model_validate_json(stored) == job
    owner = await queue.owner(job.id)
    assert owner is not None and owner.sub == "alice" and owner.reply_key == job.reply_key
    assert await queue.depth() == 1
    assert await queue.state(job.id) == "queued"
    assert await queue.pending_for("alice") == [job.id]


async def test_enqueue_refuses_keys_not_of_job_uuid4_shape(client: RedisClient) -> None:
    queue = JobQueue(client)
    bad = make_job().model_copy(update={"id": "not-a-uuid"})
    with pytest.raises(QueueUnavailable, match="bad job key"):
        await queue.enqueue(bad)
    upper = make_job()
    upper = upper.model_copy(update={"id": upper.id.upper()})
    with pytest.raises(QueueUnavailable, match="bad job key"):
        await queue.enqueue(upper)
    assert await queue.depth() == 0


async def test_same_idempotency_key_twice_gives_one_job(client: RedisClient) -> None:
    queue = JobQueue(client)
    first = await queue.enqueue(make_job(), idempotency_key="k-1")
    again = await queue.enqueue(make_job(), idempotency_key="k-1")
    other_user = await queue.enqueue(make_job(sub="bob"), idempotency_key="k-1")
    assert again.id == first.id and not again.created
    assert other_user.id != first.id and other_user.created
    assert await queue.depth() == 2


async def test_claim_is_fifo_and_ack_forgets(client: RedisClient) -> None:
    queue = JobQueue(client)
    await NodeRegistry(client).beat("node-a", "ready", ttl_seconds=30)
    jobs = [make_job(prompt=f"p{i}") for i in range(3)]
    for job in jobs:
        await queue.enqueue(job)
    assert await queue.state(jobs[0].id) == "queued"
    claimed = [await queue.claim_next("node-a", timeout=1) for _ in jobs]
    assert claimed == [job.id for job in jobs]
    assert await queue.state(jobs[0].id) == "running"
    loaded = await queue.load_claimed("node-a", jobs[0].id)
    assert loaded == jobs[0]
    # Held while in flight: the 300 s purge is for jobs nobody took.
    assert await client.ttl(keys.job(jobs[0].id)) > 300
    await queue.finish("node-a", jobs[0].id, "alice")
    assert await client.lrange(keys.inflight("node-a"), 0, -1) == [jobs[2].id, jobs[1].id]
    assert await queue.state(jobs[0].id) == "done"
    assert jobs[0].id not in await queue.pending_for("alice")


async def test_claim_times_out_empty(client: RedisClient) -> None:
    assert await JobQueue(client).claim_next("node-a", timeout=0.2) is None


async def test_expired_job_reads_as_gone_but_keeps_its_owner(client: RedisClient) -> None:
    queue = JobQueue(client)
    job = make_job()
    await queue.enqueue(job)
    await client.delete(keys.job(job.id))  # what the TTL does after 300 s
    assert await queue.state(job.id) == "gone"
    assert await queue.owner(job.id) is not None
    claimed = await queue.claim_next("node-a", timeout=1)
    assert claimed == job.id and await queue.load_claimed("node-a", job.id) == "expired"


async def test_claim_with_a_backlog_takes_and_reads_in_one_script(client: RedisClient) -> None:
    """With jobs waiting, claim() moves and reads the oldest in one round trip, dropping
    answered copies (their tombstone) on the way; an expired one comes back "expired"."""
    queue = JobQueue(client)
    answered, expired, live = make_job(prompt="a"), make_job(prompt="e"), make_job(prompt="l")
    for job in (answered, expired, live):
        await queue.enqueue(job)
    await client.rpush(keys.done(answered.id), "1")  # answered elsewhere: its tombstone
    await client.delete(keys.job(expired.id))  # what the TTL does after 300 s
    assert await queue.claim("node-a", timeout=1) == Claim(expired.id, "expired")
    assert await queue.claim("node-a", timeout=1) == Claim(live.id, live)
    assert await client.lrange(keys.inflight("node-a"), 0, -1) == [live.id, expired.id]
    assert await client.exists(keys.job(answered.id)) == 0
    assert await client.ttl(keys.job(live.id)) > 300  # held while in flight


async def test_claim_on_an_empty_queue_waits_and_leaves_the_body(client: RedisClient) -> None:
    queue = JobQueue(client)
    job = make_job()
    claiming = asyncio.create_task(queue.claim("node-a", timeout=3))
    await asyncio.sleep(0.2)
    await queue.enqueue(job)
    assert await asyncio.wait_for(claiming, timeout=3) == Claim(job.id)
    assert await queue.load_claimed("node-a", job.id) == job
    assert await queue.claim("node-a", timeout=0.2) is None


async def test_a_copy_of_an_answered_job_is_skipped_at_claim(client: RedisClient) -> None:
    """A job requeued while its first node still finished it: the done signal is the
    tombstone the claim checks, so the copy is dropped without a scan of the pending list."""
    queue, registry = JobQueue(client), NodeRegistry(client)
    job = make_job()
    await queue.enqueue(job)
    await registry.beat("slow", "ready", ttl_seconds=0.2)
    assert await queue.claim_next("slow", timeout=1) == job.id
    await asyncio.sleep(0.4)
    assert await queue.requeue_orphans() == {"slow": 1}  # its heartbeat lapsed
    await queue.finish("slow", job.id, job.sub)  # ...but it answered after all
    assert await client.lrange(keys.PENDING, 0, -1) == [job.id]  # no scan on this path
    assert await queue.claim_next("fast", timeout=1) == job.id
    assert await queue.load_claimed("fast", job.id) == "answered"
    assert await client.llen(keys.inflight("fast")) == 0
    assert await queue.depth() == 0


async def test_finishing_signals_every_waiter_and_forgets_the_job(client: RedisClient) -> None:
    queue = JobQueue(client)
    job = make_job()
    await queue.enqueue(job)
    assert await queue.claim_next("node-a", timeout=1) == job.id
    waiter = asyncio.create_task(queue.wait_done(job.id, timeout=5))
    await asyncio.sleep(0.2)
    await queue.finish("node-a", job.id, job.sub)
    assert await asyncio.wait_for(waiter, timeout=3)
    assert not await client.exists(keys.job(job.id), keys.inflight("node-a"))
    assert await queue.pending_for(job.sub) == []
    assert await client.ttl(keys.done(job.id)) > 3600


async def test_every_waiter_wakes_on_done(client: RedisClient, any_redis: RedisServer) -> None:
    queue = JobQueue(client)
    job = make_job()
    await queue.enqueue(job)
    # Each waiter blocks on its own connection, as separate router requests would.
    others = [
        connect(any_redis.url, cluster=any_redis.cluster, blocking_seconds=TEST_BLOCK_SECONDS)
        for _ in range(3)
    ]
    waiters = [asyncio.create_task(JobQueue(c).wait_done(job.id, timeout=5)) for c in others]
    await asyncio.sleep(0.3)
    assert not any(w.done() for w in waiters)
    await queue.signal_done(job.id)
    assert await asyncio.wait_for(asyncio.gather(*waiters), timeout=3) == [True, True, True]
    # A waiter arriving after the signal returns at once.
    assert await queue.wait_done(job.id, timeout=5)
    for other in others:
        await other.aclose()


async def test_wait_done_times_out(client: RedisClient) -> None:
    assert not await JobQueue(client).wait_done(make_job().id, timeout=0.2)


async def test_reclaim_and_requeue_orphans(client: RedisClient) -> None:
    queue, registry = JobQueue(client), NodeRegistry(client)
    first, second = make_job(prompt="a"), make_job(prompt="b")
    await queue.enqueue(first)
    await queue.enqueue(second)
    await registry.beat("dead", "ready", ttl_seconds=0.2)
    await registry.beat("alive", "ready", ttl_seconds=30)
    assert await queue.claim_next("dead", timeout=1) == first.id
    assert await queue.claim_next("alive", timeout=1) == second.id
    await asyncio.sleep(0.4)  # the dead node's heartbeat lapses
    assert await queue.requeue_orphans() == {"dead": 1}
    assert await queue.claim_next("alive", timeout=1) == first.id
    # The node itself reclaims its own list at start, heartbeat or not.
    assert await queue.reclaim("alive") == 2
    assert await queue.depth() == 2


async def test_stop_script_refuses_while_work_waits(client: RedisClient) -> None:
    queue, registry = JobQueue(client), NodeRegistry(client)
    await registry.beat("n1", "ready", ttl_seconds=30)
    job = make_job()
    await queue.enqueue(job)
    assert not await registry.try_mark_stopping("n1", ttl_seconds=30)
    await queue.claim_next("n1", timeout=1)
    assert not await registry.try_mark_stopping("n1", ttl_seconds=30)  # in flight
    await queue.ack("n1", job.id, job.sub)
    assert await registry.try_mark_stopping("n1", ttl_seconds=30)
    assert [b.state for b in await registry.heartbeats()] == ["stopping"]


async def test_user_pending_cap(client: RedisClient) -> None:
    from tlfif.errors import Throttled

    queue = JobQueue(client, user_pending_cap=2)
    await queue.enqueue(make_job())
    await queue.enqueue(make_job())
    with pytest.raises(Throttled):
        await queue.enqueue(make_job())
    await queue.enqueue(make_job(sub="bob"))


async def test_a_blocking_wait_longer_than_a_commands_timeout_uses_its_own_client(
    redis_server: RedisServer,
) -> None:
    # Commands give up within 5 s; a long poll blocks longer, on a client that may.
    client = connect(redis_server.url)
    blocking = connect(redis_server.url, blocking_seconds=6)
    started = time.monotonic()
    assert not await JobQueue(client, blocking=blocking).wait_done(make_job().id, timeout=6)
    assert time.monotonic() - started >= 5.9
    await client.aclose()
    await blocking.aclose()


def test_clients_carry_their_timeouts_and_retries_explicitly() -> None:
    """Redis.from_url sets none of these itself: read them off the pools."""
    client = connect("redis://127.0.0.1:1/0")
    assert isinstance(client, Redis)
    command = client.connection_pool.connection_kwargs
    assert command["socket_timeout"] == 1.5 and command["socket_connect_timeout"] == 1.5
    assert command["retry"].get_retries() == 2 and command["health_check_interval"] == 10
    assert {e.__name__ for e in command["retry_on_error"]} == {"ConnectionError", "TimeoutError"}
    # Every try's timeout and every pause of the backoff: within the 5 s a command may take.
    retry = command["retry"]
    tries = retry.get_retries() + 1
    pauses = sum(retry._backoff.compute(n) for n in range(1, tries))
    assert tries * command["socket_timeout"] + pauses <= 5
    blocking = connect("redis://127.0.0.1:1/0", blocking_seconds=25)
    assert isinstance(blocking, Redis)
    assert blocking.connection_pool.connection_kwargs["socket_timeout"] == 26.5
    assert blocking.connection_pool.connection_kwargs["retry"].get_retries() == 0


async def test_a_claim_whose_answer_was_lost_goes_back_to_the_queue(
    client: RedisClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis ran a BLMOVE after the watcher gave up on it (a freeze): the id sits in the
    node's in-flight list and no slot holds it. Two sweeps later it runs next."""
    from watcher import strays

    monkeypatch.setattr(strays, "SWEEP_GAP_SECONDS", 0.0)
    queue = JobQueue(client)
    lost, held = make_job(prompt="lost"), make_job(prompt="held")
    await queue.enqueue(lost)
    await queue.enqueue(held)
    assert await queue.claim_next("node-a", timeout=1) == lost.id  # its answer "lost"
    assert await queue.claim_next("node-a", timeout=1) == held.id
    sweeper = strays.StrayClaims("node-a", queue)
    sweeper.hold(held.id)
    assert await sweeper.sweep() == 0  # nothing failed: no sweep at all
    sweeper.claim_failed()
    assert await sweeper.sweep() == 0  # seen once: it may be a claim just returning
    assert await sweeper.sweep() == 1
    assert await client.lrange(keys.PENDING, 0, -1) == [lost.id]
    assert await queue.in_flight("node-a") == [held.id]
    assert await sweeper.sweep() == 0


async def test_a_lost_claim_that_lands_after_the_first_sweep_still_goes_back(
    client: RedisClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stale move may run after the first sweep following the failure found the list
    clean (the chaos suite caught one): the sweeps go on for WATCH_SECONDS all the same."""
    from watcher import strays

    monkeypatch.setattr(strays, "SWEEP_GAP_SECONDS", 0.0)
    queue = JobQueue(client)
    late = make_job(prompt="late")
    await queue.enqueue(late)
    sweeper = strays.StrayClaims("node-a", queue)
    sweeper.claim_failed()
    assert await sweeper.sweep() == 0  # Redis answers again: the list is clean so far
    assert await queue.claim_next("node-a", timeout=1) == late.id  # ... then the move lands
    assert await sweeper.sweep() == 0  # seen once
    assert await sweeper.sweep() == 1
    assert await client.lrange(keys.PENDING, 0, -1) == [late.id]
    monkeypatch.setattr(strays, "WATCH_SECONDS", 0.0)
    sweeper.claim_failed()
    assert await sweeper.sweep() == 0
    await queue.claim_next("node-a", timeout=1)
    assert await sweeper.sweep() == 0  # the watch is over: no sweep at all
    assert await queue.in_flight("node-a") == [late.id]


async def test_under_the_budget_hold_nothing_is_queued(client: RedisClient) -> None:
    queue = JobQueue(client)
    first = await queue.enqueue(make_job())
    assert first.depth == 1
    await NodeRegistry(client).set_hold("budget")
    with pytest.raises(BudgetHold):
        await queue.enqueue(make_job())
    assert await queue.depth() == 1 and await client.zcard(keys.user_pending("alice")) == 1


async def test_a_cancel_says_where_the_job_is_and_marks_only_what_is_unanswered(
    client: RedisClient,
) -> None:
    queue, registry = JobQueue(client), NodeRegistry(client)
    queued, running, answered, gone = make_job(), make_job(), make_job(), make_job()
    for job in (queued, running, answered, gone):
        await queue.enqueue(job)
    await registry.beat("node-a", "ready", ttl_seconds=30)
    # The oldest two go to the node: `running` and `answered` (pending is consumed FIFO).
    await client.delete(keys.PENDING)
    await client.lpush(keys.inflight("node-a"), running.id, answered.id)
    await queue.finish("node-a", answered.id, answered.sub)
    await client.delete(keys.job(gone.id))
    assert await queue.cancel(queued.id) == "queued"
    assert await queue.cancel(running.id) == "running"
    assert await queue.cancel(answered.id) == "done"
    assert await queue.cancel(gone.id) == "gone"
    marked = [await queue.cancel_asked(job.id) for job in (queued, running, answered, gone)]
    assert marked == [True, True, False, False]


async def test_a_job_cancelled_while_queued_is_claimed_as_cancelled_never_run(
    client: RedisClient,
) -> None:
    """Both claim paths (take.lua with a backlog, BLMOVE then claim.lua) read the mark."""
    queue = JobQueue(client)
    first, second, plain = make_job(), make_job(), make_job()
    for job in (first, second, plain):
        await queue.enqueue(job)
    await queue.cancel(first.id)
    await queue.cancel(second.id)
    assert await queue.claim("node-a", timeout=1) == Claim(first.id, "cancelled")
    assert await queue.claim_next("node-a", timeout=1) == second.id
    assert await queue.load_claimed("node-a", second.id) == "cancelled"
    taken = await queue.claim("node-a", timeout=1)
    assert taken is not None and taken.job == plain


async def test_a_job_answered_while_queued_is_dropped_at_claim_by_its_tombstone(
    client: RedisClient,
) -> None:
    queue = JobQueue(client)
    cancelled, next_one = make_job(), make_job()
    await queue.enqueue(cancelled)
    await queue.enqueue(next_one)
    await queue.retire(cancelled.id, cancelled.sub)
    assert await client.lrange(keys.PENDING, 0, -1) == [next_one.id, cancelled.id]  # no scan
    assert await queue.pending_for(cancelled.sub) == [next_one.id]
    taken = await queue.claim("node-a", timeout=1)
    assert taken is not None and taken.job == next_one
    assert await client.lrange(keys.inflight("node-a"), 0, -1) == [next_one.id]
