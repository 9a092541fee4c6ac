"""Doubles for the GUI's controllers: a window that records (ChatViewDouble), a scheduler
that runs everything at once on the test's thread (InlineSchedulerDouble), a backend
that answers from a script (BackendDouble), and a clock whose sleeps only move it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from gui.backend import AWS_TINYLLAMA, Answer, Fleet, Ticket, Waiting
from gui.scheduler import Cancel
from tlfif.client.live import LiveListener
from tlfif.contracts import CostView, EstimateView, Message, NodeInfo, NodePhase

T = TypeVar("T")


@dataclass
class ChatViewDouble:
    """Every call as (method, args...) in `calls`, plus the state a user would see."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)
    sending: bool = False
    stoppable: bool = False  # Send shows as Stop, enabled
    stop_available: bool | None = None
    phase: str = ""
    node: str = ""
    cost: str = ""
    prompt: str = ""
    pane: list[str] = field(default_factory=list)
    live: str = ""  # the reply's text shown as it is generated

    def show_prompt(self, backend: str, text: str, at: datetime) -> None:
        self.calls.append(("show_prompt", backend, text))
        self.pane.append(f"You → {backend}: {text}")

    def show_reply(self, backend: str, answer: Answer, waited_seconds: float, at: datetime) -> None:
        self.calls.append(("show_reply", backend, answer, waited_seconds, at))
        self.live = ""
        self.pane.append(f"{backend}: {answer.text}")

    def show_live_text(self, backend: str, delta: str) -> None:
        self.calls.append(("show_live_text", backend, delta))
        self.live += delta

    def void_live_text(self) -> None:
        self.calls.append(("void_live_text",))
        self.live = ""

    def show_notice(self, text: str) -> None:
        self.calls.append(("show_notice", text))
        self.pane.append(text)

    def show_error(self, text: str) -> None:
        self.calls.append(("show_error", text))
        self.pane.append(text)

    def set_sending(self, sending: bool) -> None:
        self.calls.append(("set_sending", sending))
        self.sending = sending
        self.stoppable = False

    def set_stoppable(self, stoppable: bool) -> None:
        self.calls.append(("set_stoppable", stoppable))
        self.stoppable = stoppable

    def set_phase(self, text: str) -> None:
        self.calls.append(("set_phase", text))
        self.phase = text

    def set_stop_available(self, available: bool) -> None:
        self.stop_available = available

    def set_node(self, text: str) -> None:
        self.calls.append(("set_node", text))
        self.node = text

    def set_cost(self, text: str) -> None:
        self.calls.append(("set_cost", text))
        self.cost = text

    def clear_conversation(self) -> None:
        self.pane.clear()

    def restore_prompt(self, text: str) -> None:
        self.prompt = text

    def said(self, method: str) -> list[tuple[Any, ...]]:
        return [call[1:] for call in self.calls if call[0] == method]


@dataclass
class InlineSchedulerDouble:
    """run/post at once (or, with `hold`, when the test says `finish`); `later` timers
    wait until the test fires them."""

    hold: bool = False
    held: list[Callable[[], None]] = field(default_factory=list)
    timers: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
    cancelled: int = 0

    def run(
        self, work: Callable[[], T], done: Callable[[T], None], failed: Callable[[Exception], None]
    ) -> None:
        if self.hold:
            self.held.append(lambda: self._run_now(work, done, failed))
        else:
            self._run_now(work, done, failed)

    def finish(self) -> None:
        """Run the work held back so far."""
        held, self.held = self.held, []
        for action in held:
            action()

    def _run_now(
        self, work: Callable[[], T], done: Callable[[T], None], failed: Callable[[Exception], None]
    ) -> None:
        try:
            result = work()
        except Exception as exc:
            failed(exc)
        else:
            done(result)

    def post(self, action: Callable[[], None]) -> None:
        action()

    def later(self, seconds: float, action: Callable[[], None]) -> Cancel:
        entry = (seconds, action)
        self.timers.append(entry)

        def cancel() -> None:
            if entry in self.timers:
                self.timers.remove(entry)
                self.cancelled += 1

        return cancel

    def fire(self) -> None:
        """Run the timers due now (each may set new ones)."""
        due, self.timers = self.timers, []
        for _, action in due:
            action()


@dataclass
class ManualClockDouble:
    """Monotonic seconds that move only when someone sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds
        return False


def cost_view(eur: float = 3.17, age_seconds: int = 42) -> CostView:
    estimate = EstimateView(
        eur=eur, running_seconds=600, node_hourly_usd=0.526, as_of_ms=1, age_seconds=age_seconds
    )
    return CostView(billed=None, estimate=estimate)


@dataclass
class BackendDouble:
    """Answers from scripts; an Exception in a script is raised instead."""

    name: str = AWS_TINYLLAMA
    can_stop: bool = True
    has_cost: bool = True
    can_wake: bool = True
    can_cancel: bool = True
    sends: list[Ticket | Exception] = field(default_factory=list)
    responses: list[Answer | Waiting | Exception] = field(default_factory=list)
    stops: list[NodePhase | Exception] = field(default_factory=list)
    costs: list[CostView | Exception] = field(default_factory=list)
    # What each wake answers (an Exception is raised); the idle minutes of each wake asked.
    woken: list[NodePhase | Exception] = field(default_factory=list)
    wakes: list[int] = field(default_factory=list)
    # What each cancel answers (an Exception is raised; None: "cancelling"); the ids asked.
    cancels: list[Answer | Exception | None] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    node: NodePhase = "stopped"
    nodes: tuple[NodeInfo, ...] = ()  # each node, as GET /status's `nodes` tells them
    sent: list[tuple[list[Message], int, str]] = field(default_factory=list)
    waits: list[int] = field(default_factory=list)
    on_poll: Callable[[], None] = lambda: None
    closed: bool = False

    def send_prompt(self, messages: list[Message], *, idle_minutes: int, key: str) -> Ticket:
        self.sent.append((messages, idle_minutes, key))
        if self.sends:
            ticket: Ticket = _next(self.sends)
            return ticket
        return Ticket(backend=self.name, id="job-1", phase="starting", messages=tuple(messages))

    def get_response(self, ticket: Ticket, *, wait_seconds: int) -> Answer | Waiting:
        self.waits.append(wait_seconds)
        self.on_poll()
        if self.responses:
            answer: Answer | Waiting = _next(self.responses)
            return answer
        return Answer(text="a reply", model="double-model", latency_ms=1500)

    def cancel(self, ticket: Ticket) -> Answer | None:
        self.cancelled.append(ticket.id)
        if not self.cancels:
            return None
        answer: Answer | None = _next(self.cancels)
        return answer

    def stop(self) -> NodePhase:
        self.node = _next(self.stops) if self.stops else "stopping"
        return self.node

    def wake(self, idle_minutes: int) -> NodePhase:
        self.wakes.append(idle_minutes)
        self.node = _next(self.woken) if self.woken else "starting"
        return self.node

    def cost(self) -> CostView:
        return _next(self.costs) if self.costs else cost_view()

    def fleet(self) -> Fleet:
        return Fleet(phase=self.node, nodes=self.nodes)

    def close(self) -> None:
        self.closed = True


@dataclass
class StreamingBackendDouble(BackendDouble):
    """A BackendDouble whose stream_response tells `told` to the listener, in order
    (("phase", phase), ("text", delta), ("restarted", "")), then gives `streamed`: an
    Answer, None (live text ended: poll), or an Exception to raise."""

    told: list[tuple[str, Any]] = field(default_factory=list)
    streamed: Answer | Exception | None = None
    streams: int = 0

    def stream_response(
        self, ticket: Ticket, listener: LiveListener, *, deadline: float
    ) -> Answer | None:
        self.streams += 1
        for kind, value in self.told:
            if kind == "phase":
                listener.phase(value)
            elif kind == "text":
                listener.text(value)
            else:
                listener.restarted()
        if isinstance(self.streamed, Exception):
            raise self.streamed
        return self.streamed


def _next(script: list[Any]) -> Any:
    item = script.pop(0)
    if isinstance(item, Exception):
        raise item
    return item
