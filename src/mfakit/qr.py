"""QR codes for enrollment URIs: SVG, PNG and terminal renderings, via segno.

The user scans the QR code of an ``otpauth://`` URI with an authenticator app.
The defaults follow the QR code standard (ISO/IEC 18004) and what phone
scanners read reliably: a regular (not Micro) QR code, error correction level
M (15 % of the symbol recoverable; segno raises it when that costs no extra
size), and the 4-module quiet zone the standard requires around the symbol.

The URI contains the TOTP secret: render it only in the enrollment response,
never log or cache it, and send it with ``Cache-Control: no-store``.

Example::

    from mfakit import qr
    from mfakit.otp import TOTP, generate_secret

    uri = TOTP(generate_secret()).uri(account_name="alice@example.com", issuer="ACME")
    html_img = f'<img src="{qr.render_svg_data_uri(uri)}" alt="QR code for ACME">'
    print(qr.render_terminal(uri))
"""

from __future__ import annotations

import io
from typing import Final

import segno

from mfakit.errors import ConfigurationError

__all__ = [
    "DEFAULT_BORDER",
    "DEFAULT_ERROR_LEVEL",
    "DEFAULT_TITLE",
    "render_png",
    "render_svg",
    "render_svg_data_uri",
    "render_terminal",
]

#: The accessible name written in the SVG's ``<title>``.
DEFAULT_TITLE: Final = "QR code to scan with your authenticator app"
#: The minimum error correction level (segno may raise it for free).
DEFAULT_ERROR_LEVEL: Final = "M"
#: The quiet zone, in modules, that ISO/IEC 18004 requires for QR codes.
DEFAULT_BORDER: Final = 4


def _encode(data: object) -> segno.QRCode:
    if not isinstance(data, str) or not data:
        raise ConfigurationError("the QR code content must be a non-empty string")
    try:
        return segno.make(data, error=DEFAULT_ERROR_LEVEL, micro=False)
    except ValueError as exc:  # segno.DataOverflowError is a ValueError
        raise ConfigurationError("the content is too long for a QR code") from exc


def _check_size(scale: object, border: object) -> None:
    if type(scale) is not int or not 1 <= scale <= 100:
        raise ConfigurationError("scale must be an int from 1 to 100")
    if type(border) is not int or not 0 <= border <= 100:
        raise ConfigurationError("border must be an int from 0 to 100")


def _check_title(title: object) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ConfigurationError("the title must be a non-empty string (it is the accessible name)")
    return title


def render_svg(
    data: str, *, title: str = DEFAULT_TITLE, scale: int = 4, border: int = DEFAULT_BORDER
) -> str:
    """Render ``data`` as a standalone SVG document (no XML declaration).

    The SVG has ``role="img"`` and a ``<title>`` so screen readers announce it,
    and a ``viewBox`` so CSS can resize it. It can be embedded in HTML as is.

    Args:
        data: The content, typically an ``otpauth://`` URI.
        title: The accessible name (``<title>``); do not put the secret in it.
        scale: Size of one module in CSS pixels.
        border: Quiet zone in modules (4 is what the standard requires).

    Returns:
        The SVG markup.

    Raises:
        ConfigurationError: empty or too long ``data``, or a bad argument.
    """
    qr = _encode(data)
    _check_size(scale, border)
    buffer = io.BytesIO()
    qr.save(
        buffer,
        kind="svg",
        xmldecl=False,
        nl=False,
        scale=scale,
        border=border,
        title=_check_title(title),
        unit="px",
    )
    svg = buffer.getvalue().decode("utf-8")
    # segno cannot add ARIA attributes; role="img" makes inline SVG one image to assistive tech.
    return svg.replace("<svg ", '<svg role="img" ', 1)


def render_svg_data_uri(
    data: str, *, title: str = DEFAULT_TITLE, scale: int = 4, border: int = DEFAULT_BORDER
) -> str:
    """Render ``data`` as an SVG ``data:`` URI, for ``<img src="...">``.

    Give the ``<img>`` an ``alt`` text: it is what assistive technology reads.

    Args:
        data: The content, typically an ``otpauth://`` URI.
        title: Written in the SVG's ``<title>``.
        scale: Size of one module in CSS pixels.
        border: Quiet zone in modules.

    Raises:
        ConfigurationError: empty or too long ``data``, or a bad argument.
    """
    qr = _encode(data)
    _check_size(scale, border)
    uri: str = qr.svg_data_uri(scale=scale, border=border, title=_check_title(title), unit="px")
    return uri


def render_png(data: str, *, scale: int = 5, border: int = DEFAULT_BORDER) -> bytes:
    """Render ``data`` as PNG bytes (1-bit greyscale).

    Args:
        data: The content, typically an ``otpauth://`` URI.
        scale: Size of one module in pixels.
        border: Quiet zone in modules.

    Raises:
        ConfigurationError: empty or too long ``data``, or a bad argument.
    """
    qr = _encode(data)
    _check_size(scale, border)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def render_terminal(data: str, *, compact: bool = True, border: int = DEFAULT_BORDER) -> str:
    """Render ``data`` for a text terminal, e.g. a CLI's ``totp new``.

    With ``compact`` (the default), each character cell holds two modules
    using Unicode half blocks, with no escape sequences, so the output can be
    piped or saved. Otherwise ANSI reverse video draws two spaces per module.
    Both draw light modules in the terminal's text colour: they scan best with
    light text on a dark background.

    Args:
        data: The content, typically an ``otpauth://`` URI.
        compact: Half blocks (True) or ANSI escape codes (False).
        border: Quiet zone in modules.

    Raises:
        ConfigurationError: empty or too long ``data``, or a bad argument.
    """
    qr = _encode(data)
    _check_size(1, border)
    buffer = io.StringIO()
    qr.terminal(out=buffer, border=border, compact=bool(compact))
    return buffer.getvalue()
