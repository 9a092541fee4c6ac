"""bench/plot.py: a valid PNG of the size asked for, with the standard library alone."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from bench.plot import Canvas, Guide, Point, axis_top, line_plot


def chunks(png: bytes) -> dict[bytes, bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    found, at = {}, 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, body = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body)
        found[kind] = body
        at += 12 + length
    return found


def test_a_canvas_encodes_as_an_rgb_png_of_its_size() -> None:
    canvas = Canvas(7, 3)
    canvas.dot(6, 2, (1, 2, 3))
    found = chunks(canvas.png())
    assert struct.unpack(">IIBB", found[b"IHDR"][:10]) == (7, 3, 8, 2)
    rows = zlib.decompress(found[b"IDAT"])
    assert len(rows) == 3 * (1 + 7 * 3)
    assert rows[-3:] == bytes((1, 2, 3))
    assert b"IEND" in found


def test_the_axis_ends_on_a_round_number_above_the_highest_value() -> None:
    assert [axis_top(v) for v in (0, 0.7, 3, 1800, 5001)] == [1.0, 1.0, 5, 2000, 10000]


def test_a_plot_is_written_even_with_a_missing_point(tmp_path: Path) -> None:
    series: dict[str, list[Point | None]] = {"tlfif": [Point(3, 2, 4), None, Point(2, 2, 2)]}
    path = line_plot(
        tmp_path / "p.png", "drain", ["1k", "5k", "20k"], series, guides=(Guide(2.5, "goal"),)
    )
    assert struct.unpack(">II", chunks(path.read_bytes())[b"IHDR"][:8]) == (720, 420)
