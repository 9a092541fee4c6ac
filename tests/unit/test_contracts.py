"""The wire formats: the 6144-byte cap in UTF-8 bytes, prompt shorthand, idle range."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tlfif.contracts import MAX_CONTENT_BYTES, InferRequest, Job, Message
from tlfif.keys import is_job_id


def test_prompt_is_shorthand_for_one_user_message() -> None:
    request = InferRequest(prompt="hi")
    assert request.chat() == [Message(role="user", content="hi")]
    job = Job.from_request(request, "alice")
    assert is_job_id(job.id)
    assert job.reply_key == f"replies/alice/{job.id}.json"
    assert job.idle == 5 and job.params.max_tokens == 256


def test_cap_counts_utf8_bytes_not_characters() -> None:
    InferRequest(prompt="a" * MAX_CONTENT_BYTES)
    with pytest.raises(ValidationError, match="6145 UTF-8 bytes"):
        InferRequest(prompt="a" * (MAX_CONTENT_BYTES + 1))
    euro = "\u20ac"  # three bytes in UTF-8
    InferRequest(prompt=euro * (MAX_CONTENT_BYTES // 3))
    with pytest.raises(ValidationError):
        InferRequest(prompt=euro * (MAX_CONTENT_BYTES // 3) + "a")


def test_cap_applies_to_the_whole_conversation() -> None:
    half = "b" * (MAX_CONTENT_BYTES // 2)
    messages = [{"role": "user", "content": half}, {"role": "assistant", "content": half}]
    InferRequest.model_validate({"messages": messages})
    messages.append({"role": "user", "content": "c"})
    with pytest.raises(ValidationError):
        InferRequest.model_validate({"messages": messages})


@pytest.mark.parametrize("idle", [0, 31])
def test_idle_outside_1_to_30_is_refused(idle: int) -> None:
    with pytest.raises(ValidationError) as info:
        InferRequest(prompt="x", idle=idle)
    assert info.value.errors()[0]["loc"] == ("idle",)


@pytest.mark.parametrize(
    "body",
    [{}, {"prompt": "x", "messages": [{"role": "user", "content": "y"}]}, {"prompt": "  "},
     {"messages": []}, {"prompt": 3}, {"prompt": "x", "colour": "red"}],
)  # fmt: skip
def test_bad_bodies_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        InferRequest.model_validate(body)
