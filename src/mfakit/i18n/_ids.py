"""The set of every message id mfakit looks up, for the catalogs' completeness tests."""

from __future__ import annotations

from mfakit.i18n._errors import (
    ATTEMPTS_REMAINING,
    ERROR_MESSAGE_IDS,
    THROTTLED_MINUTES,
    THROTTLED_SECONDS,
)
from mfakit.i18n._notifications import (
    LINK_MESSAGE_ID,
    METHOD_MESSAGE_IDS,
    NOTIFICATION_MESSAGE_IDS,
    PLURAL_NOTIFICATION_IDS,
)
from mfakit.i18n._reasons import PLURAL_POLICY_IDS, POLICY_MESSAGE_IDS, POLICY_VARIANT_IDS

__all__ = ["MESSAGE_IDS", "PLURAL_MESSAGE_IDS"]

#: The ids that take a number and have plural forms (gettext ``msgid_plural``).
PLURAL_MESSAGE_IDS: frozenset[str] = frozenset(
    {
        THROTTLED_SECONDS,
        THROTTLED_MINUTES,
        ATTEMPTS_REMAINING,
        *PLURAL_NOTIFICATION_IDS,
        *PLURAL_POLICY_IDS,
    }
)

#: Every message id mfakit looks up; each shipped catalog has exactly these.
MESSAGE_IDS: frozenset[str] = frozenset(
    {
        *ERROR_MESSAGE_IDS.values(),
        *POLICY_MESSAGE_IDS.values(),
        *POLICY_VARIANT_IDS,
        *(i for ids in NOTIFICATION_MESSAGE_IDS.values() for i in ids),
        *METHOD_MESSAGE_IDS.values(),
        LINK_MESSAGE_ID,
        *PLURAL_MESSAGE_IDS,
    }
)
