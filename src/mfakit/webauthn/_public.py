"""Make exported classes and functions name the public module that exports them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["publish"]


def publish(module: str, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set ``__module__`` of each of ``names`` defined in ``mfakit.webauthn`` to ``module``.

    Reprs (``<class 'mfakit.webauthn.VerifiedRegistration'>``), tracebacks,
    pickles and the API docs then show where users import a name from, not
    the private module it lives in. Names defined elsewhere (the errors of
    :mod:`mfakit.errors`) keep their own module.
    """
    for name in names:
        obj = namespace[name]
        owner = getattr(obj, "__module__", None)
        if (
            isinstance(owner, str)
            and owner.startswith("mfakit.webauthn.")
            and (isinstance(obj, type) or callable(obj))
        ):
            obj.__module__ = module
