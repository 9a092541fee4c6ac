"""The real window under Xvfb against the real router: the reply's text is drawn as the
node generates it, token by token, then the stored reply takes its place; and Stop (Send,
while a reply streams; Escape too) cancels the next reply, whose text so far stays.

The router runs under uvicorn on its own thread, verifying moto's Cognito tokens (the demo
user signs in by itself), with a real WatcherNode answering through the engine double, which
says the prompt back one word per token with a delay. The test reads the window's pixels
while the reply is generated: the output pane's text grows several times before the reply
is logged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.moto_server import REGION, CognitoPool
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_http import warm_router_in_thread
from tests.gui.test_gui import PROFILE, GuiHome, GuiProcess
from tests.gui.x11 import MISSING, Window, missing_reason, wait_for

pytestmark = pytest.mark.skipif(bool(MISSING), reason=missing_reason())

# Sixteen words, said back one a token 0.15 s apart: a reply that takes ~2.4 s to generate.
PROMPT = "a small boat drifts on the quiet sea while gulls circle above it and the sun sets"
# Forty words (~6 s to generate): stopped after its first few are drawn.
LONG_PROMPT = " ".join([PROMPT, PROMPT, "and the night falls over the water and the harbour"])
TOKEN_DELAY_SECONDS = 0.15
# The output pane, below the toolbar and above the prompt box (the window is 900 x 640).
PANE_ROWS = range(50, 420)
PANE_COLUMNS = slice(12 * 3, 860 * 3)  # bytes of a row, RGB


@pytest.fixture
def live_home(
    redis_server: RedisServer,
    engine_double: RunningEngineDouble,
    cognito_pool: CognitoPool,
    aws: str,
    tmp_path: Path,
) -> Iterator[GuiHome]:
    engine_double.double.token_delay_seconds = TOKEN_DELAY_SECONDS
    with warm_router_in_thread(redis_server.url, engine_double.url, cognito_pool) as url:
        config = tmp_path / "config.json"
        profile = cognito_pool.demo_profile(url, aws).model_dump() | {"region": REGION}
        config.write_text(json.dumps({PROFILE: profile}), "utf-8")
        home = tmp_path / "home"
        home.mkdir()
        yield GuiHome(config, home / ".tl-fif.ini", home)


def dark_pixels(window: Window) -> int:
    """How much text the output pane shows: its pixels darker than the prompt's blue."""
    width, _, data = window.pixels()
    count = 0
    for y in PANE_ROWS:
        row = data[y * width * 3 : (y + 1) * width * 3][PANE_COLUMNS]
        count += sum(1 for i in range(0, len(row), 3) if max(row[i : i + 3]) < 100)
    return count


def sizes_seen(window: Window, above: int, count: int, timeout: float = 20) -> list[int]:
    """The pane's text sampled until it has grown `count` times past `above`."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while len({n for n in seen if n > above}) < count:
        assert time.monotonic() < deadline, f"the pane did not grow {count} times: {seen}"
        seen.append(dark_pixels(window))
    return seen


@pytest.mark.slow  # ~10 s: the window's own start (Tk, the demo user's sign-in) is most of it
def test_the_window_draws_the_reply_as_it_is_generated_and_stop_stops_the_next(
    live_home: GuiHome, display: str, tmp_path: Path
) -> None:
    app = GuiProcess(live_home, display, tmp_path / "gui.log")
    try:
        app.window.park_pointer()
        before = dark_pixels(app.window)
        app.send(PROMPT)
        seen: list[int] = []
        deadline = time.monotonic() + 30
        while not app.events("reply"):
            assert time.monotonic() < deadline, "no reply in the window's log"
            seen.append(dark_pixels(app.window))
        wait_for("the reply drawn", lambda: dark_pixels(app.window) > before)
        app.window.save_png(tmp_path / "gui-live.png")
        replied = dark_pixels(app.window)
        app.send(LONG_PROMPT)
        # The prompt's head, the live reply's head, then its first words: Stop now.
        sizes_seen(app.window, replied, 3)
        app.window.save_png(tmp_path / "gui-streaming.png")  # Send is a red Stop here
        app.window.key("Escape")
        wait_for("the stopped reply", lambda: len(app.events("reply")) == 2, timeout=15)
        stopped_at = dark_pixels(app.window)
        app.window.save_png(tmp_path / "gui-stopped.png")
    finally:
        app.close()
    assert len(app.events("stop_reply")) == 1
    first, second = app.events("reply")
    assert (first["stopped"], second["stopped"]) == (False, True)
    # The cancelled reply (its text so far) is the answer shown: more than the prompt alone.
    assert stopped_at > replied
    growing = sorted(set(seen))
    # The prompt, then the live reply growing: at least three sizes of text before the
    # reply was logged, each drawn while the node was still generating.
    assert len([n for n in growing if n > before]) >= 3, seen
    assert seen == sorted(seen), "the live text only grows while one generation runs"
    assert not app.events("live_ended"), app.events("live_ended")
