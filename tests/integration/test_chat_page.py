"""The chat page (router/chat_page.py, router/static/) in a real headless Chromium.

Against the real router on a real port (uvicorn on its own event loop, in a portal
thread, beside a WatcherNode on the engine double), set up as deployed: sign-in through
CognitoHostedUiDouble's hosted UI with PKCE (the code redeemed by the page itself), then
send, see the engine's reply and its usage, the conversation carried into the next prompt;
Stop (Send, while a reply streams) cancelling a slow reply, its text so far kept and marked
stopped, the job's stored reply cancelled; Stop GPU for the owner, who stops the node with
it, and not for a plain user; a forged state refused; a bad token shows the router's 401
message; Sign out through /logout. One router, one hosted UI and one browser for the
module; each test starts with the tab's storage cleared. Against V1StreamDouble, the
transport's own cases: a 503 waited out and sent again as the same request, the node's
phase in words, keep-alives while the node starts, text shown as it comes, an in-stream
error, a router that does not stream.

The screenshot of a conversation is saved under the test's tmp dir, or where
CHAT_SCREENSHOT says (`CHAT_SCREENSHOT=docs/chat.png` refreshes the README's picture).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import redis
from anyio.from_thread import start_blocking_portal
from pydantic import SecretStr
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait
from starlette.applications import Starlette

from gui.pkce import challenge_of
from router.app import create_app
from router.deps import RouterDeps
from tests.doubles.cloud import MetricsDouble, NodeControlDouble, ReplyStoreDouble
from tests.doubles.cognito_hosted_ui_double import CognitoHostedUiDouble
from tests.doubles.token_issuer import TokenIssuerDouble
from tests.doubles.v1_stream_double import V1StreamDouble
from tests.fixtures.asgi_server import serve_asgi, serve_asgi_in_loop
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.moto_server import CognitoPool
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import LOOSE_LIMITS, router_on, router_settings
from tests.fixtures.watcher_node import NODE, watcher
from tlfif import keys
from tlfif.auth import TokenVerifier
from tlfif.redis_conn import connect
from tlfif.settings import CommonSettings, RouterSettings

MODEL = "engine-double"
FIRST = "Hello from the chat page in a real browser"
SECOND = "Each word of this reply came as its own token"
# Thirty words said back 0.2 s apart (~6 s): stopped after its first few.
SLOW = " ".join(["the slow reply goes on word after word"] * 3 + ["until someone stops it"])
OWNER, PLAIN_USER = "alice", "bob"  # alice's tokens carry the owner group (TokenIssuerDouble)
T = TypeVar("T")


class ChatPage:
    """What a user sees and does on the page, by the page's element ids."""

    def __init__(self, driver: WebDriver, root: str) -> None:
        self.driver = driver
        self.root = root

    def open(self) -> None:
        self.driver.get(f"{self.root}/")

    def open_fresh(self) -> None:
        """The page in a tab whose storage holds nothing of an earlier test."""
        self.open()
        self.driver.execute_script("sessionStorage.clear(); localStorage.clear()")
        self.open()

    def sign_in(self, token: str) -> None:
        """Paste the token (set at once, as a paste does) and press Sign in."""
        field = self.driver.find_element(By.ID, "token")
        self.driver.execute_script("arguments[0].value = arguments[1]", field, token)
        self.driver.find_element(By.ID, "sign-in-button").click()

    def sign_in_with_account(self) -> None:
        """Press Sign in: to the hosted UI, which signs the user in and sends them back."""
        self.until(lambda: self.shown("sign-in-start"))
        self.driver.find_element(By.ID, "sign-in-start").click()
        assert self.until(lambda: self.text("model")) == MODEL

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

    def session_keys(self) -> list[str]:
        found: Any = self.driver.execute_script("return Object.keys(sessionStorage).sort()")
        return [str(key) for key in found]

    def policy_violations(self) -> list[str]:
        """What the console said the Content-Security-Policy refused."""
        logged = self.driver.get_log("browser")  # type: ignore[no-untyped-call]  # selenium's own
        return [str(e["message"]) for e in logged if "Content Security Policy" in e["message"]]


@dataclass
class Deployed:
    """The router as deployed, its sign-in through the hosted UI double."""

    url: str
    hosted_ui: CognitoHostedUiDouble
    node: NodeControlDouble
    metrics: MetricsDouble
    replies: ReplyStoreDouble  # the watcher's, which the router reads


@asynccontextmanager
async def served_router(
    redis_server: RedisServer,
    issuer: TokenIssuerDouble,
    engine: RunningEngineDouble,
    hosted_ui: CognitoHostedUiDouble,
    hosted_ui_url: str,
) -> AsyncIterator[Deployed]:
    """A ready node (a WatcherNode on the engine double) and the router reading its replies,
    served by uvicorn on this event loop; the page's sign-in through `hosted_ui_url`."""
    async with watcher(redis_server.url, engine.url) as node:
        await node.until_ready()
        quick = {"served_model": MODEL, "v1_wait_seconds": 5.0, "warm_eta_seconds": 1}
        # The page's app client is the issuer's: its tokens are the ones the router accepts.
        sign_in = {"chat_hosted_ui": hosted_ui_url, "chat_client_id": issuer.client_id}
        settings = router_settings(issuer, **quick, **sign_in)
        async with (
            router_on(redis_server, issuer, settings=settings, replies=node.store) as router,
            serve_asgi_in_loop(router.app) as url,
        ):
            # The app client's callback and sign-out URLs: the page's own address.
            hosted_ui.callback_urls.append(f"{url}/")
            hosted_ui.logout_urls.append(f"{url}/")
            yield Deployed(url, hosted_ui, router.node, router.metrics, node.store)


@pytest.fixture(scope="module")
def deployed(
    redis7: RedisServer,
    token_issuer: TokenIssuerDouble,
    engine_double_server: RunningEngineDouble,
) -> Iterator[Deployed]:
    redis7.flush()
    hosted_ui = CognitoHostedUiDouble(
        client_id=token_issuer.client_id,
        callback_urls=[],
        username=OWNER,
        access_token_of=token_issuer.access_token,
    )
    # The router and the watcher on one loop in a thread of its own: Selenium blocks this one.
    with (
        serve_asgi(hosted_ui.app(), "hosted-ui-double") as hosted_ui_url,
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(
            served_router(redis7, token_issuer, engine_double_server, hosted_ui, hosted_ui_url)
        ) as served,
    ):
        yield served


@pytest.fixture
def page(chromium: WebDriver, deployed: Deployed) -> ChatPage:
    deployed.hosted_ui.username = OWNER
    chat = ChatPage(chromium, deployed.url)
    chat.open_fresh()
    return chat


@pytest.fixture
def double() -> Iterator[tuple[V1StreamDouble, str]]:
    stand_in = V1StreamDouble()
    with serve_asgi(stand_in.app, "v1-stream-double") as root:
        yield stand_in, root


def screenshot(driver: WebDriver, tmp_path: Path) -> None:
    target = Path(os.environ.get("CHAT_SCREENSHOT") or tmp_path / "chat.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(target))


def test_the_owner_signs_in_with_pkce_and_a_prompt_is_answered_by_the_engine(
    page: ChatPage,
    deployed: Deployed,
    engine_double_server: RunningEngineDouble,
    tmp_path: Path,
) -> None:
    hosted_ui = deployed.hosted_ui
    page.sign_in_with_account()

    # To the hosted UI with an S256 challenge and a state, back with a code that the page
    # redeemed with the verifier of that challenge, for the page's own address.
    asked = hosted_ui.authorize_queries[-1]
    assert asked["response_type"] == "code" and asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == f"{deployed.url}/" and len(asked["state"]) >= 32
    redeemed = hosted_ui.token_forms[-1]
    assert redeemed["grant_type"] == "authorization_code"
    assert challenge_of(redeemed["code_verifier"]) == asked["code_challenge"]
    assert redeemed["redirect_uri"] == asked["redirect_uri"]
    # The code left the address bar; the verifier left the tab's storage.
    assert page.driver.current_url == f"{deployed.url}/"
    assert page.session_keys() == ["tlfif.refresh", "tlfif.token"]
    token, kept_in_local_storage = page.stored()
    assert token and kept_in_local_storage == 0  # sessionStorage only

    engine_double_server.double.reset()
    page.send(FIRST)
    page.until(lambda: page.usage())
    assert page.replies() == [FIRST]  # the engine double says the prompt back
    assert "completion tokens" in page.usage()[0]
    page.send(SECOND)
    page.until(lambda: len(page.usage()) == 2)
    assert page.replies() == [FIRST, SECOND]
    # The second prompt carried the conversation so far.
    sent = engine_double_server.double.last_request
    assert sent is not None
    assert [(m["role"], m["content"]) for m in sent["messages"]] == [
        ("user", FIRST),
        ("assistant", FIRST),
        ("user", SECOND),
    ]
    assert page.until(lambda: page.text("node")) == "GPU ready"
    assert page.shown("stop-gpu")  # alice owns the deployment
    assert page.policy_violations() == []
    screenshot(page.driver, tmp_path)

    # Sign out: the tokens and the conversation are gone, the hosted UI's session too.
    page.driver.find_element(By.ID, "sign-out").click()
    page.until(lambda: hosted_ui.logouts and page.shown("sign-in"))
    assert hosted_ui.logouts[-1] == {
        "client_id": hosted_ui.client_id,
        "logout_uri": asked["redirect_uri"],
    }
    assert page.stored() == (None, 0)
    assert page.replies() == [] and not page.shown("chat")


def test_a_plain_user_is_not_offered_stop_gpu_and_sees_every_node(
    page: ChatPage, deployed: Deployed, redis7: RedisServer
) -> None:
    # A second instance EC2 was last seen starting, beside the module's ready watcher (its
    # heartbeat, under the watcher's node id): the header names both, in id order.
    seen = redis.Redis.from_url(redis7.url)
    seen.hset(keys.EC2_STATES, mapping={"i-0second": "pending", NODE: "running"})
    try:
        deployed.hosted_ui.username = PLAIN_USER
        page.sign_in_with_account()
        assert page.until(lambda: page.text("node")) == "GPU ready"  # GET /status answered
        assert page.until(lambda: page.text("nodes")) == "2 GPUs: starting, ready"
        assert not page.shown("stop-gpu")
    finally:
        seen.delete(keys.EC2_STATES)
        seen.close()


def test_a_code_this_tab_did_not_ask_for_is_not_redeemed(
    page: ChatPage, deployed: Deployed
) -> None:
    redeemed = len(deployed.hosted_ui.token_forms)
    page.driver.get(f"{deployed.url}/?code=planted&state=forged")
    assert page.until(lambda: page.text("error")) == (
        "that sign-in was not started from this tab: sign in again"
    )
    assert len(deployed.hosted_ui.token_forms) == redeemed
    assert page.driver.current_url == f"{deployed.url}/"
    assert page.shown("sign-in") and page.stored() == (None, 0)


def test_a_bad_token_shows_the_routers_401_message(page: ChatPage, deployed: Deployed) -> None:
    refused = httpx.get(f"{deployed.url}/v1/models", headers={"Authorization": "Bearer bad"})
    assert refused.status_code == 401
    page.driver.execute_script("sessionStorage.setItem('tlfif.token', 'bad')")
    page.open()
    assert page.until(lambda: page.text("error")) == refused.json()["error"]["message"]
    assert page.shown("sign-in") and not page.shown("chat")
    assert page.stored() == (None, 0)


def test_the_prompt_box_wakes_the_node_once_when_it_gets_focus(
    page: ChatPage, deployed: Deployed
) -> None:
    """Wake-ahead (ADR 0029): the box's focus (the page gives it at sign-in) wakes the node
    once; focus again, typing and the reply within the idle period wake nothing more."""
    before = deployed.metrics.counts.get("Wakes", 0)
    page.sign_in_with_account()
    page.until(lambda: deployed.metrics.counts.get("Wakes") == before + 1)
    refocus = "arguments[0].blur(); arguments[0].focus()"
    box = page.driver.find_element(By.ID, "prompt")
    for _ in range(3):
        page.driver.execute_script(refocus, box)
    page.send(FIRST)
    page.until(lambda: page.usage())
    page.driver.execute_script(refocus, box)
    page.send(SECOND)
    page.until(lambda: len(page.usage()) == 2)
    assert deployed.metrics.counts["Wakes"] == before + 1
    assert deployed.metrics.counts.get("WakesFollowed", 0) >= 1
    # ?wake=off turns it off for this browser (localStorage), ?wake=on back on.
    page.driver.get(f"{deployed.url}/?wake=off")
    page.until(lambda: page.text("node"))  # signed in again, GET /status answered
    page.driver.execute_script(refocus, page.driver.find_element(By.ID, "prompt"))
    page.driver.find_element(By.ID, "prompt").send_keys("typed, with wake-ahead off")
    assert page.driver.execute_script("return localStorage.getItem('tlfif.wake')") == "off"
    assert deployed.metrics.counts["Wakes"] == before + 1
    page.driver.get(f"{deployed.url}/?wake=on")
    page.until(lambda: deployed.metrics.counts["Wakes"] == before + 2)
    assert page.stored()[1] == 0


def test_stop_cancels_a_streaming_reply_and_keeps_its_text_so_far_marked_stopped(
    page: ChatPage, deployed: Deployed, engine_double_server: RunningEngineDouble
) -> None:
    engine = engine_double_server.double
    engine.reset()
    engine.token_delay_seconds = 0.2
    try:
        page.sign_in_with_account()
        page.send(SLOW)
        page.until(lambda: len(" ".join(page.replies()).split()) >= 3)
        button = page.driver.find_element(By.ID, "send")
        assert button.text == "Stop"  # Send, while the reply streams
        button.click()
        [usage] = page.until(lambda: page.usage())
        shown = page.replies()[-1]
    finally:
        engine.reset()
    assert usage.startswith("stopped · ")
    assert shown and SLOW.startswith(shown) and len(shown) < len(SLOW)
    assert page.text("send") == "Send" and page.prompt_box() == ""
    # The job's one reply says cancelled, with the text the page shows: the cancel's own
    # answer, well inside the 10 s a dropped stream waits before it cancels (ADR 0030).
    cancelled = [r for r in deployed.replies.replies.values() if r.status == "cancelled"]
    assert [r.text for r in cancelled] == [shown]
    assert page.policy_violations() == []


def test_stop_gpu_stops_the_node_for_the_owner(page: ChatPage, deployed: Deployed) -> None:
    # Last of the router's tests: the manual hold it sets stays for the module.
    page.sign_in_with_account()
    page.until(lambda: page.shown("stop-gpu"))
    page.driver.find_element(By.ID, "stop-gpu").click()
    assert page.until(lambda: page.text("status")) == (
        "the GPU is stopping; your next prompt starts it again"
    )
    assert "stop" in deployed.node.calls
    assert page.text("node").startswith("GPU ")
    page.driver.refresh()  # a new look at GET /status: the owner's manual hold
    assert page.until(lambda: "held: manual" in page.text("node"))


@pytest.fixture
def local_stack_router(redis_server: RedisServer, cognito_pool: CognitoPool) -> Iterator[str]:
    """The router as `make up` sets it (local/stack.py): moto's Cognito, whose tokens it
    verifies against moto's JWKS, and the page's demo user signing in at moto."""
    settings = RouterSettings(
        cognito_issuer=cognito_pool.issuer,
        jwks_url=cognito_pool.jwks_url,
        client_ids=[cognito_pool.client_id],
        chat_cognito_url=cognito_pool.jwks_url.split(f"/{cognito_pool.pool_id}/")[0],
        chat_client_id=cognito_pool.client_id,
        chat_demo_username=cognito_pool.username,
        chat_demo_password=SecretStr(cognito_pool.password),
        **LOOSE_LIMITS,
    )
    deps = RouterDeps(
        settings=settings,
        common=CommonSettings(),
        verifier=TokenVerifier(settings.cognito_issuer, settings.jwks_url, settings.client_ids),
        metrics=MetricsDouble(),
        replies=ReplyStoreDouble(),
        node_control=NodeControlDouble,
        redis=lambda: connect(redis_server.url),
    )
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(served_with_lifespan(create_app(deps))) as url,
    ):
        yield url


@asynccontextmanager
async def served_with_lifespan(app: Starlette) -> AsyncIterator[str]:
    async with app.router.lifespan_context(app), serve_asgi_in_loop(app) as url:
        yield url


def test_on_the_local_stack_the_demo_user_signs_in_by_itself(
    chromium: WebDriver, local_stack_router: str
) -> None:
    page = ChatPage(chromium, local_stack_router)
    page.open()
    # No typing: the page signed the demo user in at the emulator's Cognito.
    assert page.until(lambda: page.text("model")) == RouterSettings().served_model
    # GET /status answered (the module's watcher may be heartbeating on this Redis).
    assert page.until(lambda: page.text("node")).startswith("GPU ")
    assert page.shown("stop-gpu")  # the demo user owns the stack
    token, kept_in_local_storage = page.stored()
    assert token and kept_in_local_storage == 0
    assert page.policy_violations() == []

    # Signed out, the page offers the demo user's sign-in again rather than looping.
    page.driver.find_element(By.ID, "sign-out").click()
    page.until(lambda: page.shown("sign-in-start"))
    assert page.stored() == (None, 0)
    assert "demo user (demo)" in page.text("sign-in-hint")


def test_keep_alives_say_the_node_is_starting_and_the_text_shows_as_it_streams(
    chromium: WebDriver, double: tuple[V1StreamDouble, str]
) -> None:
    stand_in, root = double
    # Far enough apart for the page to be seen between them.
    stand_in.keep_alives, stand_in.gap_seconds = 2, 0.25
    page = ChatPage(chromium, root)
    page.open()
    page.sign_in("a-token")
    assert page.until(lambda: page.text("model")) == "stream-double"

    idle = chromium.find_element(By.ID, "idle")
    idle.clear()
    idle.send_keys("12")
    page.send("hi")
    # Comments before any text: the router's keep-alives while the node starts (this
    # double's GET /status is a 404, so they are all the page has to go by).
    assert page.until(lambda: page.text("status").startswith("starting the node…"))
    whole = "".join(stand_in.pieces)
    partial = page.until(lambda: [reply for reply in page.replies() if reply][:1])
    assert partial[0] != whole  # shown before the reply is complete
    page.until(lambda: page.usage())
    assert page.replies() == [whole]
    assert page.usage()[0].startswith("7 prompt + 4 completion tokens · ")
    assert page.text("status") == ""
    assert not page.shown("stop-gpu")  # no /status, no owner
    (sent,) = stand_in.sent
    assert sent.body["stream"] is True and sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["messages"] == [{"role": "user", "content": "hi"}]
    assert sent.body["idle"] == 12  # the idle minutes the box says
    assert (sent.authorization, sent.retry_count) == ("Bearer a-token", "0")


def test_a_503_is_counted_down_with_the_nodes_phase_and_sent_again_as_the_same_request(
    chromium: WebDriver, double: tuple[V1StreamDouble, str]
) -> None:
    stand_in, root = double
    stand_in.pending_tries, stand_in.retry_after = 1, 2
    stand_in.node_phase = "booting"  # GET /status, asked a second after the prompt
    page = ChatPage(chromium, root)
    page.open()
    page.sign_in("a-token")
    page.until(lambda: page.text("model"))

    page.send("hi")
    assert page.until(lambda: "· asking again in 2 s" in page.text("status"))
    assert page.text("status").startswith("starting the node… 0 s")
    # The phase in words with the seconds since the prompt, as the CLI shows it.
    assert page.until(
        lambda: page.text("status") == "the node is booting… 1 s · asking again in 1 s"
    )
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
