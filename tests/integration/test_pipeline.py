"""The whole pipeline in processes, from a stopped instance: router (uvicorn) -> Redis ->
watcher process under supervisord -> S3 (moto) -> GET /result?wait.

The local stack of `make up` with an OpenAI-compatible engine double in place of the real
model, so the run takes seconds; tests/e2e runs the same with the real model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.local_stack import StackRun, start_stack, wait_until


@pytest.fixture
def stack(tmp_path: Path, engine_double: RunningEngineDouble) -> Iterator[StackRun]:
    engine_double.double.token_delay_seconds = 0.01
    run = start_stack(tmp_path, {"TLFIF_LOCAL_ENGINE_URL": engine_double.url})
    yield run
    run.interrupt()


def test_prompt_from_a_stopped_instance_to_reply_in_s3(
    stack: StackRun, engine_double: RunningEngineDouble
) -> None:
    assert stack.instance_state() == "stopped"
    with stack.api() as api:
        accepted = api.post("/infer", json={"prompt": "one two three", "max_tokens": 8})
        assert accepted.status_code == 202, accepted.text
        body = accepted.json()
        assert body["status"] == "starting"
        assert stack.instance_state() in ("pending", "running")

        answer = api.get(f"/result/{body['id']}", params={"wait": 20})
        while answer.status_code == 202:
            assert answer.json()["node"] in ("starting", "booting", "loading", "ready")
            answer = api.get(f"/result/{body['id']}", params={"wait": 20})

    assert answer.status_code == 200, answer.text
    reply = answer.json()
    assert reply["status"] == "done" and reply["text"].split() == ["one", "two", "three"]
    assert reply["usage"]["completion_tokens"] == 3
    # The reply the client read is the object the watcher wrote to S3.
    listed = stack.aws("s3").list_objects_v2(Bucket="tl-fif-replies")
    keys = [
        item["Key"] for item in listed.get("Contents", []) if item["Key"].startswith("replies/")
    ]
    assert len(keys) == 1 and keys[0].endswith(f"/{body['id']}.json"), keys
    stored = stack.aws("s3").get_object(Bucket="tl-fif-replies", Key=keys[0])["Body"].read()
    assert json.loads(stored) == reply
    assert engine_double.double.requests_for("one two three") == 1
    # Idle (the stack's 4 s cap): the watcher stops its own instance through IMDSv2.
    wait_until(lambda: stack.instance_state() == "stopped", 60, "the idle self-stop")
