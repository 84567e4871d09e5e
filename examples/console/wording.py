"""How the console words counts and method kinds in its messages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from mfakit.policy import MethodKind, ObligationKind, ReasonCode

#: The methods the console offers, in the order it lists them.
KINDS = (MethodKind.TOTP, MethodKind.PASSKEY, MethodKind.SECURITY_KEY)
#: Each method kind as a sentence names one of them.
KIND_NAMES = {
    MethodKind.TOTP: "an authenticator app (TOTP)",
    MethodKind.PASSKEY: "a passkey",
    MethodKind.SECURITY_KEY: "a security key",
}
#: Each method kind as a sentence names all of them.
KIND_PLURALS = {
    MethodKind.TOTP: "authenticator apps",
    MethodKind.PASSKEY: "passkeys",
    MethodKind.SECURITY_KEY: "security keys",
}


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 member``, ``3 members``: a count with its noun in the right number."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def seconds_text(seconds: float) -> str:
    """A wait as a sentence says it: "1 second", "12 seconds" (never less than one)."""
    return plural(max(1, round(seconds)), "second")


def kinds_text(kinds: Iterable[MethodKind | str]) -> str:
    """The kinds as a sentence names them: "an authenticator app (TOTP) or a passkey"."""
    wanted = {MethodKind(k) for k in kinds if k in set(KINDS)}
    names = [KIND_NAMES[k] for k in KINDS if k in wanted]
    if not names:
        return "no method"
    return ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]


def refusal_text(decision: Any, fallback: str) -> str:
    """A policy refusal as a sentence, naming the methods that would satisfy the policy.

    The first reason is the one that refused; later ones only add context.
    """
    reasons = getattr(decision, "reasons", ())
    first = reasons[0] if reasons else None
    text = first.message if first is not None else fallback
    unlock_at = first.params.get("unlock_at") if first is not None else None
    if first is not None and first.code is ReasonCode.PRINCIPAL_LOCKED and unlock_at:
        # A lock after failed attempts ends by itself: say when.
        until = unlock_at if isinstance(unlock_at, datetime) else datetime.fromisoformat(unlock_at)
        text = f"the account is locked until {until:%Y-%m-%d %H:%M} UTC; try again then"
    if first is not None and first.code is ReasonCode.METHOD_KIND_NOT_ALLOWED:
        kind = MethodKind(first.params["kind"])
        who = text.split(" may not ", 1)[0]
        text = f"{who} of this organization may not use {KIND_PLURALS[kind]}"
        allowed = first.params.get("allowed", ())
        if allowed:
            text += f": use {kinds_text(allowed)} instead"
    text = text[:1].upper() + text[1:].rstrip(".") + "."
    for obligation in getattr(decision, "obligations", ()):
        enrol = obligation.kind in (ObligationKind.ENROLL_NOW, ObligationKind.ENROLL_BY)
        if enrol and obligation.method_kinds:
            text += f" What counts here: {kinds_text(obligation.method_kinds)}."
            break
    return text
