"""The French typography rule the catalogs follow (mfakit's and the example console's)."""

from __future__ import annotations

import re

_TAG = re.compile(r"<[^>]*>")


def typography_faults(text: str) -> list[str]:
    """What breaks the French rules: a no-break space before : ; ! ? » and after «, and \u2019.

    Markup (a console text's ``<a href="...">``) is not prose: it is left out.
    """
    text = _TAG.sub("", text)
    pairs = re.findall(r"(.?)([:;!?»])", text)
    faults = [f"{before!r} before {mark}" for before, mark in pairs if before != "\u00a0"]
    faults += [f"{after!r} after «" for after in re.findall(r"«(.?)", text) if after != "\u00a0"]
    return faults + (["ASCII apostrophe"] if "'" in text else [])
