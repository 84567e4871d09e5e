"""Files for the browser, shipped in the wheel: the ``mfakit-webauthn.js`` ES module.

The module runs passkey ceremonies in the browser with the Level 3 JSON that
:func:`mfakit.webauthn.registration_options` and
:func:`mfakit.webauthn.authentication_options` produce, and returns the JSON
that the ``verify_*`` functions take. It has no dependencies and needs no
build step: serve its bytes as JavaScript from your own origin.

Example (Flask)::

    from flask import Response
    from mfakit import static

    @app.get(f"/static/{static.MODULE_NAME}")
    def mfakit_webauthn_js() -> Response:
        return Response(static.read_module(), mimetype=static.MEDIA_TYPE)

The guide *The browser module* documents the module's JavaScript API.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from mfakit.errors import ConfigurationError

__all__ = ["MEDIA_TYPE", "MODULE_NAME", "module_path", "read_module"]

#: The file name of the browser module.
MODULE_NAME = "mfakit-webauthn.js"
#: The media type to serve it with (browsers refuse a module served as anything else).
MEDIA_TYPE = "text/javascript"


def read_module() -> bytes:
    """The browser module's source, UTF-8 encoded.

    Works wherever mfakit is installed, zipped or not.

    Returns:
        The bytes of ``mfakit-webauthn.js``.
    """
    return (importlib.resources.files(__name__) / MODULE_NAME).read_bytes()


def module_path() -> Path:
    """The browser module's path on the file system, for servers that send files.

    Returns:
        The absolute path of ``mfakit-webauthn.js`` in the installed package.

    Raises:
        ConfigurationError: mfakit is imported from an archive (a zip file), so
            the module has no path of its own; use :func:`read_module` instead.
    """
    found = importlib.resources.files(__name__) / MODULE_NAME
    if not isinstance(found, Path):
        raise ConfigurationError("mfakit is not installed as files: use read_module()")
    return found.resolve()
