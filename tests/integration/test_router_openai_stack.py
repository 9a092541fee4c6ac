"""The official `openai` client against `make up`'s stack (router under uvicorn, moto, Redis,
the node agent, a watcher under supervisord; the engine double for speed), from a stopped
node whose boot outlasts the router's wait: the client's own default retries get the
answer, and the access log shows every try of the one job."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.local_stack import StackRun, start_stack

PROMPT = "one two three"


@pytest.fixture
def stack(tmp_path: Path, engine_double: RunningEngineDouble) -> Iterator[StackRun]:
    run = start_stack(
        tmp_path,
        {
            "TLFIF_LOCAL_ENGINE_URL": engine_double.url,
            "TLFIF_LOCAL_ENGINE_MODEL": "engine-double",
            # A boot longer than the wait, and the estimate the Retry-After counts down.
            "TLFIF_LOCAL_BOOT_DELAY_SECONDS": "5",
            "TLFIF_ROUTER_V1_WAIT_SECONDS": "2",
            "TLFIF_ROUTER_COLD_ETA_SECONDS": "6",
            "TLFIF_ROUTER_WARM_ETA_SECONDS": "1",
            "TLFIF_ROUTER_V1_KEEP_ALIVE_SECONDS": "1",
        },
    )
    yield run
    run.interrupt()


@pytest.fixture
def client(stack: StackRun) -> Iterator[OpenAI]:
    """The official client on the stack's router, closed (its connections too) at the end."""
    url = stack.profile["api_url"] + "/v1"
    with OpenAI(base_url=url, api_key=stack.access_token()) as openai_client:
        yield openai_client


def access_lines(run: StackRun, route: str) -> list[dict[str, object]]:
    lines = (run.tmp / "run" / "router.log").read_text().splitlines()
    parsed = [json.loads(line) for line in lines if '"router.access"' in line]
    return [line for line in parsed if line.get("route") == route]


@pytest.mark.slow
def test_a_cold_start_through_the_openai_client_is_one_job_and_several_tries(
    stack: StackRun, engine_double: RunningEngineDouble, client: OpenAI
) -> None:
    assert stack.instance_state() == "stopped"
    model = client.models.list().data[0].id
    answer = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": PROMPT}]
    )
    assert answer.choices[0].message.content == PROMPT
    tries = access_lines(stack, "/v1/chat/completions")
    assert len(tries) >= 2 and [t["status"] for t in tries][-1] == 200
    assert all(t["status"] == 503 for t in tries[:-1])
    # One job: one prompt reached the engine, one reply landed in S3.
    assert engine_double.double.requests_for(PROMPT) == 1
    listed = stack.aws("s3").list_objects_v2(Bucket="tl-fif-replies")
    assert [item["Key"] for item in listed.get("Contents", [])] == [
        f"replies/{tries[0]['sub']}/{answer.id.removeprefix('chatcmpl-')}.json"
    ]


@pytest.mark.slow
def test_a_stream_stays_open_through_the_cold_start_and_sends_tokens_as_they_come(
    stack: StackRun, engine_double: RunningEngineDouble, client: OpenAI
) -> None:
    """Under uvicorn the same ASGI app streams for real: keep-alive comments while the node
    boots (longer than the unstreamed wait), then the tokens one batch at a time."""
    engine_double.double.token_delay_seconds = 0.15
    said = "one two three four five six seven eight"
    started = time.monotonic()
    arrivals: list[tuple[float, str]] = []
    with client.chat.completions.with_streaming_response.create(
        model="engine-double", messages=[{"role": "user", "content": said}], stream=True
    ) as response:
        assert response.http_response.status_code == 200
        for line in response.http_response.iter_lines():
            if line:  # events are separated by blank lines
                arrivals.append((time.monotonic() - started, line))
    comments = [at for at, line in arrivals if line.startswith(":")]
    texts = [
        (at, json.loads(line[6:])["choices"][0]["delta"].get("content") or "")
        for at, line in arrivals
        if line.startswith("data: {") and json.loads(line[6:])["choices"]
    ]
    assert "".join(text for _, text in texts) == said
    assert arrivals[-1][1] == "data: [DONE]"
    assert len(comments) >= 3  # held open by keep-alives while the node booted (5 s)
    content = [at for at, text in texts if text]
    assert len(content) > 2 and content[-1] - content[0] > 0.5  # spread out, not one burst
    # The access line is written once the response has ended, just after the client's [DONE].
    deadline = time.monotonic() + 5
    while not access_lines(stack, "/v1/chat/completions") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [t["status"] for t in access_lines(stack, "/v1/chat/completions")] == [200]
