"""MainWindow: the Tk widgets of seed 1.1 and section 12, and nothing but drawing.

PromptBox, SendBtn (green; a red Stop while a reply is on its way), StopGpuBtn (red),
IdleTimeout, CostLabel, OutputPane and the Backend dropdown. It implements
gui.view.ChatView; what a click or key means is decided by the controllers, wired in
gui.app.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Callable
from datetime import datetime
from tkinter import font, scrolledtext, ttk

from gui.backend import Answer
from gui.desktop import send_shortcuts
from gui.settings import MAX_IDLE_MINUTES, MIN_IDLE_MINUTES

GREEN, GREEN_ACTIVE = "#2e7d32", "#388e3c"
RED, RED_ACTIVE = "#c62828", "#d32f2f"
DISABLED_BG, DISABLED_FG = "#d6d6d6", "#8a8a8a"
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
LIVE = "live_reply"  # the Text mark where the live reply's block starts
TICK_MS = 200


class MainWindow:
    def __init__(self, root: tk.Tk, backend_names: list[str], backend: str, idle: int) -> None:
        self.root = root
        self.on_send: Callable[[str], bool] = lambda text: False
        # Any key in the PromptBox: a prompt is coming (wake-ahead, gui/wake_ahead.py).
        self.on_typing: Callable[[], None] = lambda: None
        self.on_stop: Callable[[], None] = lambda: None
        # Send as Stop (or Escape) while a reply is on its way: cancel it.
        self.on_stop_reply: Callable[[], None] = lambda: None
        self._stoppable = False
        self.on_new_chat: Callable[[], None] = lambda: None
        self.on_backend: Callable[[str], None] = lambda name: None
        self.on_idle: Callable[[int], bool] = lambda minutes: False
        self._saved_idle = idle
        self._sending_since: float | None = None
        self._phase = ""
        self._spin = 0
        self._live = False  # a reply's text is being drawn live, from the mark LIVE on
        root.title("TL-FIF")
        root.geometry("900x640")
        root.minsize(640, 420)
        self._styles()
        self._toolbar(backend_names, backend, idle)
        self._output_pane()
        self._prompt_row()
        self._status_row()
        self._keys()
        self.prompt.focus_set()

    # --- layout ---------------------------------------------------------------------

    def _styles(self) -> None:
        style = ttk.Style(self.root)
        # Native themes (aqua, vista) ignore button colours; the seed wants a green Send
        # and a red Stop GPU, which "clam" draws on every platform.
        style.theme_use("clam")
        for name, colour, active in (("Send", GREEN, GREEN_ACTIVE), ("Stop", RED, RED_ACTIVE)):
            style.configure(f"{name}.TButton", background=colour, foreground="white")
            style.map(
                f"{name}.TButton",
                background=[("disabled", DISABLED_BG), ("active", active)],
                foreground=[("disabled", DISABLED_FG)],
            )
        base = font.nametofont("TkDefaultFont")
        self._bold = base.copy()
        self._bold.configure(weight="bold")
        self._small = base.copy()
        self._small.configure(size=max(8, int(base.cget("size")) - 1))

    def _toolbar(self, names: list[str], backend: str, idle: int) -> None:
        bar = ttk.Frame(self.root, padding=(8, 8, 8, 4))
        bar.pack(side="top", fill="x")
        ttk.Label(bar, text="Backend:", underline=0).pack(side="left")
        self.backend_var = tk.StringVar(value=backend)
        self.backend_box = ttk.Combobox(
            bar, textvariable=self.backend_var, values=names, state="readonly", width=15
        )
        self.backend_box.pack(side="left", padx=(4, 12))
        self.backend_box.bind(
            "<<ComboboxSelected>>", lambda e: self.on_backend(self.backend_var.get())
        )
        ttk.Label(bar, text="Idle min:", underline=0).pack(side="left")
        self.idle_var = tk.StringVar(value=str(idle))
        self.idle_box = ttk.Spinbox(
            bar,
            from_=MIN_IDLE_MINUTES,
            to=MAX_IDLE_MINUTES,
            increment=1,
            width=4,
            textvariable=self.idle_var,
            wrap=False,
        )
        self.idle_box.pack(side="left", padx=(4, 12))
        self.idle_var.trace_add("write", lambda *args: self._idle_changed())
        self.idle_box.bind("<FocusOut>", lambda e: self.idle_var.set(str(self._saved_idle)))
        self.new_chat_btn = ttk.Button(bar, text="New chat", underline=0, command=self._new_chat)
        self.new_chat_btn.pack(side="left")
        self.stop_btn = ttk.Button(
            bar, text="Stop GPU", underline=0, style="Stop.TButton", command=self.on_stop_clicked
        )
        self.stop_btn.pack(side="left", padx=(12, 6))
        self.node_label = ttk.Label(bar, text="Node: …")
        self.node_label.pack(side="left")

    def _output_pane(self) -> None:
        self.output = scrolledtext.ScrolledText(
            self.root, wrap="word", height=18, state="disabled", padx=8, pady=6, relief="flat"
        )
        self.output.pack(side="top", fill="both", expand=True, padx=8)
        self.output.tag_configure("head", font=self._bold, spacing1=8)
        self.output.tag_configure("meta", font=self._small, foreground="#666666")
        self.output.tag_configure("you", foreground="#1a237e")
        self.output.tag_configure("notice", foreground="#8d6e00", font=self._small)
        self.output.tag_configure("error", foreground=RED)

    def _prompt_row(self) -> None:
        row = ttk.Frame(self.root, padding=(8, 6, 8, 0))
        row.pack(side="top", fill="x")
        self.prompt = tk.Text(row, height=5, wrap="word", undo=True, relief="solid", borderwidth=1)
        self.prompt.pack(side="left", fill="x", expand=True)
        self.send_btn = ttk.Button(
            row, text="Send", style="Send.TButton", command=self._send_clicked, width=6
        )
        self.send_btn.pack(side="left", fill="y", padx=(8, 0))

    def _status_row(self) -> None:
        row = ttk.Frame(self.root, padding=(8, 4, 8, 8))
        row.pack(side="top", fill="x")
        # Determinate and empty at rest; indeterminate (the spinner) while a send waits.
        self.progress = ttk.Progressbar(row, mode="determinate", value=0, length=140)
        self.progress.pack(side="left")
        # Packed before the phase, so a long phase text cannot cover the cost.
        # A tk.Label, as the seed names it.
        self.cost_label = tk.Label(row, text="Cost: …", anchor="e")
        self.cost_label.pack(side="right")
        self.phase_label = ttk.Label(row, text="Ctrl+Enter sends")
        self.phase_label.pack(side="left", padx=(8, 8), fill="x", expand=True)

    def _keys(self) -> None:
        # No "break": the key still types; the wake it may ask for runs off the Tk thread.
        self.prompt.bind("<Key>", lambda e: self.on_typing())
        for sequence in send_shortcuts():
            # "break": Ctrl+Enter sends instead of adding a line to the prompt.
            self.prompt.bind(sequence, _breaking(self._send))
        # Alt+ the underlined letter, for keyboard users.
        self.root.bind_all("<Alt-b>", _breaking(self.backend_box.focus_set))
        self.root.bind_all("<Alt-i>", _breaking(self._focus_idle))
        self.root.bind_all("<Alt-n>", _breaking(self._new_chat))
        self.root.bind_all("<Alt-s>", _breaking(self.on_stop_clicked))
        self.root.bind_all("<Escape>", lambda e: self._stop_reply())

    # --- user actions ---------------------------------------------------------------

    def _send_clicked(self) -> None:
        if self._stoppable:
            self._stop_reply()
        else:
            self._send()

    def _stop_reply(self) -> None:
        if self._stoppable:
            self.on_stop_reply()

    def _send(self) -> None:
        if "disabled" in self.send_btn.state() or self._stoppable:
            return
        text = self.prompt.get("1.0", "end-1c")
        if self.on_send(text):
            self.prompt.delete("1.0", "end")

    def on_stop_clicked(self) -> None:
        if "disabled" not in self.stop_btn.state():
            self.on_stop()

    def _new_chat(self) -> None:
        self.on_new_chat()

    def _focus_idle(self) -> None:
        self.idle_box.focus_set()
        self.idle_box.selection_range(0, "end")
        self.idle_box.icursor("end")

    def _idle_changed(self) -> None:
        try:
            minutes = int(self.idle_var.get())
        except ValueError:
            return  # half-typed; FocusOut puts the saved value back
        if self.on_idle(minutes):
            self._saved_idle = minutes

    # --- ChatView -------------------------------------------------------------------

    def show_prompt(self, backend: str, text: str, at: datetime) -> None:
        self._append(
            (f"You → {backend}", "head"), (f"  {at:%H:%M:%S}\n", "meta"), (f"{text}\n", "you")
        )

    def show_reply(self, backend: str, answer: Answer, waited_seconds: float, at: datetime) -> None:
        # The stored reply replaces the live text: it is the answer, whatever the stream said.
        self.void_live_text()
        facts = [f"{at:%H:%M:%S}", f"waited {waited_seconds:.1f} s"]
        if answer.latency_ms is not None:
            facts.insert(1, f"latency {answer.latency_ms / 1000:.1f} s")
        if answer.model:
            facts.append(answer.model)
        if answer.stopped:
            facts.append("stopped")
        text = answer.text.strip() or ("(stopped before any text)" if answer.stopped else "")
        self._append(
            (backend, "head"),
            (f"  {' · '.join(facts)}\n", "meta"),
            (f"{text}\n", ""),
        )

    def show_live_text(self, backend: str, delta: str) -> None:
        if not self._live:
            # Left gravity: the mark stays before the text inserted after it.
            self.output.mark_set(LIVE, "end-1c")
            self.output.mark_gravity(LIVE, "left")
            self._live = True
            self._append((backend, "head"), ("  generating…\n", "meta"))
        self._append((delta, ""))

    def void_live_text(self) -> None:
        if self._live:
            self.output.configure(state="normal")
            self.output.delete(LIVE, "end-1c")
            self.output.configure(state="disabled")
            self._live = False

    def show_notice(self, text: str) -> None:
        self._append((f"{text}\n", "notice"))

    def show_error(self, text: str) -> None:
        self._append((f"{text}\n", "error"))

    def set_sending(self, sending: bool) -> None:
        if sending:
            self.send_btn.state(["disabled"])
            self.progress.configure(mode="indeterminate")
            self.progress.start(15)
            self._sending_since = time.monotonic()
            self._tick()
        else:
            self._stoppable = False
            self.send_btn.configure(text="Send", style="Send.TButton")
            self.send_btn.state(["!disabled"])
            self.progress.stop()
            self.progress.configure(mode="determinate", value=0)
            self._sending_since = None
            self.phase_label.configure(text="Ctrl+Enter sends")

    def set_stoppable(self, stoppable: bool) -> None:
        # Red and enabled as Stop; a stop on its way shows a disabled Stop until it lands.
        self._stoppable = stoppable
        self.send_btn.configure(text="Stop", style="Stop.TButton")
        self.send_btn.state(["!disabled"] if stoppable else ["disabled"])

    def set_phase(self, text: str) -> None:
        self._phase = text
        self._render_phase()

    def set_stop_available(self, available: bool) -> None:
        self.stop_btn.state(["!disabled"] if available else ["disabled"])

    def set_node(self, text: str) -> None:
        self.node_label.configure(text=text)

    def set_cost(self, text: str) -> None:
        self.cost_label.configure(text=text)

    def clear_conversation(self) -> None:
        self._live = False
        self.output.configure(state="normal")
        self.output.delete("1.0", "end")
        self.output.configure(state="disabled")

    def restore_prompt(self, text: str) -> None:
        if not self.prompt.get("1.0", "end-1c").strip():
            self.prompt.insert("1.0", text)

    # --- drawing --------------------------------------------------------------------

    def _append(self, *parts: tuple[str, str]) -> None:
        self.output.configure(state="normal")
        for text, tag in parts:
            self.output.insert("end", text, (tag,) if tag else ())
        self.output.configure(state="disabled")
        self.output.see("end")

    def _tick(self) -> None:
        if self._sending_since is None:
            return
        self._spin = (self._spin + 1) % len(SPINNER)
        self._render_phase()
        self.root.after(TICK_MS, self._tick)

    def _render_phase(self) -> None:
        if self._sending_since is None:
            return
        elapsed = time.monotonic() - self._sending_since
        self.phase_label.configure(text=f"{SPINNER[self._spin]} {self._phase} · {elapsed:.0f} s")


def _breaking(action: Callable[[], object]) -> Callable[[tk.Event[tk.Misc]], str]:
    """An event handler that runs `action` and stops Tk's own handling of the event."""

    def handler(event: tk.Event[tk.Misc]) -> str:
        action()
        return "break"

    return handler
