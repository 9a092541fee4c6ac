"""The official `openai` client against `make up`'s stack (router under uvicorn, moto, Redis,
the node agent, a watcher under supervisord; the engine double for speed), from a stopped
node whose boot takes 60 s, with the router's wait at the AWS value (25 s): two clients at
once through the one cold start, one waiting for its answer (the client's own default
retries get it, and the access log shows every try of the one job), one streaming (held
open by keep-alives, then the tokens as they come)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from openai import OpenAI

from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.local_stack import StackRun, start_stack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

BOOT_SECONDS = 60
PROMPT = "one two three"
STREAMED = "one two three four five six seven eight"


@pytest.fixture
def stack(tmp_path: Path, engine_double: RunningEngineDouble) -> Iterator[StackRun]:
    run = start_stack(
        tmp_path,
        {
            "TLFIF_LOCAL_ENGINE_URL": engine_double.url,
            "TLFIF_LOCAL_ENGINE_MODEL": "engine-double",
            "TLFIF_LOCAL_BOOT_DELAY_SECONDS": str(BOOT_SECONDS),
            # TLFIF_ROUTER_V1_WAIT_SECONDS left at its default, 25 s: API Gateway's bound.
            # The estimate the Retry-After counts down: this boot and the watcher's start.
            "TLFIF_ROUTER_COLD_ETA_SECONDS": str(BOOT_SECONDS + 2),
            "TLFIF_ROUTER_WARM_ETA_SECONDS": "1",
        },
    )
    yield run
    run.interrupt()


@pytest.fixture
def client(stack: StackRun) -> Iterator[OpenAI]:
    """The official client, default retries, on the stack's router; closed at the end."""
    url = stack.profile["api_url"] + "/v1"
    with OpenAI(base_url=url, api_key=stack.access_token()) as openai_client:
        yield openai_client


def access_lines(run: StackRun, route: str) -> list[dict[str, object]]:
    lines = (run.tmp / "run" / "router.log").read_text().splitlines()
    parsed = [json.loads(line) for line in lines if '"router.access"' in line]
    return [line for line in parsed if line.get("route") == route]


def stream(client: OpenAI) -> list[tuple[float, str]]:
    """Each non-empty SSE line of a streamed chat completion, with when it arrived."""
    started = time.monotonic()
    arrivals: list[tuple[float, str]] = []
    with client.chat.completions.with_streaming_response.create(
        model="engine-double", messages=[{"role": "user", "content": STREAMED}], stream=True
    ) as response:
        assert response.http_response.status_code == 200
        for line in response.http_response.iter_lines():
            if line:  # events are separated by blank lines
                arrivals.append((time.monotonic() - started, line))
    return arrivals


def test_a_60_s_cold_start_answers_a_waiting_client_by_its_retries_and_a_streaming_one_live(
    stack: StackRun, engine_double: RunningEngineDouble, client: OpenAI
) -> None:
    assert stack.instance_state() == "stopped"
    engine_double.double.token_delay_seconds = 0.15
    model = client.models.list().data[0].id
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        streamed = pool.submit(stream, client)
        answer = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": PROMPT}]
        )
        answered_after = time.monotonic() - started
        arrivals = streamed.result(timeout=60)
    print(f"\nopenai client, default retries: answered {answered_after:.1f} s after sending")

    # The waiting client: its own retries, one job.
    assert answer.choices[0].message.content == PROMPT
    assert answered_after >= BOOT_SECONDS
    tries = [t for t in access_lines(stack, "/v1/chat/completions") if t["status"] == 503]
    assert len(tries) >= 1  # and its 200 below: at least two HTTP attempts
    assert engine_double.double.requests_for(PROMPT) == 1
    listed = stack.aws("s3").list_objects_v2(Bucket="tl-fif-replies")
    keys = [
        item["Key"] for item in listed.get("Contents", []) if item["Key"].startswith("replies/")
    ]
    assert f"replies/{tries[0]['sub']}/{answer.id.removeprefix('chatcmpl-')}.json" in keys
    assert len(keys) == 2  # one reply per job: this one and the stream's

    # The streaming client: held open through the boot, then the tokens spread out.
    comments = [at for at, line in arrivals if line.startswith(":")]
    texts = [
        (at, json.loads(line[6:])["choices"][0]["delta"].get("content") or "")
        for at, line in arrivals
        if line.startswith("data: {") and json.loads(line[6:])["choices"]
    ]
    assert "".join(text for _, text in texts) == STREAMED
    assert arrivals[-1][1] == "data: [DONE]"
    assert len(comments) >= 5  # keep-alives every 10 s while the node booted (60 s)
    content = [at for at, text in texts if text]
    assert content[0] >= BOOT_SECONDS
    assert len(content) > 2 and content[-1] - content[0] > 0.5  # spread out, not one burst
    assert engine_double.double.requests_for(STREAMED) == 1
    # Access lines are written once a response has ended, just after the client's [DONE].
    deadline = time.monotonic() + 5
    statuses: list[object] = []
    while statuses.count(200) < 2 and time.monotonic() < deadline:
        statuses = [t["status"] for t in access_lines(stack, "/v1/chat/completions")]
        time.sleep(0.05)
    assert sorted(statuses, key=str) == sorted([200, 200, *[503] * len(tries)], key=str)
