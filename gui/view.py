"""What the controllers ask of the window (gui.window.MainWindow; a double in tests)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from gui.backend import Answer


class ChatView(Protocol):
    def show_prompt(self, backend: str, text: str, at: datetime) -> None: ...

    def show_reply(self, backend: str, answer: Answer, waited_seconds: float, at: datetime) -> None:
        """A reply in the OutputPane, with its latency and time stamp; it takes the place of
        the live text, if any."""
        ...

    def show_live_text(self, backend: str, delta: str) -> None:
        """More of the reply being generated, at the end of the OutputPane."""
        ...

    def void_live_text(self) -> None:
        """The live text goes: its generation started over, or the send failed."""
        ...

    def show_notice(self, text: str) -> None:
        """A line in the OutputPane that is not part of the chat (cold start, login)."""
        ...

    def show_error(self, text: str) -> None: ...

    def set_sending(self, sending: bool) -> None:
        """Send disabled and the spinner with the elapsed time running, or both back."""
        ...

    def set_stoppable(self, stoppable: bool) -> None:
        """While sending: Send becomes Stop (the reply on its way can be stopped), or goes
        back to a disabled Send (nothing to stop yet, or a stop is on its way)."""
        ...

    def set_phase(self, text: str) -> None:
        """The phase in words beside the spinner (starting, booting, generating)."""
        ...

    def set_stop_available(self, available: bool) -> None: ...

    def set_node(self, text: str) -> None: ...

    def set_cost(self, text: str) -> None: ...

    def clear_conversation(self) -> None: ...

    def restore_prompt(self, text: str) -> None:
        """Put an unsent prompt back in the PromptBox (if the user has not typed anew)."""
        ...
