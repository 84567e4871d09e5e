"""What a user does in the console, as browser steps shared by the tests."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mfakit.otp import TOTP, decode_base32

PASSWORD = "correct horse battery"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "_static" / "screenshots"


@dataclass(frozen=True, slots=True)
class Authenticator:
    """A DevTools virtual authenticator attached to one page."""

    cdp: Any
    authenticator_id: str

    def credentials(self) -> list[dict[str, Any]]:
        """The credentials the authenticator holds."""
        found = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})
        return list(found["credentials"])

    def presence(self, *, enabled: bool) -> None:
        """Switch the simulated user presence (off: the browser's requests wait)."""
        self.cdp.send(
            "WebAuthn.setAutomaticPresenceSimulation",
            {"authenticatorId": self.authenticator_id, "enabled": enabled},
        )


def _refuse_autofill(route: Any) -> None:
    body = route.request.post_data_json
    if isinstance(body, dict) and body.get("mediation") == "conditional":
        route.abort()
    else:
        route.continue_()


def add_authenticator(
    page: Any, *, transport: str, resident_key: bool, backup_eligible: bool, autofill: bool = False
) -> Authenticator:
    """Attach a CTAP2 virtual authenticator (always user-verifying) to ``page``.

    The virtual authenticator answers the sign-in page's autofill request at
    once, with no one to pick the passkey; unless ``autofill``, the page's
    autofill request is refused (as on a browser without passkey autofill), so
    that the test signs in the way it chooses.
    """
    if not autofill:
        page.route("**/login/passkey/options", _refuse_autofill)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options = {
        "protocol": "ctap2",
        "transport": transport,
        "hasResidentKey": resident_key,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
        "defaultBackupEligibility": backup_eligible,
        "defaultBackupState": backup_eligible,
    }
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return Authenticator(cdp=cdp, authenticator_id=added["authenticatorId"])


def shot(page: Any, name: str, tmp_path: Path, *, full_page: bool = False) -> Path:
    """Save a screenshot; into the docs when ``MFAKIT_UPDATE_SCREENSHOTS=1``.

    The committed screenshots are regenerated on demand only, so that an ordinary
    test run leaves the working tree clean (each run has new keys and QR codes).
    """
    folder = SCREENSHOTS if os.environ.get("MFAKIT_UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    assert path.stat().st_size > 1000
    return path


def sign_up(page: Any, base: str, *, email: str, name: str) -> None:
    """Create an account; the browser ends on the account security page."""
    page.goto(f"{base}/signup")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{base}/account/security")


def sign_out(page: Any, base: str) -> None:
    """Sign out from the header."""
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")


def sign_in_password(page: Any, base: str, *, email: str) -> None:
    """First factor: e-mail and password."""
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def totp_code(manual_key: str, *, ahead: int = 0) -> str:
    """The code an authenticator app shows for this key, ``ahead`` periods from now."""
    secret = decode_base32(manual_key.replace(" ", ""))
    return TOTP(secret).at(time.time() + 30 * ahead)


def set_up_totp(
    page: Any, base: str, tmp_path: Path, *, screenshot: bool = False
) -> tuple[str, list[str]]:
    """Set up TOTP by reading the key from the page; return the key and the backup codes."""
    page.goto(f"{base}/account/security")
    page.get_by_role("button", name="Set up TOTP").click()
    key = page.locator("#manual-key").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", key)
    if screenshot:
        shot(page, "totp-setup", tmp_path)
    page.get_by_label("Enter the 6-digit code the app shows").fill(totp_code(key))
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("heading", name="TOTP is now enabled").wait_for()
    codes = [c.strip() for c in page.locator("#backup-code-list code").all_inner_texts()]
    if screenshot:
        shot(page, "backup-codes", tmp_path)
    page.get_by_role("link", name="I saved them").click()
    page.wait_for_url(f"{base}/account/security")
    return key, codes


def add_passkey(page: Any, base: str, *, name: str, kind: str) -> None:
    """Add a named passkey (``passkey``) or security key (``security_key``)."""
    page.goto(f"{base}/account/security")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Security key" if kind == "security_key" else "Passkey", exact=True).check()
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_role("cell", name=name, exact=True).wait_for()


def read_outbox(page: Any, base: str, *, to: str, kind: str) -> str:
    """The body of the newest e-mail of ``kind`` to ``to``, read on the outbox page."""
    page.goto(f"{base}/outbox?to={to}")
    mail = page.locator(f'li.mail[data-kind="{kind}"]').first
    return str(mail.locator(".body").inner_text())


def age_second_factor(console: Any, email: str, *, minutes: int = 20) -> None:
    """Move the user's last second-factor check ``minutes`` into the past.

    As if that much time had passed since the user last verified a factor (the
    console runs on the real clock): the next sensitive change asks for a
    step-up. Written straight into the console's SQLite file.
    """
    user = console.app.extensions["console_accounts"].user_by_email(email)
    assert user is not None
    micros = minutes * 60 * 1_000_000
    console.app.extensions["mfa_store"]._call(
        lambda c: c.run(
            "UPDATE mfa_user_state SET last_mfa_at = last_mfa_at - ? WHERE user_id = ?",
            [micros, user.user_id],
        ),
        write=True,
    )


def trust_cookies(page: Any) -> list[dict[str, Any]]:
    """The trusted-browser cookies the page's browser holds."""
    return [c for c in page.context.cookies() if c["name"].startswith("console_trusted_")]
