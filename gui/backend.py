"""What the GUI asks of a backend (BackendClient) and what comes back through it.

The seed's dual-backend rule: the window behaves the same whichever backend answers, so
everything backend-specific stays behind this Protocol. A capability a backend lacks is
declared (`can_stop`, `has_cost`, `can_wake`, `can_cancel`) and the window shows it as such,
never faked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

from tlfif.client.live import LiveListener
from tlfif.client.phase import JobPhase
from tlfif.contracts import CostView, Message, NodeInfo, NodePhase

AWS_TINYLLAMA: Final = "AWS TinyLlama"
OPENAI: Final = "OpenAI"
# The dropdown's order; the first is the default (seed section 12).
BACKEND_NAMES: Final = (AWS_TINYLLAMA, OPENAI)


@dataclass(frozen=True)
class Ticket:
    """A prompt a backend accepted: what to ask for next, and the phase to show meanwhile."""

    backend: str
    id: str
    phase: JobPhase
    messages: tuple[Message, ...] = ()
    note: str | None = None  # e.g. why the node did not start yet (the job stays queued)


@dataclass(frozen=True)
class Waiting:
    """No reply yet; the job is in this phase, and the node (if the backend has one) in
    that one."""

    phase: JobPhase
    node: NodePhase | None = None


@dataclass(frozen=True)
class Fleet:
    """Where the GPU nodes are: the fleet's one phase, and each node's as the router tells
    (GET /status's `nodes`; none from an older router)."""

    phase: NodePhase
    nodes: tuple[NodeInfo, ...] = ()


@dataclass(frozen=True)
class Answer:
    text: str
    model: str | None
    # The engine's own generation time when the backend reports it, else None.
    latency_ms: int | None
    # The reply was cancelled (Stop, or `tlfif cancel`): `text` is what came before it.
    stopped: bool = False


class BackendClient(Protocol):
    """One place prompts can go. Every method may block: callers run them off the Tk thread.

    Failures are BackendError subclasses (gui.backend_errors) that name this backend.
    """

    name: str
    can_stop: bool
    has_cost: bool
    can_wake: bool  # POST /wake: start the node ahead of a prompt (ADR 0029)
    can_cancel: bool  # POST /cancel/{id}: stop a reply on its way (ADR 0030)

    def send_prompt(self, messages: list[Message], *, idle_minutes: int, key: str) -> Ticket:
        """Hand the conversation over. `key` is the same for every retry of one send."""
        ...

    def get_response(self, ticket: Ticket, *, wait_seconds: int) -> Answer | Waiting:
        """The reply, or where the job is after waiting up to `wait_seconds` for it."""
        ...

    def cancel(self, ticket: Ticket) -> Answer | None:
        """Stop the reply on its way: the cancelled reply (its text so far), or the reply
        that landed before the cancel; None when the node stops it at its next tokens (the
        reply then comes as any other). NotSupported if the backend cannot."""
        ...

    def stop(self) -> NodePhase:
        """Stop the GPU node now; the node's phase afterwards. NotSupported if none."""
        ...

    def wake(self, idle_minutes: int) -> NodePhase:
        """Start the GPU node ahead of a prompt; it stays up `idle_minutes` if none comes.
        A hold on the node is left alone (typing is no prompt). The node's phase
        afterwards. NotSupported if none."""
        ...

    def cost(self) -> CostView:
        """This month's spend and live estimate. NotSupported if the backend has none."""
        ...

    def fleet(self) -> Fleet:
        """Where the GPU nodes are. NotSupported if the backend has none."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class StreamingBackend(BackendClient, Protocol):
    """A backend that shows a reply's text as it is generated (TL-FIF's own router)."""

    def stream_response(
        self, ticket: Ticket, listener: LiveListener, *, deadline: float
    ) -> Answer | None:
        """The reply, its text told to `listener` as it comes, until `deadline` (monotonic);
        None when live text cannot go on: the caller polls get_response instead."""
        ...
