"""Issue 19 on `make up`'s stack with two node instances (TLFIF_LOCAL_NODES=2: two IMDSs, two
node agents, two watchers under supervisord, one engine double both share at a fixed token
rate): a backlog on one ready node makes the router start the other; a burst one node could
not finish within the other's boot is answered by both; a node killed mid-burst (its
supervisord and watcher, SIGKILL) loses nothing, its in-flight jobs requeued by the reaper
and answered by the other node; then both stop by themselves and the fleet is back at zero.

One stack, and the steps in order in one test: each needs the state the one before left.
Which node answered a job is read from its watcher's own log (`job_answered`, with its node
id and whether this watcher wrote the reply), in the node's run sub-folder.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from local.processes import session_members
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.local_stack import StackRun, running_stack, submit, wait_reply, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

BOOT_SECONDS = 3.0
IDLE_CAP_SECONDS = 10.0
TOKEN_SECONDS = 0.05
CONCURRENCY = 4  # TLFIF_WATCHER_CONCURRENCY: jobs a watcher runs at once
BACKLOG = 2  # TLFIF_SCALE_OUT_BACKLOG: jobs waiting per beating node that start another
MAX_TOKENS = 20  # the double streams one token per word of the prompt, up to this
BURST = 24
HEARTBEAT_SECONDS = 1.0  # its key lapses after 3 of them: the reaper's cue
# supervisord comes back this long after it died (systemd's RestartSec on the node is 5 s):
# long enough that the reaper has handed the dead node's jobs to the other one first.
RESTART_SECONDS = 12.0
# One node alone: the burst in rounds of CONCURRENCY jobs, each MAX_TOKENS tokens long.
ONE_NODE_SECONDS = BURST / CONCURRENCY * MAX_TOKENS * TOKEN_SECONDS


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, engine_double_server: RunningEngineDouble
) -> Iterator[StackRun]:
    engine_double_server.double.reset()
    engine_double_server.double.token_delay_seconds = TOKEN_SECONDS
    with running_stack(
        tmp_path_factory.mktemp("burst-stack"),
        {
            "TLFIF_LOCAL_NODES": "2",
            "TLFIF_LOCAL_ENGINE_URL": engine_double_server.url,
            "TLFIF_LOCAL_ENGINE_MODEL": "engine-double",
            "TLFIF_LOCAL_BOOT_DELAY_SECONDS": str(BOOT_SECONDS),
            "TLFIF_LOCAL_IDLE_CAP_SECONDS": str(IDLE_CAP_SECONDS),
            "TLFIF_LOCAL_WATCHER_RESTART_DELAY_SECONDS": str(RESTART_SECONDS),
            "TLFIF_LOCAL_CHECK_EVERY_SECONDS": "2",
            "TLFIF_SCALE_OUT_BACKLOG": str(BACKLOG),
            "TLFIF_WATCHER_CONCURRENCY": str(CONCURRENCY),
            "TLFIF_WATCHER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            # A burst from one user: past the per-user write limits and pending cap.
            "TLFIF_ROUTER_THROTTLE_WRITE_PER_SECOND": "0",
            "TLFIF_ROUTER_THROTTLE_WRITE_PER_MINUTE": "0",
            "TLFIF_ROUTER_THROTTLE_READ_PER_SECOND": "0",
            "TLFIF_ROUTER_THROTTLE_READ_PER_MINUTE": "0",
            "TLFIF_ROUTER_USER_PENDING_CAP": "0",
        },
    ) as run:
        try:
            yield run
        finally:
            engine_double_server.double.reset()


def prompt(name: str) -> str:
    """A prompt the double answers with MAX_TOKENS tokens (one per word)."""
    return " ".join([name, *(f"w{i}" for i in range(MAX_TOKENS - 1))])


def ready_nodes(api: httpx.Client) -> set[str]:
    return {n["node"] for n in api.get("/status").json()["nodes"] if n["phase"] == "ready"}


def answered_by(stack: StackRun, *, wrote: bool = True) -> dict[str, list[str]]:
    """Job id -> the nodes whose watcher wrote its reply (or, with wrote=False, answered it:
    found it written already too), from every node's watcher.log."""
    found: dict[str, list[str]] = {}
    for log in (stack.tmp / "run").glob("i-*/watcher.log"):
        for line in log.read_text().splitlines():
            if '"job_answered"' not in line:
                continue
            fields: dict[str, Any] = json.loads(line)
            if fields["written"] or not wrote:
                found.setdefault(fields["jobId"], []).append(fields["node"])
    return found


def burst(api: httpx.Client, name: str, pool: ThreadPoolExecutor) -> list[str]:
    return list(pool.map(lambda i: submit(api, prompt(f"{name}{i}"), MAX_TOKENS), range(BURST)))


def wait_all(api: httpx.Client, ids: list[str], pool: ThreadPoolExecutor) -> list[dict[str, Any]]:
    return list(pool.map(lambda job_id: wait_reply(api, job_id, timeout=90), ids))


def kill_node(stack: StackRun, node: str) -> None:
    """SIGKILL every process of the node (supervisord and the watcher under it), as a crash."""
    pid = int((stack.tmp / "run" / node / "node" / "supervisord.pid").read_text())
    for member in [pid, *session_members(pid)]:
        os.kill(member, signal.SIGKILL)


def test_two_nodes_share_a_burst_lose_nothing_to_a_kill_and_stop_when_idle(
    stack: StackRun,
) -> None:
    nodes = sorted(stack.instance_states())
    assert len(nodes) == 2 and set(stack.instance_states().values()) == {"stopped"}
    # The burst is one that one node alone could not finish within the other's boot.
    assert ONE_NODE_SECONDS > BOOT_SECONDS
    with stack.api() as api, ThreadPoolExecutor(BURST) as pool:
        # 1. A cold start of one node, then a backlog on it: the router starts the other.
        wait_reply(api, submit(api, prompt("first"), MAX_TOKENS), timeout=60)
        assert stack.instance_states()[nodes[1]] == "stopped"
        backlog = [submit(api, prompt(f"backlog{i}"), MAX_TOKENS) for i in range(10)]
        wait_until(lambda: ready_nodes(api) == set(nodes), 40, "both nodes ready")
        wait_all(api, backlog, pool)

        # 2. The burst, on both.
        began = time.monotonic()
        first = burst(api, "burst", pool)
        replies = wait_all(api, first, pool)
        took = time.monotonic() - began
        print(
            f"\nburst of {BURST} jobs on 2 nodes: {took:.2f} s, {BURST / took:.1f} jobs/s "
            f"(one node alone: at least {ONE_NODE_SECONDS:.1f} s)"
        )
        assert all(reply["status"] == "done" for reply in replies)
        by = answered_by(stack)
        assert all(len(by[job_id]) == 1 for job_id in first)
        shares = {node: sum(by[job_id] == [node] for job_id in first) for node in nodes}
        print(f"answered by each node: {shares}")
        assert all(shares.values()), shares

        # 3. A second burst; the first node is killed while it runs some of it.
        inflight = f"{{tlfif}}:inflight:{nodes[0]}"
        with stack.redis() as redis:
            second = burst(api, "again", pool)
            wait_until(lambda: redis.llen(inflight) >= 2, 20, "jobs in flight on the first")
            kill_node(stack, nodes[0])
            time.sleep(0.2)  # a command the watcher sent just before is served by then
            lost = list(redis.lrange(inflight, 0, -1))
            replies = wait_all(api, second, pool)
        assert lost and set(lost) <= set(second)
        assert all(reply["status"] == "done" for reply in replies)
        for job_id, reply in zip(second, replies, strict=True):
            assert stack.stored_replies(job_id) == [reply]  # exactly one reply, written once
        # The other node ran each again (had the dead one written a reply just before its
        # end, the other found it written: still one reply).
        by = answered_by(stack, wrote=False)
        assert all(nodes[1] in by[job_id] for job_id in lost), {j: by.get(j) for j in lost}
        print(f"killed {nodes[0]} with {len(lost)} jobs in flight; the other answered them")
        stack.wait_line(rf"node {nodes[0]}: supervisord died by SIGKILL", timeout=10)

        # 4. Both idle out by themselves (the killed one once its watcher is back): zero.
        wait_until(
            lambda: set(stack.instance_states().values()) == {"stopped"},
            RESTART_SECONDS + IDLE_CAP_SECONDS + 40,
            "both nodes stopped",
        )
        assert api.get("/status").json()["queue_depth"] == 0
    for node in nodes:
        stack.wait_line(rf"node {node}: stopped: watcher stopped", timeout=15)
