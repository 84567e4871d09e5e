"""Typed shapes of the WebAuthn Level 3 JSON that mfakit produces and accepts.

``TypedDict`` classes (from ``typing_extensions``) for the dictionaries
:meth:`~mfakit.webauthn.RegistrationOptions.to_json` and
:meth:`~mfakit.webauthn.AuthenticationOptions.to_json` return, and for the
``credential.toJSON()`` responses the verifiers take, and for the Signal API
payloads (:func:`~mfakit.webauthn.unknown_credential_signal` and its
siblings), so a type checker can follow them through a web framework's handlers::

    from mfakit.webauthn.typing import AuthenticationResponseJSON

    def finish_sign_in(body: AuthenticationResponseJSON) -> None: ...

They describe shapes only; nothing is checked at run time by them (the
verifiers check everything).
"""

from __future__ import annotations

from ._options import (
    AuthenticatorSelectionCriteriaJSON,
    PublicKeyCredentialCreationOptionsJSON,
    PublicKeyCredentialDescriptorJSON,
    PublicKeyCredentialParametersJSON,
    PublicKeyCredentialRequestOptionsJSON,
    PublicKeyCredentialRpEntityJSON,
    PublicKeyCredentialUserEntityJSON,
)
from ._public import publish
from ._response import (
    AuthenticationResponseJSON,
    AuthenticatorAssertionResponseJSON,
    AuthenticatorAttestationResponseJSON,
    RegistrationResponseJSON,
)
from ._signals import (
    AllAcceptedCredentialsOptionsJSON,
    CurrentUserDetailsOptionsJSON,
    UnknownCredentialOptionsJSON,
)

__all__ = [
    "AllAcceptedCredentialsOptionsJSON",
    "AuthenticationResponseJSON",
    "AuthenticatorAssertionResponseJSON",
    "AuthenticatorAttestationResponseJSON",
    "AuthenticatorSelectionCriteriaJSON",
    "CurrentUserDetailsOptionsJSON",
    "PublicKeyCredentialCreationOptionsJSON",
    "PublicKeyCredentialDescriptorJSON",
    "PublicKeyCredentialParametersJSON",
    "PublicKeyCredentialRequestOptionsJSON",
    "PublicKeyCredentialRpEntityJSON",
    "PublicKeyCredentialUserEntityJSON",
    "RegistrationResponseJSON",
    "UnknownCredentialOptionsJSON",
]

publish(__name__, globals(), __all__)
