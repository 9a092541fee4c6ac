"""gui/conversation.py: for any chat and a prompt that fits, the request is the longest run
of the newest turns that fits the byte cap with the prompt and starts with the user; a
prompt over the cap on its own is refused. Texts of every UTF-8 width, at the router's
6,144 bytes and at small caps, with turns big enough that trimming is the common case.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gui.conversation import Conversation
from tlfif.contracts import MAX_CONTENT_BYTES, Message, content_bytes
from tlfif.errors import InvalidInput

# 1 to 4 UTF-8 bytes each; a lone surrogate is not text (content_bytes refuses it).
CHARACTERS = st.characters(exclude_categories=["Cs"]) | st.sampled_from("aé€𝄞")
# What str.strip() keeps, so a prompt that ends with one is not empty.
VISIBLE = st.sampled_from("?x€𝄞")
caps = st.just(MAX_CONTENT_BYTES) | st.integers(8, 400)


@st.composite
def texts(draw: st.DrawFn, max_bytes: int) -> str:
    """A short run of characters repeated: any size up to max_bytes, cheap to draw."""
    unit = draw(st.text(CHARACTERS, min_size=1, max_size=6))
    return unit * draw(st.integers(0, max_bytes // len(unit.encode("utf-8"))))


@st.composite
def chats(draw: st.DrawFn, cap: int) -> Conversation:
    # Turns up to half the cap: a few fit with the prompt, and more than a few do not.
    turn = texts(cap // 2)
    chat = Conversation(max_bytes=cap)
    for prompt, reply in draw(st.lists(st.tuples(turn, turn), max_size=10)):
        chat.record(prompt, reply)
    return chat


@st.composite
def chats_and_prompts(draw: st.DrawFn) -> tuple[Conversation, str]:
    cap = draw(caps)
    chat = draw(chats(cap))
    prompt = draw(texts(cap - 4)) + draw(VISIBLE)
    # Often, pad the prompt so that the newest turns from some question on fill the cap
    # exactly, or overflow it by a byte: the boundary, which random sizes seldom hit.
    room = cap - len(prompt.encode("utf-8"))
    runs = [content_bytes(chat.messages[i:]) for i in range(0, len(chat.messages), 2)]
    fitting = [size for size in runs if 0 < size <= room]
    if draw(st.booleans()) and fitting:
        prompt += "x" * (room - draw(st.sampled_from(fitting)) + draw(st.sampled_from([0, 1])))
    return chat, prompt


def starts_with_the_user(messages: list[Message]) -> bool:
    return messages[0].role == "user"


@given(chats_and_prompts())
def test_a_request_is_the_longest_newest_run_of_turns_that_fits(
    chat_and_prompt: tuple[Conversation, str],
) -> None:
    chat, prompt = chat_and_prompt
    ask = Message(role="user", content=prompt)
    everything = [*chat.messages, ask]

    sent = chat.request_for(prompt)

    assert sent[-1] == ask
    assert content_bytes(sent) <= chat.max_bytes
    assert sent == everything[-len(sent) :]
    assert starts_with_the_user(sent)
    for longer in range(len(sent) + 1, len(everything) + 1):
        suffix = everything[-longer:]
        if starts_with_the_user(suffix):
            assert content_bytes(suffix) > chat.max_bytes, f"the newest {longer} fit too"


@given(chats_and_prompts(), st.integers(1, 4))
def test_a_prompt_over_the_cap_is_refused(
    chat_and_prompt: tuple[Conversation, str], over: int
) -> None:
    chat, prompt = chat_and_prompt
    unit = prompt.encode("utf-8")
    too_big = prompt * (chat.max_bytes // len(unit) + over)
    with pytest.raises(InvalidInput, match="UTF-8 bytes"):
        chat.request_for(too_big)
