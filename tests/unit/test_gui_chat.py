"""gui/chat.py: what Send (and Stop), Stop GPU, New chat, the idle Spinbox and the Backend dropdown
do, against a recording view, an inline scheduler and scripted backends (no display)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from gui.backend import AWS_TINYLLAMA, OPENAI, Answer, Ticket, Waiting
from gui.backend_errors import BackendRefused, BackendTransient, ReplyFailed
from gui.backends import BackendEntry, BackendRegistry
from gui.chat import MIN_POLL_INTERVAL_SECONDS, POLL_SECONDS, ChatController
from gui.resilience import COLD_START_NOTICE
from gui.settings import GuiSettings, SettingsFile
from tests.doubles.gui_doubles import (
    BackendDouble,
    ChatViewDouble,
    InlineSchedulerDouble,
    ManualClockDouble,
)
from tlfif.contracts import MAX_CONTENT_BYTES

NOW = datetime(2026, 11, 23, 14, 3, 22)


@dataclass
class Harness:
    view: ChatViewDouble
    scheduler: InlineSchedulerDouble
    clock: ManualClockDouble
    aws: BackendDouble
    openai: BackendDouble
    settings_file: SettingsFile
    chat: ChatController


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    view, scheduler, clock = ChatViewDouble(), InlineSchedulerDouble(), ManualClockDouble()
    aws = BackendDouble()
    openai = BackendDouble(name=OPENAI, can_stop=False, has_cost=False)
    registry = BackendRegistry(
        [
            BackendEntry(
                AWS_TINYLLAMA, can_stop=True, has_cost=True, build=lambda: aws, can_cancel=True
            ),
            BackendEntry(OPENAI, can_stop=False, has_cost=False, build=lambda: openai),
        ]
    )
    settings_file = SettingsFile(tmp_path / ".tl-fif.ini")
    chat = ChatController(
        view,
        registry,
        settings_file,
        GuiSettings(),
        scheduler,
        clock=clock,
        wall_clock=lambda: NOW,
        sleep=clock.sleep,
    )
    chat.start()
    return Harness(view, scheduler, clock, aws, openai, settings_file, chat)


def test_the_node_label_follows_the_cold_start_and_is_refreshed_after_the_reply(
    h: Harness,
) -> None:
    settled: list[bool] = []
    h.chat.on_settled = lambda: settled.append(h.chat.in_flight)
    h.aws.responses = [
        Waiting("booting", node="booting"),
        Waiting("loading", node="loading"),
        Waiting("generating", node="ready"),
        Answer("Hi!", "tinyllama", 1500),
    ]
    h.chat.send("Hello")
    assert h.view.said("set_node") == [
        ("Node: booting",),
        ("Node: loading",),
        ("Node: ready",),
    ]
    # Once the send has ended: the window asks for the node's phase (and the cost) now.
    assert settled == [False]


def test_a_send_shows_each_cold_start_phase_in_words_then_the_reply(h: Harness) -> None:
    h.aws.responses = [Waiting("booting"), Waiting("generating"), Answer("Hi!", "tinyllama", 1500)]
    assert h.chat.send("Hello") is True
    assert h.view.said("show_prompt") == [(AWS_TINYLLAMA, "Hello")]
    assert h.view.said("set_phase") == [
        (f"{AWS_TINYLLAMA}: sending",),
        (f"{AWS_TINYLLAMA}: starting the node",),
        (f"{AWS_TINYLLAMA}: the node is booting",),
        (f"{AWS_TINYLLAMA}: generating",),
    ]
    [(backend, answer, waited, at)] = h.view.said("show_reply")
    assert (backend, answer.text, answer.latency_ms, at) == (AWS_TINYLLAMA, "Hi!", 1500, NOW)
    assert waited == pytest.approx(2 * MIN_POLL_INTERVAL_SECONDS)
    # Send was disabled for the whole wait and is back now.
    assert h.view.said("set_sending") == [(True,), (False,)]
    assert h.chat.in_flight is False


def test_waiting_is_a_long_poll_never_a_tight_loop(h: Harness) -> None:
    h.aws.responses = [*[Waiting("starting")] * 3, Answer("ok", None, None)]
    h.chat.send("Hello")
    assert h.aws.waits == [POLL_SECONDS] * 4
    # The poll answered at once (the clock did not move), so the loop paused itself.
    assert h.clock.sleeps == [MIN_POLL_INTERVAL_SECONDS] * 3


def test_each_send_carries_the_conversation_and_the_idle_minutes(h: Harness) -> None:
    h.chat.set_idle(12)
    h.chat.send("first")
    h.chat.send("second")
    messages, idle, _ = h.aws.sent[1]
    assert [(m.role, m.content) for m in messages] == [
        ("user", "first"),
        ("assistant", "a reply"),
        ("user", "second"),
    ]
    assert idle == 12


def test_a_retried_submit_reuses_its_idempotency_key_and_each_send_gets_its_own(
    h: Harness,
) -> None:
    ticket = Ticket(backend=AWS_TINYLLAMA, id="job-9", phase="queued")
    h.aws.sends = [BackendTransient(AWS_TINYLLAMA, "HTTP 502"), ticket]
    h.chat.send("once")
    h.chat.send("twice")
    keys = [key for _, _, key in h.aws.sent]
    assert keys[0] == keys[1] != keys[2]
    assert h.clock.sleeps[0] == 0.5


def test_after_three_failed_retries_the_pane_says_cold_starting_and_the_reply_still_comes(
    h: Harness,
) -> None:
    down = [BackendTransient(AWS_TINYLLAMA, "HTTP 504") for _ in range(5)]
    h.aws.responses = [*down, Answer("made it", None, None)]
    h.chat.send("Hello")
    assert (f"{AWS_TINYLLAMA}: {COLD_START_NOTICE} (HTTP 504)",) in h.view.said("show_notice")
    assert h.view.pane[-1] == f"{AWS_TINYLLAMA}: made it"


def test_a_failed_reply_is_shown_naming_the_backend_and_the_prompt_comes_back(
    h: Harness,
) -> None:
    h.aws.responses = [ReplyFailed(AWS_TINYLLAMA, "the reply is error: engine failed")]
    h.chat.send("Hello")
    assert h.view.said("show_error") == [(f"{AWS_TINYLLAMA}: the reply is error: engine failed",)]
    assert h.view.prompt == "Hello"
    assert h.chat.conversation.messages == []  # not resent with the next prompt
    assert h.view.sending is False


def test_an_unforeseen_failure_is_an_internal_error_naming_the_backend(h: Harness) -> None:
    h.aws.responses = [RuntimeError("boom")]
    h.chat.send("Hello")
    [(text,)] = h.view.said("show_error")
    assert text.startswith(f"{AWS_TINYLLAMA}: internal error (RuntimeError: boom)")


def test_send_is_refused_while_one_is_in_flight(h: Harness) -> None:
    h.scheduler.hold = True
    assert h.chat.send("one") is True
    assert h.chat.send("two") is False
    h.scheduler.finish()
    assert len(h.aws.sent) == 1
    assert h.chat.send("three") is True


def test_a_prompt_over_the_cap_is_refused_before_anything_is_sent(h: Harness) -> None:
    assert h.chat.send("x" * (MAX_CONTENT_BYTES + 1)) is False
    assert h.aws.sent == []
    [(text,)] = h.view.said("show_error")
    assert text.startswith(f"{AWS_TINYLLAMA}: the prompt is")


def test_the_node_counts_as_cold_starting_only_while_starting_or_booting(h: Harness) -> None:
    seen: list[bool] = []
    h.aws.on_poll = lambda: seen.append(h.chat.cold_starting)
    h.aws.responses = [Waiting("booting"), Waiting("generating"), Answer("ok", None, None)]
    h.chat.send("Hello")
    assert seen == [True, True, False]
    assert h.chat.cold_starting is False


def test_switching_to_openai_is_instant_saved_and_keeps_the_conversation(h: Harness) -> None:
    h.chat.send("on aws")
    h.chat.switch_backend(OPENAI)
    assert h.view.stop_available is False
    assert h.settings_file.load().backend == OPENAI
    h.chat.send("on openai")
    messages, _, _ = h.openai.sent[0]
    assert [m.content for m in messages] == ["on aws", "a reply", "on openai"]
    assert h.view.pane[-1] == f"{OPENAI}: a reply"
    h.chat.switch_backend(AWS_TINYLLAMA)
    assert h.view.stop_available is True


def test_stop_gpu_shows_the_node_stopping(h: Harness) -> None:
    h.chat.stop_gpu()
    assert h.view.said("set_node") == [("Node: stop requested…",), ("Node: stopping",)]
    assert h.aws.node == "stopping"


def test_stop_gpu_does_nothing_under_a_backend_without_a_node(h: Harness) -> None:
    h.chat.switch_backend(OPENAI)
    h.chat.stop_gpu()
    assert h.view.said("set_node") == []
    assert h.openai.stops == [] and h.aws.node == "stopped"


def test_a_failed_stop_is_shown_naming_the_backend(h: Harness) -> None:
    h.aws.stops = [BackendRefused(AWS_TINYLLAMA, "not allowed")]
    h.chat.stop_gpu()
    assert h.view.said("show_error") == [(f"Stop GPU failed: {AWS_TINYLLAMA}: not allowed",)]


@pytest.mark.parametrize(("minutes", "accepted"), [(1, True), (30, True), (0, False), (31, False)])
def test_idle_minutes_between_1_and_30_are_saved_at_once(
    h: Harness, minutes: int, accepted: bool
) -> None:
    assert h.chat.set_idle(minutes) is accepted
    saved = h.settings_file.load().idle_minutes if h.settings_file.path.exists() else 5
    assert saved == (minutes if accepted else 5)


def test_new_chat_clears_the_pane_and_what_the_next_send_carries(h: Harness) -> None:
    h.chat.send("remember me")
    h.chat.new_chat()
    h.chat.send("fresh")
    assert h.view.pane[-2:] == [f"You → {AWS_TINYLLAMA}: fresh", f"{AWS_TINYLLAMA}: a reply"]
    assert [m.content for m in h.aws.sent[-1][0]] == ["fresh"]


def test_closing_ends_waits_and_closes_the_backends_in_use(h: Harness) -> None:
    h.chat.send("Hello")
    h.chat.close()
    assert h.chat.closing.is_set()
    assert h.aws.closed is True


def test_a_node_that_did_not_start_is_said_once_and_the_wait_goes_on(h: Harness) -> None:
    note = "the node did not start yet (InsufficientInstanceCapacity); the job stays queued"
    h.aws.sends = [Ticket(backend=AWS_TINYLLAMA, id="j", phase="starting", note=note)]
    h.aws.responses = [Waiting("starting"), Waiting("starting"), Answer("late", None, None)]
    h.chat.send("Hello")
    notices = [text for (text,) in h.view.said("show_notice")]
    assert notices == [f"{AWS_TINYLLAMA}: {note}"]
    assert h.view.pane[-1] == f"{AWS_TINYLLAMA}: late"


def stop_at_first_poll(h: Harness) -> None:
    polls = len(h.aws.waits)
    h.aws.on_poll = lambda: h.chat.stop_reply() if len(h.aws.waits) == polls + 1 else None


def test_send_becomes_stop_and_stop_shows_the_text_so_far_as_the_answer(h: Harness) -> None:
    stopped = Answer("Once upon", "tinyllama", 800, stopped=True)
    h.aws.cancels = [stopped]
    h.aws.responses = [Waiting("generating"), stopped]  # what the wait reads: the same reply
    stop_at_first_poll(h)
    h.chat.send("Tell me a story")
    assert h.aws.cancelled == ["job-1"]
    # Stop once the job had an id; a disabled Stop while the cancel went; then Send back.
    assert h.view.said("set_stoppable") == [(True,), (False,)]
    assert (f"{AWS_TINYLLAMA}: stopping the reply",) in h.view.said("set_phase")
    [(_, answer, _, _)] = h.view.said("show_reply")  # shown once, though the wait read it too
    assert answer == stopped
    assert h.view.sending is False and h.chat.in_flight is False
    # What the user saw is part of the chat the next prompt carries.
    assert [m.content for m in h.chat.conversation.messages] == ["Tell me a story", "Once upon"]


def test_a_stop_after_the_reply_landed_shows_the_reply_that_landed(h: Harness) -> None:
    landed = Answer("The whole reply", "tinyllama", 1500)
    h.aws.cancels = [landed]  # the 409's reply (gui/aws_backend.py reads it)
    h.aws.responses = [Waiting("generating"), landed]
    stop_at_first_poll(h)
    h.chat.send("Hello")
    [(_, answer, _, _)] = h.view.said("show_reply")
    assert answer == landed and answer.stopped is False


def test_a_stop_the_node_has_yet_to_make_lets_the_wait_read_the_cancelled_reply(
    h: Harness,
) -> None:
    h.aws.cancels = [None]  # 202 cancelling
    h.aws.responses = [Waiting("generating"), Answer("", None, None, stopped=True)]
    stop_at_first_poll(h)
    h.chat.send("Hello")
    assert h.view.said("set_phase")[-1] == (f"{AWS_TINYLLAMA}: stopping at the next tokens",)
    [(_, answer, _, _)] = h.view.said("show_reply")
    assert answer.stopped is True
    # Stopped before any text: nothing joins the chat, and the prompt is back to resend.
    assert h.chat.conversation.messages == [] and h.view.prompt == "Hello"


def test_a_failed_stop_is_shown_and_stop_is_offered_again_while_the_reply_comes(
    h: Harness,
) -> None:
    h.aws.cancels = [BackendTransient(AWS_TINYLLAMA, "cannot reach the router")]
    h.aws.responses = [Waiting("generating"), Answer("made it", None, None)]
    stop_at_first_poll(h)
    h.chat.send("Hello")
    [(text,)] = h.view.said("show_error")
    assert text == (
        f"Stop failed: {AWS_TINYLLAMA}: cannot reach the router; the reply is still coming"
    )
    assert h.view.said("set_stoppable") == [(True,), (False,), (True,)]
    assert h.view.pane[-1] == f"{AWS_TINYLLAMA}: made it"


def test_stop_does_nothing_before_the_job_has_an_id(h: Harness) -> None:
    h.scheduler.hold = True
    h.chat.send("Hello")
    h.chat.stop_reply()
    assert h.aws.cancelled == [] and h.view.said("set_stoppable") == []


def test_the_openai_backend_offers_no_stop(h: Harness) -> None:
    h.chat.switch_backend(OPENAI)
    h.openai.on_poll = h.chat.stop_reply
    h.chat.send("Hello")
    assert h.view.said("set_stoppable") == [] and h.openai.cancelled == []
    assert h.view.pane[-1] == f"{OPENAI}: a reply"
