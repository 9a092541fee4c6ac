"""The chat so far, and the part of it that fits in one request.

Each send carries the conversation as `messages`, the same for both backends. The router
accepts at most MAX_CONTENT_BYTES of content (UTF-8 bytes), so the oldest turns are
dropped until the rest fits; the window keeps showing them.
"""

from __future__ import annotations

from tlfif.contracts import MAX_CONTENT_BYTES, Message, content_bytes
from tlfif.errors import InvalidInput


class Conversation:
    def __init__(self, max_bytes: int = MAX_CONTENT_BYTES) -> None:
        self.max_bytes = max_bytes
        self._messages: list[Message] = []

    @property
    def messages(self) -> list[Message]:
        return list(self._messages)

    def clear(self) -> None:
        self._messages.clear()

    def record(self, prompt: str, reply: str) -> None:
        """A finished exchange. Failed sends are not recorded, so they are not resent."""
        self._messages += [
            Message(role="user", content=prompt),
            Message(role="assistant", content=reply),
        ]

    def request_for(self, prompt: str) -> list[Message]:
        """The messages to send with `prompt`: the newest turns that fit with it."""
        if not prompt.strip():
            raise InvalidInput("the prompt is empty")
        ask = Message(role="user", content=prompt)
        size = content_bytes([ask])
        if size > self.max_bytes:
            raise InvalidInput(
                f"the prompt is {size} UTF-8 bytes; at most {self.max_bytes} are accepted"
            )
        history = list(self._messages)
        while history and content_bytes([*history, ask]) > self.max_bytes:
            history.pop(0)
        # A chat starts with the user: a reply whose question was dropped goes too.
        while history and history[0].role != "user":
            history.pop(0)
        return [*history, ask]
