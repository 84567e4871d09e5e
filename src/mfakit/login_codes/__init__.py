"""Emailed one-time login codes: the "Send code" sign-in.

Pure functions over immutable records: no storage, no clock. A code is a few
random digits; only an HMAC-SHA256 of it, under a server-side key and bound to a
context (who is signing in, for what), is stored. A code expires (10 minutes by
default), dies after a number of wrong tries (5), cannot be resent before a
cool-down (60 s) and is accepted once.

Each try is counted BEFORE it is checked, so that the store can do the counting
as one atomic operation and concurrent guesses cannot exceed the limit::

    from mfakit import login_codes

    issued = login_codes.generate_login_code(key=KEY, context=ctx, now=now, previous=last)
    send_email(address, issued.code)
    save(issued.record)

    # later, on submit:
    counted = login_codes.count_attempt(load(), now=now)   # store: atomic increment
    save(counted)
    used = login_codes.verify_login_code(counted, typed, key=KEY, context=ctx, now=now)
    save(used)                                              # store: atomic consume
"""

from __future__ import annotations

from mfakit.login_codes._login_codes import (
    DEFAULT_POLICY,
    MIN_KEY_LENGTH,
    IssuedLoginCode,
    LoginCodePolicy,
    LoginCodeRecord,
    count_attempt,
    generate_login_code,
    verify_login_code,
)

# Plain sorted() order, which tests/test_public_api.py requires (ruff orders by case first).
__all__ = [
    "DEFAULT_POLICY",
    "IssuedLoginCode",
    "LoginCodePolicy",
    "LoginCodeRecord",
    "MIN_KEY_LENGTH",
    "count_attempt",
    "generate_login_code",
    "verify_login_code",
]
