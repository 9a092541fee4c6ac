"""`tlfif login` answering Cognito's challenges: a new password, pairing an authenticator
app, its code. From the terminal, or from further lines of stdin after --password-stdin
(one answer a line, in the order Cognito asks)."""

from __future__ import annotations

import sys

from rich.console import Console

from tlfif.errors import InvalidInput


class TerminalAnswers:
    """ChallengeAnswers from the person at the terminal, or from stdin's next lines."""

    def __init__(self, err: Console, *, from_stdin: bool) -> None:
        self.err = err
        self.from_stdin = from_stdin

    def new_password(self) -> str:
        self.err.print("Cognito asks for a new password (the one you were given was temporary).")
        if self.from_stdin:
            return self._line("the new password")
        first = self._ask("new password: ", secret=True)
        if self._ask("the same again: ", secret=True) != first:
            raise InvalidInput("the two new passwords differ; run `tlfif login` again")
        return first

    def pair_authenticator(self, secret: str, uri: str) -> None:
        self.err.print(
            "This pool asks for a second factor. Add TL-FIF to your authenticator app with "
            f"the secret {secret}\n(or the key URI {uri}), then give its code."
        )

    def authenticator_code(self) -> str:
        code = self._line("the code") if self.from_stdin else self._ask("authenticator code: ")
        code = code.replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            raise InvalidInput("an authenticator code is six digits")
        return code

    def _line(self, what: str) -> str:
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput(f"stdin ended before {what}: give each answer on a line of its own")
        return line.rstrip("\r\n")

    def _ask(self, prompt: str, *, secret: bool = False) -> str:
        if not sys.stdin.isatty():
            raise InvalidInput("no terminal to ask on: pipe the answers in with --password-stdin")
        try:
            return self.err.input(prompt, password=secret).strip()
        except EOFError:
            raise InvalidInput("no answer given") from None
