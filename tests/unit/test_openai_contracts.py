"""The /v1 bodies: unknown fields ignored, unsupported ones refused naming them, OpenAI's
parameters mapped onto ours, and a Reply shaped as OpenAI shapes a completion."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tlfif.contracts import MAX_CONTENT_BYTES, Reply, Usage, invalid_input
from tlfif.errors import InvalidInput, Unsupported
from tlfif.openai_contracts import (
    ChatCompletion,
    ChatCompletionRequest,
    CompletionRequest,
    TextCompletion,
)

CHAT: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
PROMPT: dict[str, Any] = {"model": "m", "prompt": "hi"}
IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}


def refusal(kind: type[ChatCompletionRequest | CompletionRequest], body: dict[str, Any]) -> Any:
    """The InvalidInput the router answers for `body` (its 400)."""
    try:
        request = kind.model_validate(body)
        request.infer_request(body)
    except ValidationError as exc:
        return invalid_input(exc, body)
    except InvalidInput as exc:
        return exc
    raise AssertionError(f"{body} was accepted")


def test_unknown_fields_are_ignored_on_v1() -> None:
    extra = {"frobnicate": 1, "user": "u-1", "metadata": {"a": "b"}, "store": False}
    asked = ChatCompletionRequest.model_validate(CHAT | extra)
    assert asked.infer_request(CHAT | extra).chat()[0].content == "hi"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 2}, "n"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"seed": 7}, "seed"),
        ({"messages": [{"role": "user", "content": [IMAGE]}]}, "messages.0.content"),
        ({"messages": [{"role": "tool", "content": "42"}]}, "messages.0.role"),
        (
            {"messages": [{"role": "assistant", "tool_calls": [{"id": "c"}], "content": None}]},
            "messages.0.tool_calls",
        ),
    ],
)
def test_what_is_not_built_is_refused_naming_the_param(extra: dict[str, Any], param: str) -> None:
    refused = refusal(ChatCompletionRequest, CHAT | extra)
    assert isinstance(refused, Unsupported) and refused.field == param


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"echo": True}, "echo"),
        ({"suffix": "end"}, "suffix"),
        ({"best_of": 3}, "best_of"),
        ({"logprobs": 1}, "logprobs"),
        ({"prompt": ["one", "two"]}, "prompt"),
        ({"prompt": [1, 2, 3]}, "prompt"),
    ],
)
def test_completions_refuse_what_is_not_built(extra: dict[str, Any], param: str) -> None:
    refused = refusal(CompletionRequest, PROMPT | extra)
    assert isinstance(refused, Unsupported) and refused.field == param


def test_what_asks_for_nothing_passes() -> None:
    defaults = {"n": 1, "stream": False, "tools": [], "tool_choice": "none", "logprobs": False,
                "response_format": {"type": "text"}, "presence_penalty": 0, "logit_bias": {},
                "seed": None, "modalities": ["text"]}  # fmt: skip
    ChatCompletionRequest.model_validate(CHAT | defaults).infer_request(CHAT | defaults)


def test_bad_values_are_invalid_input_naming_the_field() -> None:
    for body, field in (
        (CHAT | {"temperature": 3}, "temperature"),
        (CHAT | {"max_tokens": 0}, "max_tokens"),
        (CHAT | {"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"messages": CHAT["messages"]}, "model"),
        (
            CHAT | {"messages": [{"role": "user", "content": "x" * (MAX_CONTENT_BYTES + 1)}]},
            "messages",
        ),
        (PROMPT | {"prompt": "x" * (MAX_CONTENT_BYTES + 1)}, "prompt"),
    ):
        kind = CompletionRequest if "prompt" in body else ChatCompletionRequest
        refused = refusal(kind, body)
        assert type(refused) is InvalidInput and refused.field == field, body


def test_openai_params_map_onto_ours() -> None:
    body = CHAT | {
        "messages": [
            {"role": "developer", "content": "be brief", "name": "ops"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "one "}, {"type": "text", "text": "two"}],
            },
        ],
        "max_tokens": 10,
        "max_completion_tokens": 20,
        "temperature": 0.1,
        "top_p": 0.9,
        "stop": "END",
        "idle": 12,
    }
    ours = ChatCompletionRequest.model_validate(body).infer_request(body)
    assert [(m.role, m.content) for m in ours.chat()] == [
        ("system", "be brief"),
        ("user", "one two"),
    ]
    params = ours.params()
    assert (params.max_tokens, params.temperature, params.top_p) == (20, 0.1, 0.9)
    assert params.stop == ["END"] and ours.idle == 12


def test_a_completion_prompt_is_one_user_message_with_openais_default_length() -> None:
    ours = CompletionRequest.model_validate(PROMPT | {"prompt": ["hi"]}).infer_request(PROMPT)
    assert [(m.role, m.content) for m in ours.chat()] == [("user", "hi")]
    assert ours.params().max_tokens == 16


def test_a_reply_is_shaped_as_openai_shapes_a_completion() -> None:
    job_id = "6f1c1d4e-8d1a-4f3e-9a51-0c2b1e7e4b11"
    reply = Reply(
        id=job_id, status="done", text="hello", model="tiny", finish_reason="length",
        usage=Usage(prompt_tokens=4, completion_tokens=2),
    )  # fmt: skip
    chat = ChatCompletion.of(reply, created=1700000000, model="served").model_dump(mode="json")
    assert chat == {
        "id": f"chatcmpl-{job_id}",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "tiny",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hello", "refusal": None},
                "finish_reason": "length",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6},
        "system_fingerprint": None,
    }
    # An engine's own finish word (vLLM's "abort") is not one OpenAI's clients know.
    odd = reply.model_copy(update={"finish_reason": "abort", "model": None})
    text = TextCompletion.of(odd, created=1, model="served")
    assert text.id == f"cmpl-{job_id}" and text.model == "served"
    assert text.choices[0].text == "hello" and text.choices[0].finish_reason == "stop"
