"""Related origin requests (WebAuthn Level 3 §5.11): the ``/.well-known/webauthn`` document.

A site may use one RP ID from origins that are not its subdomains (say
``https://example.co.uk`` for the RP ID ``example.com``) by listing them in a
JSON document ``{"origins": [...]}`` served at
``https://{rp_id}/.well-known/webauthn`` (source: W3C WebAuthn Level 3, §5.11
"Using Web Authentication across related origins"). Browsers fetch it; the
relying party only has to serve it and accept the same origins when verifying.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from mfakit.errors import ConfigurationError

__all__ = [
    "MAX_ORIGIN_LABELS",
    "RELATED_ORIGINS_PATH",
    "check_origin",
    "origin_covered",
    "related_origins_document",
]

#: Where a browser fetches the related origins of an RP ID (§5.11).
RELATED_ORIGINS_PATH = "/.well-known/webauthn"
#: The number of distinct registrable-domain labels browsers must support in
#: the document, and the recommended maximum (§5.11); later ones may be ignored.
MAX_ORIGIN_LABELS = 5
_MAX_ORIGIN = 2048


def _localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def check_origin(origin: object, *, name: str = "origin") -> str:
    """Return ``origin`` if it is a serialized web origin WebAuthn can run on, or refuse it.

    Accepted: ``https://host[:port]``, and ``http://localhost[:port]`` (or a
    ``.localhost`` subdomain), which browsers treat as secure. The origin must
    be written as a browser reports it: lower case, no default port, and no
    user, path, query or fragment.

    Raises:
        ConfigurationError: Anything else (the message names ``name``, not the value).
    """
    if not isinstance(origin, str) or not origin or len(origin) > _MAX_ORIGIN:
        raise ConfigurationError(f"{name} must be an origin like https://host")
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an origin like https://host") from exc
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host or "@" in parts.netloc:
        raise ConfigurationError(f"{name} must be an origin like https://host")
    if parts.scheme == "http" and not _localhost(host):
        raise ConfigurationError(f"{name} must use https (http only on localhost)")
    if parts.path or parts.query or parts.fragment or origin.endswith(("?", "#")):
        raise ConfigurationError(f"{name} must have no path, query or fragment")
    default = 443 if parts.scheme == "https" else 80
    serialized = f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")
    if serialized != origin:
        raise ConfigurationError(
            f"{name} must be written as a browser reports it (lower case, no default port)"
        )
    return origin


def _host(origin: str) -> str:
    return urlsplit(origin).hostname or ""


def origin_covered(origin: str, rp_id: str, related: Iterable[str] = ()) -> bool:
    """Whether a browser at ``origin`` may use the RP ID ``rp_id``.

    It may when the origin's host is the RP ID or a subdomain of it (over
    https, or http on localhost), or when the origin is listed in the RP
    ID's related origins document (``related``, §5.11). This is the check a
    relying party's configuration should pass; it does not consult the
    public suffix list, so it cannot tell whether ``rp_id`` itself is a
    registrable domain.

    Raises:
        ConfigurationError: ``origin`` or an entry of ``related`` is not an
            origin (see :func:`related_origins_document`).
    """
    check_origin(origin)
    listed = {check_origin(o, name="related origin") for o in related}
    if origin in listed:
        return True
    if not isinstance(rp_id, str) or not rp_id:
        raise ConfigurationError("rp_id must be a domain name")
    host = _host(origin)
    return host == rp_id or host.endswith("." + rp_id)


def related_origins_document(origins: Iterable[str]) -> str:
    """The JSON text to serve at ``https://{rp_id}/.well-known/webauthn`` (§5.11).

    ``{"origins": [...]}`` with each origin once, in the order given, written
    canonically (sorted keys, no spaces), to be served with the content type
    ``application/json``. Browsers must support at least
    :data:`MAX_ORIGIN_LABELS` distinct registrable-domain labels (``example``
    in ``example.co.uk``) and may ignore origins with further labels, so keep
    the list short; this function cannot count labels (it has no public
    suffix list).

    Args:
        origins: The origins allowed to use the RP ID, such as
            ``https://example.co.uk``: https (or http on localhost), lower
            case, no default port, no path, query or fragment.

    Raises:
        ConfigurationError: ``origins`` is a single string or empty, or an
            entry is not such an origin.
    """
    if isinstance(origins, str | bytes):
        raise ConfigurationError("origins must be a collection of origins, not one string")
    unique: dict[str, None] = {}
    for index, origin in enumerate(origins):
        unique[check_origin(origin, name=f"origins[{index}]")] = None
    if not unique:
        raise ConfigurationError("origins must name at least one origin")
    return json.dumps({"origins": list(unique)}, separators=(",", ":"), sort_keys=True)
