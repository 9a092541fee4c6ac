"""router/v1/errors.py: each failure in OpenAI's shape and at the status the official openai
client turns into the exception class a user's code catches."""

from __future__ import annotations

import json

import httpx2
import openai
import pytest
from starlette.requests import Request

from router.errors import on_tlfif_error
from tlfif import errors
from tlfif.errors import TlfifError

CASES = [
    (errors.InvalidInput("temperature: too hot", field="temperature"), openai.BadRequestError),
    (errors.Unsupported("n: one choice", field="n"), openai.BadRequestError),
    (errors.TokenInvalid("expired"), openai.AuthenticationError),
    (errors.Forbidden("only the owner may"), openai.PermissionDeniedError),
    (errors.ModelNotFound("no such model", field="model"), openai.NotFoundError),
    (errors.Throttled("slow down", retry_after=3), openai.RateLimitError),
    (errors.BudgetHold("the budget is reached"), openai.RateLimitError),
    (errors.QueueUnavailable("redis://10.0.0.7:6379 refused"), openai.InternalServerError),
    (errors.ReplyPending("starting", retry_after=40), openai.InternalServerError),
    (errors.ReplyFailed("the engine refused", code="engine_error"), openai.InternalServerError),
]


async def rendered(exc: TlfifError) -> httpx2.Response:
    scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []}
    answer = await on_tlfif_error(Request(scope), exc)
    return httpx2.Response(
        answer.status_code, headers=dict(answer.headers), content=bytes(answer.body)
    )


@pytest.mark.anyio
@pytest.mark.parametrize(("exc", "raised"), CASES, ids=lambda case: type(case).__name__)
async def test_each_failure_is_the_clients_own_exception(
    exc: TlfifError, raised: type[openai.APIStatusError]
) -> None:
    response = await rendered(exc)
    body = json.loads(response.content)
    assert set(body["error"]) == {"message", "type", "param", "code"}
    # Never a host, a bucket or an exception: the public words only.
    assert "10.0.0.7" not in response.text
    client = openai.AsyncOpenAI(
        base_url="http://router.test/v1",
        api_key="token",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(lambda _: response)),
    )
    with pytest.raises(raised) as caught:
        await client.models.list()
    assert caught.value.param == exc.field


@pytest.mark.anyio
async def test_what_a_retry_cannot_change_says_so() -> None:
    held = await rendered(errors.BudgetHold("the budget is reached"))
    assert held.status_code == 429 and held.headers["x-should-retry"] == "false"
    assert json.loads(held.content)["error"]["type"] == "insufficient_quota"
    failed = await rendered(errors.ReplyFailed("refused", code="engine_crashed"))
    assert failed.status_code == 502 and failed.headers["x-should-retry"] == "false"
    assert "retry-after" not in failed.headers
    pending = await rendered(errors.ReplyPending("starting", retry_after=40))
    assert pending.status_code == 503 and pending.headers["x-should-retry"] == "true"
    assert pending.headers["retry-after"] == "40"
