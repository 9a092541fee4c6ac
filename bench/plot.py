"""A line plot written as a PNG with the standard library alone (zlib): the bench's curves
(drain vs backlog) need no plotting library in the repo's venv.

Text is drawn in a 3x5 pixel font, upper case, scaled up; enough for a title, tick labels
and a legend. Each series is a line through its medians, with a bar from min to max.
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

Colour = tuple[int, int, int]

WHITE: Colour = (255, 255, 255)
BLACK: Colour = (0, 0, 0)
GREY: Colour = (200, 200, 200)
SERIES_COLOURS: tuple[Colour, ...] = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189))

# Each glyph: 5 rows of 3 pixels, left to right, top to bottom.
GLYPHS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001001010010", "8": "111101111101111",
    "9": "111101111001111", "A": "010101111101101", "B": "110101110101110",
    "C": "011100100100011", "D": "110101101101110", "E": "111100110100111",
    "F": "111100110100100", "G": "011100101101011", "H": "101101111101101",
    "I": "111010010010111", "J": "001001001101010", "K": "101101110101101",
    "L": "100100100100111", "M": "101111111101101", "N": "110101101101101",
    "O": "010101101101010", "P": "110101110100100", "Q": "010101101110011",
    "R": "110101110101101", "S": "011100010001110", "T": "111010010010010",
    "U": "101101101101111", "V": "101101101101010", "W": "101101111111101",
    "X": "101101010101101", "Y": "101101010010010", "Z": "111001010100111",
    " ": "000000000000000", ".": "000000000000010", ",": "000000000010100",
    "/": "001001010100100", "-": "000000111000000", "(": "010100100100010",
    ")": "010001001001010", ":": "000010000010000", "%": "101001010100101",
    "=": "000111000111000", ">": "100010001010100", "<": "001010100010001",
    "+": "000010111010000",
}  # fmt: skip


class Canvas:
    """RGB pixels, (0, 0) at the top left."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(WHITE * (width * height))

    def dot(self, x: int, y: int, colour: Colour) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            at = (y * self.width + x) * 3
            self.pixels[at : at + 3] = bytes(colour)

    def box(self, x0: int, y0: int, x1: int, y1: int, colour: Colour) -> None:
        for y in range(min(y0, y1), max(y0, y1) + 1):
            for x in range(min(x0, x1), max(x0, x1) + 1):
                self.dot(x, y, colour)

    def line(
        self, x0: int, y0: int, x1: int, y1: int, colour: Colour, thick: int = 1, dash: int = 0
    ) -> None:
        """Straight, `thick` pixels wide; with `dash`, that many pixels on, then off."""
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for step in range(steps + 1):
            if dash and (step // dash) % 2:
                continue
            x = round(x0 + (x1 - x0) * step / steps)
            y = round(y0 + (y1 - y0) * step / steps)
            self.box(x - thick // 2, y - thick // 2, x + (thick - 1) // 2, y + (thick - 1) // 2,
                     colour)  # fmt: skip

    def text(self, x: int, y: int, words: str, colour: Colour = BLACK, scale: int = 2) -> None:
        """From (x, y), the top left of the first glyph; unknown characters print as spaces."""
        for index, char in enumerate(words.upper()):
            glyph = GLYPHS.get(char, GLYPHS[" "])
            left = x + index * 4 * scale
            for bit, on in enumerate(glyph):
                if on == "1":
                    row, col = divmod(bit, 3)
                    px, py = left + col * scale, y + row * scale
                    self.box(px, py, px + scale - 1, py + scale - 1, colour)

    def png(self) -> bytes:
        rows = b"".join(
            b"\0" + bytes(self.pixels[y * self.width * 3 : (y + 1) * self.width * 3])
            for y in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + b"".join(
            _chunk(kind, body)
            for kind, body in ((b"IHDR", header), (b"IDAT", zlib.compress(rows, 9)), (b"IEND", b""))
        )


def text_width(words: str, scale: int = 2) -> int:
    return len(words) * 4 * scale - scale


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@dataclass(frozen=True)
class Point:
    median: float
    low: float
    high: float


@dataclass(frozen=True)
class Guide:
    """A dashed horizontal line at `value`, labelled: a goal, say."""

    value: float
    label: str


def axis_top(highest: float) -> float:
    """A round number (1, 2 or 5 times a power of ten) at or above `highest`."""
    if highest <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(highest))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= highest)


def line_plot(
    path: Path,
    title: str,
    x_labels: list[str],
    series: dict[str, list[Point | None]],
    x_title: str = "",
    guides: tuple[Guide, ...] = (),
    width: int = 720,
    height: int = 420,
) -> Path:
    """One line per series over evenly spaced categories, y from 0; written to `path`."""
    canvas = Canvas(width, height)
    left, right, top, bottom = 90, width - 30, 50, height - 64
    values = [p.high for points in series.values() for p in points if p is not None]
    y_top = axis_top(max([*values, *(g.value for g in guides)], default=1.0) * 1.1)

    def y_of(value: float) -> int:
        return round(bottom - (bottom - top) * value / y_top)

    def x_of(index: int) -> int:
        return round(left + (right - left) * (index + 0.5) / len(x_labels))

    canvas.text((width - text_width(title)) // 2, 16, title)
    for tick in range(6):
        value = y_top * tick / 5
        y = y_of(value)
        canvas.line(left, y, right, y, GREY)
        label = f"{value:,.0f}"
        canvas.text(left - 10 - text_width(label), y - 5, label)
    canvas.line(left, top, left, bottom, BLACK, thick=2)
    canvas.line(left, bottom, right, bottom, BLACK, thick=2)
    for index, label in enumerate(x_labels):
        canvas.text(x_of(index) - text_width(label) // 2, bottom + 12, label)
    canvas.text((left + right - text_width(x_title)) // 2, bottom + 36, x_title)
    for number, guide in enumerate(guides, start=len(series)):
        y = y_of(guide.value)
        canvas.line(left, y, right, y, BLACK, dash=6)
        # In the legend, not beside the line: the curves it is a goal for run close to it.
        legend_y = top + 12 + number * 16
        canvas.line(left + 12, legend_y, left + 24, legend_y, BLACK, dash=3)
        canvas.text(left + 32, legend_y - 5, guide.label)
    for number, (name, points) in enumerate(series.items()):
        colour = SERIES_COLOURS[number % len(SERIES_COLOURS)]
        placed = [(x_of(i), p) for i, p in enumerate(points) if p is not None]
        for (x0, p0), (x1, p1) in itertools.pairwise(placed):
            canvas.line(x0, y_of(p0.median), x1, y_of(p1.median), colour, thick=3)
        for x, point in placed:
            canvas.line(x, y_of(point.low), x, y_of(point.high), colour)
            canvas.line(x - 5, y_of(point.low), x + 5, y_of(point.low), colour)
            canvas.line(x - 5, y_of(point.high), x + 5, y_of(point.high), colour)
            canvas.box(x - 4, y_of(point.median) - 4, x + 4, y_of(point.median) + 4, colour)
        legend_y = top + 8 + number * 16
        canvas.box(left + 12, legend_y, left + 24, legend_y + 8, colour)
        canvas.text(left + 32, legend_y - 1, name)
    path.write_bytes(canvas.png())
    return path
