"""The chat page (router/chat_page.py, router/static/) in a real headless Chromium.

Against the real router on a real port (uvicorn on the test's own event loop, in a portal
thread, beside a WatcherNode on the engine double): paste a token, send, see the engine's
reply and its usage, the conversation carried into the next prompt, Sign out; a bad token
shows the router's 401 message. Against V1StreamDouble, the transport's own cases: a 503
waited out and sent again as the same request, keep-alives while the node starts, text
shown as it comes, an in-stream error, a router that does not stream.

The screenshot of a conversation is saved under the test's tmp dir, or where
CHAT_SCREENSHOT says (`CHAT_SCREENSHOT=docs/chat.png` refreshes the README's picture).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.doubles.token_issuer import TokenIssuerDouble
from tests.doubles.v1_stream_double import V1StreamDouble
from tests.fixtures.asgi_server import serve_asgi, serve_asgi_in_loop
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import router_on, router_settings
from tests.fixtures.watcher_node import watcher

MODEL = "engine-double"
FIRST = "Hello from the chat page in a real browser"
SECOND = "Each word of this reply came as its own token"
T = TypeVar("T")


class ChatPage:
    """What a user sees and does on the page, by the page's element ids."""

    def __init__(self, driver: WebDriver, root: str) -> None:
        self.driver = driver
        self.root = root

    def open(self) -> None:
        self.driver.get(f"{self.root}/")

    def sign_in(self, token: str) -> None:
        """Paste the token (set at once, as a paste does) and press Sign in."""
        field = self.driver.find_element(By.ID, "token")
        self.driver.execute_script("arguments[0].value = arguments[1]", field, token)
        self.driver.find_element(By.ID, "sign-in-button").click()

    def send(self, prompt: str) -> None:
        self.driver.find_element(By.ID, "prompt").send_keys(prompt)
        self.driver.find_element(By.ID, "send").click()

    def until(self, found: Callable[[], T], timeout: float = 10.0) -> T:
        """found()'s first truthy value, polled every 50 ms."""
        wait = WebDriverWait(self.driver, timeout, poll_frequency=0.05)
        return wait.until(lambda _: found())

    def text(self, element_id: str) -> str:
        return str(self.driver.find_element(By.ID, element_id).text)

    def shown(self, element_id: str) -> bool:
        return bool(self.driver.find_element(By.ID, element_id).is_displayed())

    def replies(self) -> list[str]:
        turns = self.driver.find_elements(By.CSS_SELECTOR, ".turn.assistant .text")
        return [str(turn.text) for turn in turns]

    def usage(self) -> list[str]:
        return [str(line.text) for line in self.driver.find_elements(By.CLASS_NAME, "usage")]

    def prompt_box(self) -> str:
        return str(self.driver.find_element(By.ID, "prompt").get_property("value"))

    def stored(self) -> tuple[str | None, int]:
        """The token in sessionStorage, and how many items localStorage holds."""
        found: Any = self.driver.execute_script(
            "return [sessionStorage.getItem('tlfif.token'), localStorage.length]"
        )
        return found[0], int(found[1])

    def policy_violations(self) -> list[str]:
        """What the console said the Content-Security-Policy refused."""
        logged = self.driver.get_log("browser")  # type: ignore[no-untyped-call]  # selenium's own
        return [str(e["message"]) for e in logged if "Content Security Policy" in e["message"]]


@asynccontextmanager
async def served_router(
    redis_server: RedisServer, issuer: TokenIssuerDouble, engine: RunningEngineDouble
) -> AsyncIterator[str]:
    """A ready node (a WatcherNode on the engine double) and the router reading its replies,
    served by uvicorn on this event loop."""
    async with watcher(redis_server.url, engine.url) as node:
        await node.until_ready()
        quick = {"served_model": MODEL, "v1_wait_seconds": 5.0, "warm_eta_seconds": 1}
        settings = router_settings(issuer, **quick)
        async with (
            router_on(redis_server, issuer, settings=settings, replies=node.store) as router,
            serve_asgi_in_loop(router.app) as url,
        ):
            yield url


@pytest.fixture
def router_url(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, engine_double: RunningEngineDouble
) -> Iterator[str]:
    # The router and the watcher on one loop in a thread of its own: Selenium blocks this one.
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(
            served_router(redis_server, token_issuer, engine_double)
        ) as url,
    ):
        yield url


@pytest.fixture
def double() -> Iterator[tuple[V1StreamDouble, str]]:
    stand_in = V1StreamDouble()
    with serve_asgi(stand_in.app, "v1-stream-double") as root:
        yield stand_in, root


def screenshot(driver: WebDriver, tmp_path: Path) -> None:
    target = Path(os.environ.get("CHAT_SCREENSHOT") or tmp_path / "chat.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(target))


def test_a_prompt_is_answered_by_the_engine_and_the_conversation_goes_on(
    chromium: WebDriver,
    router_url: str,
    token_issuer: TokenIssuerDouble,
    engine_double: RunningEngineDouble,
    tmp_path: Path,
) -> None:
    page = ChatPage(chromium, router_url)
    page.open()
    token = token_issuer.access_token("alice")
    page.sign_in(token)
    assert page.until(lambda: page.text("model")) == MODEL  # from GET /v1/models

    page.send(FIRST)
    page.until(lambda: page.usage())
    assert page.replies() == [FIRST]  # the engine double says the prompt back
    assert "completion tokens" in page.usage()[0]
    page.send(SECOND)
    page.until(lambda: len(page.usage()) == 2)
    assert page.replies() == [FIRST, SECOND]
    # The second prompt carried the conversation so far.
    sent = engine_double.double.last_request
    assert sent is not None
    assert [(m["role"], m["content"]) for m in sent["messages"]] == [
        ("user", FIRST),
        ("assistant", FIRST),
        ("user", SECOND),
    ]
    assert page.stored() == (token, 0)  # in this tab's sessionStorage, never localStorage
    assert page.policy_violations() == []
    screenshot(chromium, tmp_path)

    chromium.find_element(By.ID, "sign-out").click()
    page.until(lambda: page.shown("sign-in"))
    assert page.stored() == (None, 0)
    assert page.replies() == [] and not page.shown("chat")


def test_a_bad_token_shows_the_routers_401_message(chromium: WebDriver, router_url: str) -> None:
    refused = httpx.get(f"{router_url}/v1/models", headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401
    page = ChatPage(chromium, router_url)
    page.open()
    page.sign_in("not-a-token")
    assert page.until(lambda: page.text("error")) == refused.json()["error"]["message"]
    assert page.shown("sign-in") and not page.shown("chat")
    assert page.stored() == (None, 0)


def test_keep_alives_say_the_gpu_is_starting_and_the_text_shows_as_it_streams(
    chromium: WebDriver, double: tuple[V1StreamDouble, str]
) -> None:
    stand_in, root = double
    # Far enough apart for the page to be seen between them.
    stand_in.keep_alives, stand_in.gap_seconds = 2, 0.25
    page = ChatPage(chromium, root)
    page.open()
    page.sign_in("a-token")
    assert page.until(lambda: page.text("model")) == "stream-double"

    page.send("hi")
    # Comments before any text: the router's keep-alives while the node starts.
    assert page.until(lambda: page.text("status").startswith("starting the GPU…"))
    whole = "".join(stand_in.pieces)
    partial = page.until(lambda: [reply for reply in page.replies() if reply][:1])
    assert partial[0] != whole  # shown before the reply is complete
    page.until(lambda: page.usage())
    assert page.replies() == [whole]
    assert page.usage()[0].startswith("7 prompt + 4 completion tokens · ")
    assert page.text("status") == ""
    (sent,) = stand_in.sent
    assert sent.body["stream"] is True and sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["messages"] == [{"role": "user", "content": "hi"}]
    assert (sent.authorization, sent.retry_count) == ("Bearer a-token", "0")


def test_a_503_is_counted_down_and_sent_again_as_the_same_request(
    chromium: WebDriver, double: tuple[V1StreamDouble, str]
) -> None:
    stand_in, root = double
    stand_in.pending_tries = 1  # Retry-After: 1
    page = ChatPage(chromium, root)
    page.open()
    page.sign_in("a-token")
    page.until(lambda: page.text("model"))

    page.send("hi")
    counting = page.until(lambda: "· asking again in 1 s" in page.text("status"))
    assert counting and page.text("status").startswith("starting the GPU…")
    page.until(lambda: page.usage())
    assert page.replies() == ["".join(stand_in.pieces)]
    # Two tries of one request, numbered as the openai client numbers them, the same body:
    # the router resumes the job of try 0 for try 1 (ADR 0024).
    first, retry = stand_in.sent
    assert (first.retry_count, retry.retry_count) == ("0", "1")
    assert first.body == retry.body


def test_an_in_stream_error_is_shown_and_the_prompt_kept_to_send_again(
    chromium: WebDriver, double: tuple[V1StreamDouble, str]
) -> None:
    stand_in, root = double
    stand_in.fail_in_stream = "the node failed on this request"
    page = ChatPage(chromium, root)
    page.open()
    page.sign_in("a-token")
    page.until(lambda: page.text("model"))

    page.send("hi")
    assert page.until(lambda: page.text("error")) == "the node failed on this request"
    assert page.prompt_box() == "hi"
    assert chromium.find_elements(By.CSS_SELECTOR, ".turn.assistant.failed")
    stand_in.fail_in_stream = None
    chromium.find_element(By.ID, "send").click()
    page.until(lambda: page.usage())
    assert not page.shown("error")
    # The failed turn was left out of the conversation sent again.
    assert stand_in.sent[-1].body["messages"] == [{"role": "user", "content": "hi"}]


def test_a_router_that_does_not_stream_is_asked_without_stream(
    chromium: WebDriver, double: tuple[V1StreamDouble, str]
) -> None:
    stand_in, root = double
    stand_in.refuse_stream = True
    page = ChatPage(chromium, root)
    page.open()
    page.sign_in("a-token")
    page.until(lambda: page.text("model"))

    page.send("hi")
    page.until(lambda: page.usage())
    assert page.replies() == ["Hello from the stream"]
    page.send("again")
    page.until(lambda: len(page.usage()) == 2)
    # Refused once (400 naming stream), then asked without it, and not streamed again.
    assert ["stream" in sent.body for sent in stand_in.sent] == [True, False, False]
