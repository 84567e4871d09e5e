"""The console in the browser's language (Accept-Language): French and English pages, messages,
refusals and e-mails, through Flask's test client."""

from __future__ import annotations

import html
import json
import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from console.data import Accounts
from console.mailer import Recipient, render
from console_http_helpers import (
    BASE,
    PASSWORD,
    add_member,
    flashes,
    make_app,
    post,
    set_up_totp,
    sign_out,
    sign_up,
    token,
    user_id,
)

from mfakit import service
from mfakit.otp import TOTP, decode_base32

FRENCH = "fr-FR,fr;q=0.9"
NBSP = "\u00a0"
#: English words that no French page shows (user data in the tests avoids them), as words.
ENGLISH = (
    "Sign in",
    "Sign out",
    "Password",
    "Account security",
    "Organization",
    "Create an account",
    "Outbox",
    "passkey",
    "Passkey",
    "authenticator app",
    "Backup code",
    "Delete",
    "Rename",
    "Verify",
    "Continue",
    "Enter",
    "Add",
    "the",
    "you",
)


def _client(app: Any, language: str | None = FRENCH) -> Any:
    """A test client whose every request sends ``Accept-Language: language``."""
    client = app.test_client()
    if language is not None:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def _lang(page: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', page)
    assert found is not None
    return found.group(1)


def _visible(page: str) -> str:
    """The page's text as a reader sees it: no scripts, no tags, entities decoded."""
    text = re.sub(r"<script\b.*?</script>", " ", page, flags=re.S)
    text = re.sub(r"<svg\b.*?</svg>", " ", text, flags=re.S)
    # Collapse the markup's white space, not the no-break spaces of French typography.
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


def _french(page: str, *expected: str) -> str:
    """Assert that ``page`` is French: lang="fr", the expected texts, no English words."""
    assert _lang(page) == "fr"
    text = _visible(page)
    for phrase in expected:
        assert phrase in text, phrase
    leaked = [word for word in ENGLISH if re.search(rf"\b{word}\b", text)]
    assert leaked == [], leaked
    return text


def _mails(app: Any, to: str) -> list[Any]:
    app.extensions["mfa_service"].deliver_notifications()
    return list(app.extensions["console_accounts"].mails(recipient=to))


def _code(app: Any, to: str) -> str:
    found = re.search(r"\b(\d{6,8})\b", _mails(app, to)[0].body)
    assert found is not None
    return found.group(1)


# -- which language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (FRENCH, "fr"),
        ("fr-CA", "fr"),
        ("de-DE, fr;q=0.5", "fr"),
        ("en", "en"),
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        (None, "en"),
        ("de-DE,de;q=0.9", "en"),
        ("fr;q=0", "en"),
        ("%%%;q=banana", "en"),
    ],
)
def test_the_page_language_follows_accept_language(app: Any, header: str | None, lang: str) -> None:
    """French when the browser asks for it (in any region), English otherwise."""
    page = _client(app, header).get(BASE + "/login")
    assert _lang(page.text) == lang
    assert "Accept-Language" in page.headers["Vary"]
    text = _visible(page.text)
    if lang == "fr":
        assert "Se connecter avec une clé d\u2019accès" in text
        assert "Sign in with a passkey" not in text
    else:
        assert "Sign in with a passkey" in text
        assert "E-mail address" in text
        assert "clé" not in text


def test_the_scripts_messages_come_in_the_page_language(app: Any) -> None:
    """console.js reads its messages from the page: French on a French page."""
    for header, copied in ((FRENCH, "Copié."), ("en", "Copied.")):
        page = _client(app, header).get(BASE + "/login").text
        found = re.search(
            r'<script type="application/json" id="console-texts">(.*?)</script>', page
        )
        assert found is not None
        texts = json.loads(found.group(1))
        assert texts["copied"] == copied
        assert texts["ceremony_not_supported"]


# -- the pages in French ---------------------------------------------------------------------


def test_sign_up_and_sign_in_pages_are_french(app: Any) -> None:
    """The sign-in, sign-up and member sign-in pages, and the signed-out navigation."""
    client = _client(app)
    _french(
        client.get(BASE + "/login").text,
        "Connexion",
        "Adresse e-mail",
        "Mot de passe",
        "Se connecter",
        f"Membre d\u2019une organisation{NBSP}?",
        "Créez un compte",
        "Boîte d\u2019envoi",
    )
    _french(
        client.get(BASE + "/signup").text,
        "Créer un compte",
        "Votre nom",
        "Mot de passe (au moins 10 caractères)",
        "Vous devenez propriétaire d\u2019une nouvelle organisation.",
    )
    _french(
        client.get(BASE + "/login/member").text,
        "Connexion en tant que membre d\u2019une organisation",
        "ID de l\u2019organisation",
        "Continuer",
    )
    username = post(client, "/login/member", {"org_id": "org-x"})
    _french(username.text, "Organisation org-x", "Nom d\u2019utilisateur", "Envoyer un code")
    sent = post(client, "/login/member", {"org_id": "org-x", "username": "zoe"})
    _french(
        sent.text,
        "un code de connexion a été envoyé à son adresse e-mail",
        "Renvoyer l\u2019e-mail",
    )
    typed = post(
        client, "/login/member", {"org_id": "org-x", "username": "zoe", "method": "password"}
    )
    _french(typed.text, "nom d\u2019utilisateur zoe", "Envoyer plutôt un code")


def test_signed_in_pages_are_french(app: Any) -> None:
    """Security, TOTP set-up, backup codes, the organization page and the second step."""
    olivia = _client(app)
    org = sign_up(olivia, "olivia@example.com", "Olivia")
    _french(
        olivia.get(BASE + "/account/security").text,
        "Sécurité du compte",
        "Authentification multifacteur",
        "Ajoutez un second facteur pour protéger votre compte, même si votre mot de passe fuite.",
        "Applications d\u2019authentification (TOTP)",
        "Configurer TOTP",
        "Clés d\u2019accès et clés de sécurité",
        "Navigateurs de confiance",
        "Se déconnecter",
    )
    setup = post(olivia, "/account/totp/setup", {"name": "Téléphone"}, page="/account/security")
    _french(
        setup.text,
        "Configurez votre application d\u2019authentification",
        "Cette application s\u2019appellera",
        "Scannez ce code QR avec votre application d\u2019authentification.",
        f"Impossible de le scanner{NBSP}? Saisissez plutôt cette clé dans "
        f"l\u2019application{NBSP}:",
        "Valider",
    )
    # The QR code's accessible name too.
    assert "<title>Code QR à scanner avec votre application d\u2019authentification</title>" in (
        setup.text
    )
    key = re.search(r'id="manual-key" class="key">([^<]+)<', setup.text)
    assert key is not None
    totp = TOTP(decode_base32(key.group(1).replace(" ", "")))
    post(olivia, "/account/totp/confirm", {"code": totp.at(time.time())}, page="/account/security")
    codes = olivia.get(BASE + "/account/backup-codes/new")
    _french(
        codes.text,
        "TOTP est maintenant activé",
        "Enregistrez maintenant ces codes de secours en lieu sûr",
        "Télécharger les codes",
        "Je les ai enregistrés",
    )
    security = _french(
        olivia.get(BASE + "/account/security").text,
        "Activée",
        "Un code de n\u2019importe laquelle de ces applications vous connecte.",
        "Renommer Téléphone",
        f"Saisissez DELETE pour supprimer «{NBSP}Téléphone{NBSP}»",
        "Codes de secours",
    )
    assert "codes inutilisés sur" in security
    _french(
        olivia.get(BASE + f"/org/{org}").text,
        "Organisation de Olivia",
        "vous êtes propriétaire",
        "Authentification multifacteur de l\u2019organisation",
        "Non imposée",
        "Imposer la MFA",
        "Saisissez ENFORCE pour confirmer",
        "Ajouter un membre",
        "Envoyer l\u2019invitation",
        "Propriétaire",
    )
    sign_out(olivia)
    signed_in = post(olivia, "/login", {"email": "olivia@example.com", "password": PASSWORD})
    assert signed_in.headers["Location"] == "/login/verify"
    _french(
        olivia.get(BASE + "/login/verify").text,
        "Confirmez votre identité",
        "Utilisez l\u2019un de vos seconds facteurs pour terminer la connexion.",
        "Faire confiance à ce navigateur pendant 30 jours",
        "Code de votre application d\u2019authentification",
        "Vérifier",
        "Utiliser un code de secours",
    )


def test_error_pages_are_french(app: Any) -> None:
    """Page not found, a step opened directly, an expired form: styled and French."""
    client = _client(app)
    missing = client.get(BASE + "/nowhere")
    assert missing.status_code == 404
    _french(missing.text, "Page introuvable", "Erreur 404.", "Aller à la page d\u2019accueil")
    expired = client.post(BASE + "/login", data={"email": "a@example.com", "password": "x"})
    assert expired.status_code == 400
    _french(
        expired.text, "Ce formulaire a expiré", "Rien n\u2019a été modifié", "Revenir en arrière"
    )
    unreadable = client.post(
        BASE + "/login/passkey", data=b"[1]", headers={"X-CSRF-Token": token(client)}
    )
    assert unreadable.json == {"error": "Demande incorrecte."}


# -- messages, errors and refusals in French --------------------------------------------------


def test_flash_messages_and_errors_are_french(app: Any) -> None:
    """A notice after an action, a refused code and a wrong password, in French."""
    olivia = _client(app)
    form = {"email": "olivia@example.com", "name": "Olivia", "password": PASSWORD}
    assert post(olivia, "/signup", form, page="/signup").status_code == 302
    # flashes() reads the notices with their white space (no-break spaces too) collapsed.
    assert flashes(olivia.get(BASE + "/account/security").text) == [
        "Bienvenue ! Protégez votre compte : configurez l\u2019authentification multifacteur."
    ]
    totp = set_up_totp(olivia, "Téléphone")
    page = olivia.get(BASE + "/account/security").text
    device = re.search(r"/account/totp/([^/]+)/rename", page)
    assert device is not None
    post(
        olivia, f"/account/totp/{device.group(1)}/rename", {"name": "Pro"}, page="/account/security"
    )
    assert "Renommé en « Pro »." in flashes(olivia.get(BASE + "/account/security").text)
    sign_out(olivia)
    assert "Déconnexion effectuée." in flashes(olivia.get(BASE + "/login").text)

    wrong = post(olivia, "/login", {"email": "olivia@example.com", "password": "not it at all"})
    assert wrong.status_code == 401
    _french(wrong.text, "E-mail ou mot de passe incorrect.")
    post(olivia, "/login", {"email": "olivia@example.com", "password": PASSWORD})
    bad = post(
        olivia, "/login/verify/code", {"kind": "totp", "code": "000000"}, page="/login/verify"
    )
    assert bad.status_code == 400
    _french(bad.text, "Ce code n\u2019est pas valide.")
    used = totp.at(time.time())
    post(olivia, "/login/verify/code", {"kind": "totp", "code": used}, page="/login/verify")
    sign_out(olivia)
    post(olivia, "/login", {"email": "olivia@example.com", "password": PASSWORD})
    again = post(olivia, "/login/verify/code", {"kind": "totp", "code": used}, page="/login/verify")
    _french(
        again.text, "Ce code a déjà été utilisé. Attendez le code suivant dans votre application"
    )


def _member(app: Any, owner_language: str | None = FRENCH) -> tuple[Any, Any, str]:
    """An owner and a member signed in with a French browser (and an e-mailed code)."""
    owner = _client(app, owner_language)
    org = sign_up(owner, "olivia@example.com", "Olivia")
    add_member(owner, org, "carol", "carol@example.com")
    carol = _client(app)
    post(carol, "/login/member", {"org_id": org, "username": "carol"})
    code = _code(app, "carol@example.com")
    signed_in = post(
        carol, "/login/member/code", {"org_id": org, "username": "carol", "code": code}
    )
    assert signed_in.status_code == 302
    return owner, carol, org


def test_policy_refusals_are_french(app: Any) -> None:
    """A refused kind of method, on the page and from the service, and an mfakit refusal."""
    owner, carol, org = _member(app)
    _french(
        carol.get(BASE + "/account/security").text,
        "Organisation de Olivia (en tant que membre) n\u2019autorise pas les clés "
        f"d\u2019accès{NBSP}: utilisez plutôt une application d\u2019authentification (TOTP).",
    )
    refused = carol.post(
        BASE + "/account/passkeys/options",
        json={"name": "Clé", "kind": "passkey"},
        headers={"X-CSRF-Token": token(carol, "/account/security")},
    )
    assert refused.status_code == 400
    assert refused.json["error"] == (
        f"Les membres de cette organisation ne peuvent pas utiliser les clés d\u2019accès{NBSP}: "
        "utilisez plutôt une application d\u2019authentification (TOTP)."
    )
    # The owner has no MFA: mfakit's refusal, from mfakit's French catalog.
    enforce = post(owner, f"/org/{org}/enforce", {"confirmation": "ENFORCE"})
    assert enforce.status_code in (400, 409)
    error = re.search(r'id="error">([^<]+)<', enforce.text)
    assert error is not None
    assert "Configurez" in html.unescape(error.group(1))
    _french(enforce.text)


def test_a_wait_is_said_with_french_plurals(tmp_path: Path) -> None:
    """Asking for another code too soon: "Attendez 60 secondes" (the cool-down)."""
    from datetime import timedelta

    console = make_app(tmp_path, resend_cooldown=timedelta(seconds=60))
    try:
        client = _client(console)
        form = {"org_id": "org-x", "username": "zoe"}
        post(client, "/login/member", form)
        again = post(client, "/login/member", form)
    finally:
        console.extensions["mfa_store"].close()
    assert again.status_code == 429
    text = _french(again.text)
    assert re.search(r"Attendez (59|60) secondes avant d\u2019en demander un autre\.", text)


# -- e-mails in the recipient's language --------------------------------------------------------


def test_emails_are_in_the_language_of_the_recipients_last_sign_in(app: Any) -> None:
    """Carol signed in with a French browser: her e-mails are French, even when an English
    owner's action sends them; the owner's own e-mails stay English."""
    owner, carol, org = _member(app, owner_language="en")
    carol_id = user_id(app, "carol@example.com")
    assert app.extensions["console_accounts"].user(carol_id).locale == "fr"
    reminded = post(owner, f"/org/{org}/remind", {"user_id": carol_id})
    assert reminded.status_code == 302
    (reminder,) = [m for m in _mails(app, "carol@example.com") if m.kind == "reminder"]
    assert reminder.subject == "Configurez l\u2019authentification multifacteur"
    assert f"L\u2019organisation Olivia's organization (ID {org}) vous demande" in reminder.body
    assert "ouvrez votre page Sécurité du compte" in reminder.body
    assert (
        "Pour vous connecter, ouvrez la page de connexion des membres à l\u2019adresse "
        f"{BASE}/login/member, saisissez l\u2019ID de l\u2019organisation {org} et votre nom "
        "d\u2019utilisateur carol" in reminder.body
    )
    assert "sign in" not in reminder.body.casefold()

    set_up_totp(owner)
    (added,) = [m for m in _mails(app, "olivia@example.com") if m.kind == "method_added"]
    assert added.body.startswith('The authenticator app "Authenticator app" was added')

    sign_out(carol)
    post(carol, "/login/member", {"org_id": org, "username": "carol"})
    code_mail = _mails(app, "carol@example.com")[0]
    assert code_mail.kind == "login_code"
    assert code_mail.subject == "Votre code de connexion"
    assert re.search(r"est \d{6,8}\. Il expire", code_mail.body)


def test_a_member_created_by_a_french_owner_gets_french_mail_from_the_first(app: Any) -> None:
    """Until a member signs in, their e-mails are in the owner's language."""
    owner = _client(app)
    org = sign_up(owner, "olivia@example.com", "Olivia")
    add_member(owner, org, "carol", "carol@example.com")
    post(_client(app, "en"), "/login/member", {"org_id": org, "username": "carol"})
    (code_mail,) = _mails(app, "carol@example.com")
    assert code_mail.subject == "Votre code de connexion"
    assert f"Organisation de Olivia (ID {org})" in code_mail.body


def test_signing_in_in_english_switches_the_emails_back(app: Any) -> None:
    """A French sign-up, then an English sign-in: the next e-mails are English."""
    ada = _client(app)
    sign_up(ada, "ada@example.com", "Ada")
    accounts = app.extensions["console_accounts"]
    assert accounts.user_by_email("ada@example.com").locale == "fr"
    totp = set_up_totp(ada, "Téléphone")
    (french,) = [m for m in _mails(app, "ada@example.com") if m.kind == "method_added"]
    assert french.subject == "Une méthode de connexion a été ajoutée à votre compte"
    sign_out(ada)
    english = _client(app, "en")
    post(english, "/login", {"email": "ada@example.com", "password": PASSWORD})
    assert accounts.user_by_email("ada@example.com").locale == "fr"  # not signed in yet
    code = totp.at(time.time() + 30)
    verified = post(english, "/login/verify/code", {"kind": "totp", "code": code})
    assert verified.status_code == 302
    assert accounts.user_by_email("ada@example.com").locale == "en"
    set_up_totp(english, "Work")
    added = [m for m in _mails(app, "ada@example.com") if m.kind == "method_added"]
    assert added[0].body.startswith('The authenticator app "Work" was added to your account.')


def test_invitation_is_in_the_invitees_language_or_else_the_inviters(app: Any) -> None:
    """An invitee with an account reads their own language; a stranger the inviter's."""
    owner = _client(app, "en")
    org = sign_up(owner, "olivia@example.com", "Olivia")
    sign_up(_client(app), "bob@example.com", "Bob")
    for email in ("bob@example.com", "new@example.com"):
        assert post(owner, f"/org/{org}/invitations", {"email": email}).status_code == 302
    (bob,) = _mails(app, "bob@example.com")
    (stranger,) = _mails(app, "new@example.com")
    assert bob.subject == "Invitation à rejoindre Olivia's organization"
    assert stranger.subject == "You are invited to join Olivia's organization"


WHEN = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
ACME = Recipient(org_name="Acme", username="carol", member_sign_in="https://c.example/login/member")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            service.MethodRemoved(user_id="u-1", method="totp", label="Phone"),
            (
                f"Une méthode de connexion a été supprimée de votre compte{NBSP}: "
                f"l\u2019application d\u2019authentification «{NBSP}Phone{NBSP}»."
            ),
        ),
        (
            service.MethodAdded(user_id="u-1", method="passkey", label=""),
            f"Une méthode de connexion a été ajoutée à votre compte{NBSP}: une clé d\u2019accès.",
        ),
        (
            service.AccountLocked(user_id="u-1", org_id="org-1", reason="failed_attempts"),
            "Votre accès à Acme (ID org-1) est verrouillé après trop de tentatives",
        ),
        (
            service.LoginCode(user_id="u-1", org_id="org-1", code="123456", expires_at=WHEN),
            (
                "Votre code pour vous connecter à l\u2019organisation Acme (ID org-1) est 123456. "
                "Il expire le 2030-01-02 03:04 UTC."
            ),
        ),
        (
            service.MfaReminder(user_id="u-1", org_id="org-1", deadline=WHEN),
            (
                "L\u2019organisation Acme (ID org-1) vous demande de configurer "
                f"l\u2019authentification multifacteur avant le 2030-01-02 03:04 UTC{NBSP}: "
                "connectez-vous"
            ),
        ),
    ],
    ids=["method-removed", "method-added", "locked", "login-code", "reminder"],
)
def test_emails_render_in_french(message: service.Message, expected: str) -> None:
    """mfakit's texts in French, the console's wording where it has its own."""
    kind, subject, body = render(message, ACME, locale="fr")
    assert kind != "other"
    assert subject
    assert body.startswith(expected)
    english = render(message, ACME, locale="en")[2]
    assert english != body


def test_an_old_data_file_gains_the_language_column(tmp_path: Path) -> None:
    """A console_users table from before e-mails were translated is upgraded in place."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE console_users (user_id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE"
            " COLLATE NOCASE, name TEXT NOT NULL, password_hash TEXT, created_at TEXT NOT NULL)"
        )
        db.execute("INSERT INTO console_users VALUES ('u-1', 'a@example.com', 'A', NULL, 'x')")
    db.close()
    accounts = Accounts(path)
    old = accounts.user("u-1")
    assert old is not None
    assert old.locale is None
    accounts.set_locale("u-1", "fr")
    assert accounts.user_by_email("a@example.com").locale == "fr"
