"""gui/chat.py with a backend that streams: the reply's text shown as it comes, a
generation that starts over voided, and polling when live text cannot go on."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from gui.backend import AWS_TINYLLAMA, Answer, StreamingBackend
from gui.backend_errors import BackendTransient
from gui.backends import BackendEntry, BackendRegistry
from gui.chat import RESTARTED, ChatController
from gui.settings import GuiSettings, SettingsFile
from tests.doubles.gui_doubles import (
    ChatViewDouble,
    InlineSchedulerDouble,
    ManualClockDouble,
    StreamingBackendDouble,
)

REPLY = Answer("uno dos", "gemma-3-270m", 900)


def controller(
    tmp_path: Path, backend: StreamingBackendDouble
) -> tuple[ChatController, ChatViewDouble]:
    view, clock = ChatViewDouble(), ManualClockDouble()
    registry = BackendRegistry(
        [BackendEntry(AWS_TINYLLAMA, can_stop=True, has_cost=True, build=lambda: backend)]
    )
    chat = ChatController(
        view,
        registry,
        SettingsFile(tmp_path / ".tl-fif.ini"),
        GuiSettings(),
        InlineSchedulerDouble(),
        clock=clock,
        wall_clock=lambda: datetime(2026, 12, 1, 21, 0),
        sleep=clock.sleep,
    )
    chat.start()
    return chat, view


def test_the_text_shows_as_it_comes_and_the_reply_takes_its_place(tmp_path: Path) -> None:
    backend = StreamingBackendDouble(
        told=[("phase", "booting"), ("text", "uno"), ("text", " dos")], streamed=REPLY
    )
    assert isinstance(backend, StreamingBackend)
    chat, view = controller(tmp_path, backend)
    assert chat.send("Count in Spanish")
    assert view.said("show_live_text") == [(AWS_TINYLLAMA, "uno"), (AWS_TINYLLAMA, " dos")]
    assert (f"{AWS_TINYLLAMA}: generating",) in view.said("set_phase")
    [(_, answer, _, _)] = view.said("show_reply")
    assert answer == REPLY and view.live == ""
    assert backend.waits == []  # no poll: the stream brought the reply
    assert chat.conversation.messages[-1].content == "uno dos"


def test_a_generation_that_starts_over_voids_the_text_before_it(tmp_path: Path) -> None:
    told = [("text", "one two"), ("restarted", ""), ("text", "uno")]
    backend = StreamingBackendDouble(told=told, streamed=REPLY)
    chat, view = controller(tmp_path, backend)
    chat.send("Count")
    calls = [c for c in view.calls if c[0] in {"show_live_text", "void_live_text", "show_notice"}]
    assert calls == [
        ("show_live_text", AWS_TINYLLAMA, "one two"),
        ("void_live_text",),
        ("show_notice", f"{AWS_TINYLLAMA}: {RESTARTED}"),
        ("show_live_text", AWS_TINYLLAMA, "uno"),
    ]


@pytest.mark.parametrize("streamed", [None, BackendTransient(AWS_TINYLLAMA, "HTTP 502")])
def test_without_live_text_the_reply_is_polled_for(
    tmp_path: Path, streamed: Exception | None
) -> None:
    backend = StreamingBackendDouble(told=[("text", "uno")], streamed=streamed, responses=[REPLY])
    chat, view = controller(tmp_path, backend)
    chat.send("Count")
    assert backend.streams == 1 and len(backend.waits) == 1
    [(_, answer, _, _)] = view.said("show_reply")
    assert answer == REPLY and view.live == ""
