"""Driving a real X11 window from a test: an Xvfb screen, real key and mouse events
through XTEST (xdotool), and the window's pixels (ImageMagick's import)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TOOLS = {"Xvfb": "xvfb", "xdotool": "xdotool", "import": "imagemagick"}
MISSING = [tool for tool in TOOLS if shutil.which(tool) is None]
SCREEN = "1280x800x24"


def missing_reason() -> str:
    packages = " ".join(TOOLS[tool] for tool in MISSING)
    return f"needs {', '.join(MISSING)} to drive a real window: apt-get install {packages}"


@contextmanager
def xvfb() -> Iterator[str]:
    """A fresh X server on a free display number (Xvfb picks it: -displayfd)."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not report its display number")
        yield f":{number}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_for(what: str, check: Callable[[], object], timeout: float = 60.0) -> object:
    """Poll `check` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


@dataclass
class Window:
    display: str
    id: str

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "DISPLAY": self.display}
        return subprocess.run(args, env=env, check=True, capture_output=True, timeout=30)

    def focus(self) -> None:
        # No window manager on Xvfb: give the window the X input focus ourselves.
        self._run("xdotool", "windowfocus", "--sync", self.id)

    def type(self, text: str) -> None:
        self._run("xdotool", "type", "--delay", "15", text)

    def key(self, *keys: str) -> None:
        self._run("xdotool", "key", "--delay", "50", *keys)

    def click(self, x: int, y: int) -> None:
        self._run("xdotool", "mousemove", "--window", self.id, str(x), str(y), "click", "1")

    def park_pointer(self) -> None:
        """The pointer to the window's bottom-left corner, away from every button."""
        self._run("xdotool", "mousemove", "--window", self.id, "2", "636")

    def save_png(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._run("import", "-window", self.id, str(path))

    def pixels(self) -> tuple[int, int, bytes]:
        """Width, height and RGB bytes of the window as shown now."""
        ppm = self._run("import", "-window", self.id, "-depth", "8", "ppm:-").stdout
        magic, width, height, maxval, data = ppm.split(maxsplit=4)
        assert magic == b"P6" and maxval == b"255", "expected an 8-bit binary PPM"
        return int(width), int(height), data

    def colour_at(self, x: int, y: int) -> tuple[int, int, int]:
        width, _, data = self.pixels()
        offset = (y * width + x) * 3
        red, green, blue = data[offset : offset + 3]
        return red, green, blue

    def find_colour(self, rgb: tuple[int, int, int]) -> Area | None:
        """Where the pixels of exactly this colour are (a button's face), or None."""
        width, _, data = self.pixels()
        target = bytes(rgb)
        xs, ys = [], []
        start = data.find(target)
        while start != -1:
            if start % 3 == 0:  # a whole pixel, not bytes straddling two
                xs.append(start // 3 % width)
                ys.append(start // 3 // width)
            start = data.find(target, start + 1)
        if len(xs) < 50:  # a few stray pixels of anti-aliased text are not a button
            return None
        return Area(min(xs), min(ys), max(xs), max(ys))


@dataclass(frozen=True)
class Area:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def centre(self) -> tuple[int, int]:
        return (self.left + self.right) // 2, (self.top + self.bottom) // 2

    @property
    def inside_left(self) -> tuple[int, int]:
        """A point inside the area, left of any centred text."""
        return self.left + 4, (self.top + self.bottom) // 2


def find_window(display: str, title: str, timeout: float = 60.0) -> Window:
    env = {**os.environ, "DISPLAY": display}

    def search() -> str | None:
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", f"^{title}$"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        ids = found.stdout.split()
        return ids[0] if ids else None

    return Window(display, str(wait_for(f"the {title!r} window", search, timeout)))
