"""~/.tl-fif.ini: the GUI's settings (backend choice, idle minutes, endpoints), kept
between runs with configparser.

The window saves each change at once, so a crash or a kill loses nothing. A value the
file cannot mean fails at start, naming the key and the file, as every TL-FIF setting does.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from gui.backend import AWS_TINYLLAMA, BACKEND_NAMES
from gui.desktop import restrict_to_owner
from gui.openai_backend import DEFAULT_MODEL, OFFICIAL_BASE_URL
from tlfif.client.config import DEFAULT_PROFILE
from tlfif.contracts import DEFAULT_IDLE_MINUTES
from tlfif.errors import ConfigError

MIN_IDLE_MINUTES, MAX_IDLE_MINUTES = 1, 30
# The loopback port the deployed stack's desktop app client names in its callback URL
# (infra: desktop_callback_port); Cognito matches callback URLs exactly, port included.
DEFAULT_CALLBACK_PORT = 53682


@dataclass(frozen=True)
class GuiSettings:
    # [gui]
    backend: str = AWS_TINYLLAMA
    idle_minutes: int = DEFAULT_IDLE_MINUTES
    # Start the GPU node when typing begins (POST /wake, ADR 0029): each wake no prompt
    # follows costs boot + idle minutes of GPU (`tlfif cost` says how much).
    wake_ahead: bool = True
    # [aws]: the stack profile (`make up` writes `local`); the rest override it for a
    # deployed stack: endpoint = its api_url, hosted_ui + client_id = the desktop client.
    profile: str = DEFAULT_PROFILE
    endpoint: str = ""
    hosted_ui: str = ""
    client_id: str = ""
    callback_port: int = DEFAULT_CALLBACK_PORT
    # [openai]
    base_url: str = OFFICIAL_BASE_URL
    model: str = DEFAULT_MODEL
    api_key: str = ""


SECTIONS: dict[str, tuple[str, ...]] = {
    "gui": ("backend", "idle_minutes", "wake_ahead"),
    "aws": ("profile", "endpoint", "hosted_ui", "client_id", "callback_port"),
    "openai": ("base_url", "model", "api_key"),
}
INTEGER_KEYS = frozenset({"idle_minutes", "callback_port"})
BOOLEAN_KEYS = frozenset({"wake_ahead"})


class SettingsFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> GuiSettings:
        """The file's settings over the defaults; a missing file means all defaults."""
        # "key = value   ; a comment", as in the README's example.
        parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",))
        try:
            parser.read(self.path, encoding="utf-8")
        except configparser.Error as exc:
            raise ConfigError(f"{self.path} is not an ini file: {exc}") from None
        found: dict[str, str | int | bool] = {}
        for section, keys in SECTIONS.items():
            if not parser.has_section(section):
                continue
            for key, value in parser.items(section):
                if key not in keys:
                    raise ConfigError(f"{self.path}: unknown setting [{section}] {key}")
                found[key] = self._parse(section, key, value.strip())
        return self._checked(replace(GuiSettings(), **found))  # type: ignore[arg-type]

    def save(self, settings: GuiSettings) -> None:
        values = asdict(settings)
        parser = configparser.ConfigParser(interpolation=None)
        for section, keys in SECTIONS.items():
            parser[section] = {key: str(values[key]) for key in keys}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        # Owner-only before anything is written: the file may hold an API key.
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            parser.write(handle)
        restrict_to_owner(tmp)
        os.replace(tmp, self.path)

    def _parse(self, section: str, key: str, value: str) -> str | int | bool:
        if key in BOOLEAN_KEYS:
            try:
                return configparser.ConfigParser.BOOLEAN_STATES[value.lower()]
            except KeyError:
                raise ConfigError(
                    f"{self.path}: [{section}] {key} = {value!r}; true or false"
                ) from None
        if key not in INTEGER_KEYS:
            return value
        try:
            return int(value)
        except ValueError:
            raise ConfigError(
                f"{self.path}: [{section}] {key} = {value!r} is not a whole number"
            ) from None

    def _checked(self, settings: GuiSettings) -> GuiSettings:
        if settings.backend not in BACKEND_NAMES:
            raise ConfigError(
                f"{self.path}: [gui] backend = {settings.backend!r}; "
                f"one of {', '.join(BACKEND_NAMES)}"
            )
        if not MIN_IDLE_MINUTES <= settings.idle_minutes <= MAX_IDLE_MINUTES:
            raise ConfigError(
                f"{self.path}: [gui] idle_minutes = {settings.idle_minutes}; "
                f"between {MIN_IDLE_MINUTES} and {MAX_IDLE_MINUTES}"
            )
        if not 1 <= settings.callback_port <= 65535:
            raise ConfigError(f"{self.path}: [aws] callback_port = {settings.callback_port}")
        return settings
