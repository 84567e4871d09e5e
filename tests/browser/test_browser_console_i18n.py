"""A browser set to French gets the console in French, at a desktop width and a phone's."""

from __future__ import annotations

import re
from typing import Any

import pytest
from console_helpers import PASSWORD, totp_code
from playwright.sync_api import expect

#: English words that must not show on a French page (as words).
ENGLISH = re.compile(r"\b(Sign|Password|Account|Organization|Outbox|passkey|Delete|Copy)\b")


def _fits(page: Any) -> bool:
    """The page does not scroll sideways."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def _french_only(page: Any) -> None:
    text = page.locator("body").inner_text()
    assert ENGLISH.findall(text) == [], text


@pytest.mark.parametrize("width", [1280, 360])
def test_a_french_browser_signs_up_and_sets_up_totp_in_french(
    browser: Any, console: Any, width: int
) -> None:
    """Chromium with the locale fr-FR (its Accept-Language): the sign-in page, the sign-up,
    the security page, the TOTP set-up and the backup codes (the script's message too) are
    French, and fit the window."""
    base = console.url
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 720})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{base}/login")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
        expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()
        expect(
            page.get_by_role("button", name="Se connecter avec une clé d\u2019accès")
        ).to_be_visible()
        expect(page.get_by_label("Adresse e-mail")).to_be_visible()
        _french_only(page)
        assert _fits(page)

        page.get_by_role("link", name="Créez un compte").click()
        page.get_by_label("Votre nom").fill("Ada")
        page.get_by_label("Adresse e-mail").fill("ada@example.com")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Créer le compte").click()
        page.wait_for_url(f"{base}/account/security")
        expect(page.get_by_role("heading", name="Sécurité du compte", level=1)).to_be_visible()
        expect(page.locator(".flashes")).to_contain_text("Bienvenue")
        expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
        _french_only(page)
        assert _fits(page)

        page.get_by_role("button", name="Configurer TOTP").click()
        expect(page.get_by_role("heading", name="Configurez votre application")).to_be_visible()
        key = page.locator("#manual-key").inner_text().strip()
        page.get_by_label("Saisissez le code à 6 chiffres affiché par l\u2019application").fill(
            totp_code(key)
        )
        page.get_by_role("button", name="Valider").click()
        expect(page.get_by_role("heading", name="TOTP est maintenant activé")).to_be_visible()
        page.get_by_role("button", name="Copier les codes").click()
        # Copied, or (without clipboard access) the way to copy by hand: French either way.
        expect(page.locator("#copy-status")).to_have_text(
            re.compile(
                r"^(Copié\.|La copie a échoué\u00a0: sélectionnez les codes et copiez-les\.)$"
            )
        )
        _french_only(page)
        assert _fits(page)
    finally:
        context.close()
