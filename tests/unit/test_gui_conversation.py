"""gui/conversation.py: each send carries the chat so far, cut to the 6144-byte cap."""

from __future__ import annotations

import pytest

from gui.conversation import Conversation
from tlfif.contracts import MAX_CONTENT_BYTES, Message, content_bytes
from tlfif.errors import InvalidInput


def test_a_first_prompt_goes_alone() -> None:
    assert Conversation().request_for("hello") == [Message(role="user", content="hello")]


def test_later_prompts_carry_the_whole_conversation_in_order() -> None:
    chat = Conversation()
    chat.record("one", "reply one")
    chat.record("two", "reply two")
    sent = chat.request_for("three")
    assert [(m.role, m.content) for m in sent] == [
        ("user", "one"),
        ("assistant", "reply one"),
        ("user", "two"),
        ("assistant", "reply two"),
        ("user", "three"),
    ]


def test_the_oldest_turns_are_dropped_until_the_rest_fits() -> None:
    chat = Conversation()
    for n in range(10):
        chat.record(f"q{n} " + "x" * 500, f"a{n} " + "y" * 500)
    sent = chat.request_for("now")
    assert content_bytes(sent) <= MAX_CONTENT_BYTES
    assert sent[-1] == Message(role="user", content="now")
    # Newest kept, oldest gone, and the chat still starts with the user.
    assert sent[0].role == "user"
    assert sent[-2].content.startswith("a9 ")
    assert not any(m.content.startswith("q0 ") for m in sent)
    # Everything that fits is kept: one more turn would not have fitted.
    dropped = [m for m in chat.messages if m not in sent]
    assert content_bytes([*dropped[-2:], *sent]) > MAX_CONTENT_BYTES


def test_the_cap_counts_utf8_bytes_not_characters() -> None:
    chat = Conversation(max_bytes=12)
    chat.record("ü", "é")  # 2 bytes each
    assert [m.content for m in chat.request_for("€€")] == ["ü", "é", "€€"]  # 10 bytes
    # 5 characters, but 13 bytes: the earlier turn goes.
    assert [m.content for m in chat.request_for("€€€")] == ["€€€"]


def test_a_reply_whose_question_was_dropped_goes_too() -> None:
    chat = Conversation(max_bytes=20)
    chat.record("a" * 9, "b" * 5)
    # 9 + 5 + 8 > 20: the question goes; the lone reply would start the chat, so it goes.
    assert chat.request_for("c" * 8) == [Message(role="user", content="c" * 8)]


def test_a_prompt_over_the_cap_alone_is_refused_before_sending() -> None:
    with pytest.raises(InvalidInput, match=f"at most {MAX_CONTENT_BYTES}"):
        Conversation().request_for("é" * (MAX_CONTENT_BYTES // 2 + 1))


def test_an_empty_prompt_is_refused() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        Conversation().request_for("  \n")


def test_new_chat_forgets_everything() -> None:
    chat = Conversation()
    chat.record("q", "a")
    chat.clear()
    assert chat.request_for("fresh") == [Message(role="user", content="fresh")]
