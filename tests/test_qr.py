"""mfakit.qr: each rendering carries exactly segno's QR matrix for the URI."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
import zlib
from urllib.parse import unquote

import pytest
import segno

import mfakit.qr
from mfakit.errors import ConfigurationError
from mfakit.otp import TOTP
from mfakit.qr import render_png, render_svg, render_svg_data_uri, render_terminal

URI = TOTP(b"12345678901234567890").uri(account_name="alice@example.com", issuer="ACME Co")
SVG_NS = "{http://www.w3.org/2000/svg}"


def _xml(text: str) -> ET.Element:
    """Parse mfakit's own SVG output (trusted: we just generated it)."""
    return ET.fromstring(text)  # noqa: S314 - our own output, not untrusted input


def _expected(border: int = 4) -> list[list[int]]:
    """The reference matrix: segno's own encoding of the URI, level M, with the quiet zone."""
    code = segno.make(URI, error="M", micro=False)
    return [list(row) for row in code.matrix_iter(scale=1, border=border)]


def _png_rows(data: bytes) -> tuple[int, int, list[list[int]]]:
    """Decode a 1-bit greyscale PNG into rows of 0 (black) / 1 (white)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert (
            zlib.crc32(kind + body)
            == struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]
        )
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert (depth, colour) == (1, 0)
    raw = zlib.decompress(idat)
    stride = (width + 7) // 8 + 1
    rows = []
    prior = bytes(stride - 1)
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] in (0, 2)  # filter None or Up (PNG spec section 9.2)
        body = (
            line[1:]
            if line[0] == 0
            else bytes((a + b) & 0xFF for a, b in zip(line[1:], prior, strict=True))
        )
        prior = body
        bits = "".join(f"{b:08b}" for b in body)[:width]
        rows.append([int(bit) for bit in bits])
    return width, height, rows


def test_qr_all_is_pinned() -> None:
    """mfakit.qr exports exactly these names."""
    assert mfakit.qr.__all__ == [
        "DEFAULT_BORDER",
        "DEFAULT_ERROR_LEVEL",
        "DEFAULT_TITLE",
        "render_png",
        "render_svg",
        "render_svg_data_uri",
        "render_terminal",
    ]


def test_error_level_at_least_m() -> None:
    """The symbol is a regular QR code with error correction M or better."""
    code = segno.make(URI, error=mfakit.qr.DEFAULT_ERROR_LEVEL, micro=False)
    assert not code.is_micro
    assert code.error in ("M", "Q", "H")


def test_png_pixels_are_the_qr_matrix() -> None:
    """The PNG, sampled per module, is exactly the QR matrix with a 4-module quiet zone."""
    expected = _expected()
    width, height, rows = _png_rows(render_png(URI, scale=3))
    assert width == height == 3 * len(expected)
    modules = [[1 - rows[y * 3][x * 3] for x in range(len(expected))] for y in range(len(expected))]
    assert modules == expected
    for y in range(height):  # every pixel of a module has the module's colour
        assert rows[y] == [rows[y - y % 3][x - x % 3] for x in range(width)]


def test_png_border_is_configurable() -> None:
    """border=0 removes the quiet zone."""
    width, _, _ = _png_rows(render_png(URI, scale=1, border=0))
    assert width == len(_expected(border=0))


def test_svg_is_accessible_and_well_formed() -> None:
    """The SVG parses as XML, has role=img, a title and a viewBox."""
    svg = render_svg(URI, title="Scan me & enrol")
    root = _xml(svg)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("role") == "img"
    size = len(_expected()) * 4
    assert root.get("viewBox") == f"0 0 {size} {size}"
    assert root.get("width") == f"{size}px"
    title = root.find(f"{SVG_NS}title")
    assert title is not None
    assert title.text == "Scan me & enrol"
    assert root[0] is title  # the first child names the image


def test_svg_path_draws_the_qr_matrix() -> None:
    """The SVG path's dark runs, replayed, give exactly the QR matrix."""
    root = _xml(render_svg(URI, scale=1))
    path = next(p for p in root.iter(f"{SVG_NS}path") if p.get("class") == "qrline")
    size = len(_expected())
    grid = [[0] * size for _ in range(size)]
    x = y = 0.0
    for cmd, dx, dy, length in re.findall(r"([Mm])(-?[\d.]+) (-?[\d.]+)h(\d+)", path.get("d", "")):
        x, y = (float(dx), float(dy)) if cmd == "M" else (x + float(dx), y + float(dy))
        for i in range(int(length)):
            grid[int(y)][int(x) + i] = 1
        x += int(length)
    assert grid == _expected()


def test_svg_data_uri() -> None:
    """The data URI holds an SVG with the title."""
    data_uri = render_svg_data_uri(URI)
    assert data_uri.startswith("data:image/svg+xml;charset=utf-8,")
    svg = unquote(data_uri.split(",", 1)[1])
    root = _xml(svg)
    assert root.findtext(f"{SVG_NS}title") == mfakit.qr.DEFAULT_TITLE


def test_svg_does_not_contain_the_uri_in_clear() -> None:
    """The secret appears nowhere in the SVG markup (only in the drawn modules)."""
    assert "GEZDGNBV" not in render_svg(URI)
    assert "GEZDGNBV" not in unquote(render_svg_data_uri(URI))


def test_terminal_compact_is_the_qr_matrix() -> None:
    """Half blocks encode two rows per line; light modules are drawn as blocks."""
    text = render_terminal(URI)
    assert "\x1b" not in text
    expected = _expected()
    top = {"█": (0, 0), "▀": (0, 1), "▄": (1, 0), " ": (1, 1)}
    decoded: list[list[int]] = []
    for line in text.splitlines():
        pairs = [top[ch] for ch in line]
        decoded.append([p[0] for p in pairs])
        decoded.append([p[1] for p in pairs])
    assert decoded[: len(expected)] == expected


def test_terminal_ansi() -> None:
    """The ANSI rendering has one line per module row, two cells per module."""
    text = render_terminal(URI, compact=False)
    lines = text.splitlines()
    assert len(lines) == len(_expected())
    assert "\x1b[7m" in text


@pytest.mark.parametrize("data", ["", None, b"otpauth://", "x" * 8000])
def test_bad_content_refused(data: object) -> None:
    """Empty, non-text or oversized content is a configuration error."""
    for render in (render_svg, render_svg_data_uri, render_png, render_terminal):
        with pytest.raises(ConfigurationError):
            render(data)  # type: ignore[operator]


@pytest.mark.parametrize(("scale", "border"), [(0, 4), (1.5, 4), (4, -1), (4, 1.0), (True, 4)])
def test_bad_sizes_refused(scale: object, border: object) -> None:
    """Scale and border are bounded ints."""
    with pytest.raises(ConfigurationError):
        render_svg(URI, scale=scale, border=border)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        render_png(URI, scale=scale, border=border)  # type: ignore[arg-type]


@pytest.mark.parametrize("title", ["", "  ", None])
def test_empty_title_refused(title: object) -> None:
    """The SVG must keep an accessible name."""
    with pytest.raises(ConfigurationError):
        render_svg(URI, title=title)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        render_svg_data_uri(URI, title=title)  # type: ignore[arg-type]
