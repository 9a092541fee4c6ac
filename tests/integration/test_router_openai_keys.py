"""The official `openai` client with an API key (ADR 0027), unchanged but for base_url and
api_key: answered with a key the owner made, then AuthenticationError once it is revoked.
The harness is test_router_openai.py's: a real WatcherNode on the engine double."""

from __future__ import annotations

import httpx2
import openai
import pytest
from openai import AsyncOpenAI

from tests.doubles.token_issuer import sub_of
from tests.fixtures.router_app import RouterHarness
from tests.integration.test_router_openai import MODEL, PROMPT, USER, router
from tlfif.contracts import reply_key_for

pytestmark = pytest.mark.anyio
__all__ = ["router"]  # the fixture, imported to be used here


async def test_a_key_is_an_openai_api_key_until_it_is_revoked(router: RouterHarness) -> None:
    created = await router.client.post("/keys", json={"name": "sdk"}, headers=router.auth())
    secret = created.json()["secret"]
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=router.app)) as http:
        # The base_url a deployed router needs (keys come in under /api-key/ on AWS).
        client = AsyncOpenAI(
            base_url="http://router.test/api-key/v1", api_key=secret, http_client=http
        )
        answer = await client.chat.completions.create(model=MODEL, messages=USER)
        assert answer.choices[0].message.content == PROMPT
        # The key's job is its owner's: the reply landed under alice's prefix.
        job_id = answer.id.removeprefix("chatcmpl-")
        assert router.replies.stored(reply_key_for(sub_of("alice"), job_id)) is not None
        listed = await client.models.list()
        assert [model.id for model in listed.data] == [MODEL]
        await router.client.delete("/keys/sdk", headers=router.auth())
        with pytest.raises(openai.AuthenticationError) as refused:
            await client.chat.completions.create(model=MODEL, messages=USER)
        assert refused.value.code == "invalid_api_key"
        assert "revoked" in refused.value.message
