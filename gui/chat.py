"""ChatController: what Send (and Stop, which it becomes while a reply is on its way),
Stop GPU, New chat, the idle Spinbox and the Backend dropdown do. Runs on the Tk thread;
every network call goes through the Scheduler.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from gui.backend import Answer, StreamingBackend, Ticket
from gui.backend_errors import BackendError, ReplyFailed
from gui.backends import BackendRegistry
from gui.conversation import Conversation
from gui.log import log_event
from gui.resilience import Retrying
from gui.scheduler import Scheduler
from gui.settings import MAX_IDLE_MINUTES, MIN_IDLE_MINUTES, GuiSettings, SettingsFile
from gui.view import ChatView
from tlfif.client.phase import DESCRIPTION, JobPhase
from tlfif.contracts import Message, NodePhase
from tlfif.errors import InvalidInput

# One long poll (?wait; the router caps it at 25 s, inside API Gateway's 30 s). It ends at
# once when the reply is signalled, but a phase change does not end it: short enough that
# each phase of a cold start shows as it comes (~30 polls for a 90 s cold start), as the CLI.
POLL_SECONDS = 3
# The least time between two polls, whatever the server does: never a tight loop.
MIN_POLL_INTERVAL_SECONDS = 1.0
# How long one send waits for its reply before giving up on it (the job goes on).
WAIT_TIMEOUT_SECONDS = 900.0
COLD_START_PHASES: frozenset[JobPhase] = frozenset({"starting", "booting", "loading"})
RESTARTED = "the generation started over (the job was taken again); its text so far is void"


class ChatController:
    def __init__(
        self,
        view: ChatView,
        backends: BackendRegistry,
        settings_file: SettingsFile,
        settings: GuiSettings,
        scheduler: Scheduler,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = datetime.now,
        wait_timeout: float = WAIT_TIMEOUT_SECONDS,
        min_poll_interval: float = MIN_POLL_INTERVAL_SECONDS,
        closing: threading.Event | None = None,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self._view = view
        self._backends = backends
        self._settings_file = settings_file
        self.settings = settings
        self._scheduler = scheduler
        self._clock = clock
        self._wall_clock = wall_clock
        self._wait_timeout = wait_timeout
        self._min_poll_interval = min_poll_interval
        self.conversation = Conversation()
        # Called once a send has ended (reply or failure), e.g. to refresh the node's phase
        # and the cost at once rather than at the ticker's next turn.
        self.on_settled: Callable[[], None] | None = None
        # The send on its way, if any; each send is its own object, so what a worker
        # hands back late (after Stop settled the send) is told apart from the next send's.
        self._sending: Sending | None = None
        self.phase: JobPhase | None = None
        # Set on close: waits and retries end at once.
        self.closing = closing or threading.Event()
        self._sleep = sleep or self.closing.wait

    @property
    def in_flight(self) -> bool:
        return self._sending is not None

    @property
    def backend_name(self) -> str:
        return self.settings.backend

    @property
    def cold_starting(self) -> bool:
        return self.phase in COLD_START_PHASES

    def start(self) -> None:
        self._view.set_stop_available(self._backends.entry(self.backend_name).can_stop)

    # --- Send -----------------------------------------------------------------------

    def send(self, prompt: str) -> bool:
        """Send `prompt` with the conversation so far; False if nothing was sent."""
        if self.in_flight:
            return False
        name = self.backend_name
        try:
            messages = self.conversation.request_for(prompt)
        except InvalidInput as exc:
            self._view.show_error(f"{name}: {exc.message}")
            return False
        sending = Sending(name, prompt, started=self._clock())
        self._sending = sending
        self._view.show_prompt(name, prompt, self._wall_clock())
        self._view.set_sending(True)
        self._show_phase(sending, None)
        idle = self.settings.idle_minutes
        log_event("send", name, messages=len(messages), idle_minutes=idle)
        self._scheduler.run(
            lambda: self._exchange(sending, messages, idle),
            lambda answer: self._replied(sending, answer),
            lambda error: self._failed(sending, error),
        )
        return True

    def _exchange(self, sending: Sending, messages: list[Message], idle: int) -> Answer:
        """Off the Tk thread: submit, then long-poll until the reply, under the retry rule."""
        name = sending.backend
        retrying = Retrying(
            name,
            lambda text: self._scheduler.post(lambda: self._view.show_notice(text)),
            self.closing,
            deadline=self._clock() + self._wait_timeout,
            clock=self._clock,
            sleep=self._sleep,
        )
        backend = self._backends.get(name)
        key = str(uuid.uuid4())  # one per send, reused by every retry of it
        ticket = retrying.call(lambda: backend.send_prompt(messages, idle_minutes=idle, key=key))
        if ticket.note:
            note = f"{name}: {ticket.note}"
            self._scheduler.post(lambda: self._view.show_notice(note))
        self._scheduler.post(lambda: self._accepted(sending, ticket))
        self._post_phase(sending, ticket.phase)
        if isinstance(backend, StreamingBackend):
            streamed = self._follow_live(sending, backend, ticket)
            if streamed is not None:
                return streamed
        while True:
            polled = self._clock()
            answer = retrying.call(lambda: backend.get_response(ticket, wait_seconds=POLL_SECONDS))
            if isinstance(answer, Answer):
                return answer
            self._post_phase(sending, answer.phase)
            if answer.node is not None:
                self._post_node(name, answer.node)
            rest = self._min_poll_interval - (self._clock() - polled)
            if rest > 0:
                self._sleep(rest)

    def _follow_live(
        self, sending: Sending, backend: StreamingBackend, ticket: Ticket
    ) -> Answer | None:
        """The reply with its text shown as it comes; None (the caller polls, under the
        retry rule) when live text cannot go on or the stream failed in any way: the
        reply is stored whole whatever became of the stream, and polling reads it."""
        live = LiveTextPane(
            phase=lambda phase: self._post_phase(sending, phase),
            text=lambda delta: self._scheduler.post(lambda: self._show_live(sending, delta)),
            restarted=lambda: self._scheduler.post(lambda: self._restart_live(sending)),
        )
        try:
            return backend.stream_response(
                ticket, live, deadline=self._clock() + self._wait_timeout
            )
        except BackendError as exc:
            log_event("live_ended", sending.backend, error=type(exc).__name__)
            return None

    def _accepted(self, sending: Sending, ticket: Ticket) -> None:
        """The job has an id: from now on Send is Stop, where the backend can cancel."""
        if self._sending is not sending:
            return
        sending.ticket = ticket
        if self._backends.entry(sending.backend).can_cancel:
            self._view.set_stoppable(True)

    def _post_phase(self, sending: Sending, phase: JobPhase) -> None:
        self._scheduler.post(lambda: self._show_phase(sending, phase))

    def _show_live(self, sending: Sending, delta: str) -> None:
        if self._sending is not sending:
            return  # a late delta of a send that has ended
        if self.phase != "generating":
            self._show_phase(sending, "generating")
        self._view.show_live_text(sending.backend, delta)

    def _restart_live(self, sending: Sending) -> None:
        if self._sending is sending:
            self._view.void_live_text()
            self._view.show_notice(f"{sending.backend}: {RESTARTED}")

    def _post_node(self, name: str, node: NodePhase) -> None:
        # The node's phase as the poll saw it: the label follows the cold start.
        self._scheduler.post(lambda: self._show_node(name, node))

    def _show_phase(self, sending: Sending, phase: JobPhase | None) -> None:
        if self._sending is not sending or sending.stopping:
            return  # a late progress report of a send that has ended, or is being stopped
        self.phase = phase
        words = DESCRIPTION[phase] if phase else "sending"
        self._view.set_phase(f"{sending.backend}: {words}")

    def _replied(self, sending: Sending, answer: Answer) -> None:
        if self._sending is not sending:
            return  # Stop settled this send already, with the same reply
        name, prompt = sending.backend, sending.prompt
        waited = self._clock() - sending.started
        if answer.text.strip():
            self.conversation.record(prompt, answer.text)
        self._finish()
        self._view.show_reply(name, answer, waited, self._wall_clock())
        if answer.stopped and not answer.text.strip():
            self._view.restore_prompt(prompt)  # stopped before any text: send it again?
        log_event(
            "reply",
            name,
            waited_s=round(waited, 1),
            latency_ms=answer.latency_ms,
            stopped=answer.stopped,
        )

    def _failed(self, sending: Sending, error: Exception) -> None:
        if self._sending is not sending:
            return
        name, prompt = sending.backend, sending.prompt
        self._finish()
        self._view.void_live_text()
        if isinstance(error, BackendError):
            text = error.message
        else:
            text = f"{name}: internal error ({type(error).__name__}: {error}); please report it"
        self._view.show_error(text)
        self._view.restore_prompt(prompt)
        log_event("send_failed", name, error=type(error).__name__)

    def _finish(self) -> None:
        self._sending = None
        self.phase = None
        self._view.set_sending(False)
        if self.on_settled is not None:
            self.on_settled()

    # --- Stop (the reply) ------------------------------------------------------------

    def stop_reply(self) -> None:
        """Cancel the reply on its way (POST /cancel/{id}, off the Tk thread): the
        cancelled reply, with its text so far, is the answer; a reply that landed first
        (409) is shown instead. Nothing happens before the job has an id."""
        sending = self._sending
        if sending is None or sending.ticket is None or sending.stopping:
            return  # Send is not Stop now; a key binding must not get round it
        if not self._backends.entry(sending.backend).can_cancel:
            return
        ticket, name = sending.ticket, sending.backend
        sending.stopping = True
        self._view.set_stoppable(False)
        self._view.set_phase(f"{name}: stopping the reply")
        log_event("stop_reply", name)
        self._scheduler.run(
            lambda: self._backends.get(name).cancel(ticket),
            lambda answer: self._stop_answered(sending, answer),
            lambda error: self._stop_reply_failed(sending, error),
        )

    def _stop_answered(self, sending: Sending, answer: Answer | None) -> None:
        if self._sending is not sending:
            return  # the reply came first, by the wait
        if answer is None:
            # 202 cancelling: the node stops it at its next tokens; the wait reads it.
            self._view.set_phase(f"{sending.backend}: stopping at the next tokens")
            return
        self._replied(sending, answer)

    def _stop_reply_failed(self, sending: Sending, error: Exception) -> None:
        if self._sending is not sending:
            return
        if isinstance(error, ReplyFailed):
            self._failed(sending, error)  # it landed first (409), and failed: that stands
            return
        sending.stopping = False
        text = error.message if isinstance(error, BackendError) else f"{sending.backend}: {error}"
        self._view.show_error(f"Stop failed: {text}; the reply is still coming")
        self._view.set_stoppable(True)
        log_event("stop_reply_failed", sending.backend, error=type(error).__name__)

    # --- Stop GPU, backend, idle, new chat -------------------------------------------

    def stop_gpu(self) -> None:
        name = self.backend_name
        if not self._backends.entry(name).can_stop:
            return  # the button is disabled; a key binding must not get round it
        self._view.set_node("Node: stop requested…")
        log_event("stop", name)
        self._scheduler.run(
            lambda: self._backends.get(name).stop(),
            lambda phase: self._stopped(name, phase),
            lambda error: self._stop_failed(name, error),
        )

    def _stopped(self, name: str, phase: NodePhase) -> None:
        log_event("node", name, node=phase)
        self._show_node(name, phase)

    def _show_node(self, name: str, phase: NodePhase) -> None:
        if name == self.backend_name:
            self._view.set_node(f"Node: {phase}")

    def _stop_failed(self, name: str, error: Exception) -> None:
        text = error.message if isinstance(error, BackendError) else f"{name}: {error}"
        self._view.show_error(f"Stop GPU failed: {text}")
        log_event("stop_failed", name, error=type(error).__name__)

    def switch_backend(self, name: str) -> None:
        if name == self.backend_name:
            return
        self._save(replace(self.settings, backend=name))
        self._view.set_stop_available(self._backends.entry(name).can_stop)
        log_event("backend_selected", name)

    def set_idle(self, minutes: int) -> bool:
        """The Spinbox's value, saved at once; False (and nothing saved) if out of range."""
        if not MIN_IDLE_MINUTES <= minutes <= MAX_IDLE_MINUTES:
            return False
        if minutes != self.settings.idle_minutes:
            self._save(replace(self.settings, idle_minutes=minutes))
        return True

    def new_chat(self) -> None:
        self.conversation.clear()
        self._view.clear_conversation()

    def close(self) -> None:
        self.closing.set()
        self._backends.close()

    def _save(self, settings: GuiSettings) -> None:
        self.settings = settings
        try:
            self._settings_file.save(settings)
        except OSError as exc:
            self._view.show_error(f"cannot save {self._settings_file.path}: {exc}")


@dataclass
class Sending:
    """One send, from Send until its reply (or failure) is shown."""

    backend: str
    prompt: str
    started: float  # monotonic
    ticket: Ticket | None = None  # once the backend has taken it: what Stop cancels
    stopping: bool = False  # Stop was pressed; its cancel is on its way


@dataclass(frozen=True)
class LiveTextPane:
    """A LiveListener whose calls, made on the worker thread, each post the work to the Tk
    thread (the Scheduler): no widget is touched off it."""

    phase: Callable[[JobPhase], None]
    text: Callable[[str], None]
    restarted: Callable[[], None]
