"""Filling in a template's ``{name}`` placeholders, and the default date format."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

__all__ = ["DateFormatter", "fill", "placeholders", "utc_minutes"]

#: Formats a date and time for the user (the host closes over the user's locale and time zone).
DateFormatter = Callable[[datetime], str]

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def placeholders(template: str) -> set[str]:
    """The names of the ``{name}`` placeholders in ``template``."""
    return set(_PLACEHOLDER.findall(template))


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]``.

    Unlike :meth:`str.format`, only plain names are filled in (no attribute or
    index lookups, whatever a template says) and a placeholder without a value
    stays as it is: an e-mail with a visible ``{name}`` beats one not sent.
    Values are inserted as they are, never read as templates themselves.
    """
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def utc_minutes(moment: datetime) -> str:
    """The default date format: ``2025-03-01 09:30 UTC`` (naive values are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")
