"""The apple (WebAuthn L3 §8.8) and compound (§8.9) formats."""

from __future__ import annotations

import pytest

from mfakit.errors import InvalidAttestationError, UnsupportedAttestationError
from mfakit.testing._attestation_builders import AttestationBuilder
from mfakit.webauthn.attestation import _apple as _fmt_apple
from mfakit.webauthn.attestation import _compound as _fmt_compound
from mfakit.webauthn.attestation._options import FormatOptions

from ._support import parts, register


def test_valid_apple_is_anonca_and_trusted(builder: AttestationBuilder) -> None:
    """credCert with the nonce and the credential key, chained to the root, verifies."""
    result = register(builder, builder.apple())
    assert (result.fmt, result.attestation_type, result.trusted) == ("apple", "anonca", True)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("nonce", "nonce does not match"),
        ("key_mismatch", "not the credential public key"),
        ("no_extension", "lacks the nonce extension"),
        ("extra_member", "unexpected member"),
    ],
)
def test_apple_faults(builder: AttestationBuilder, fault: str, message: str) -> None:
    """One mutation of a valid statement gives one specific error."""
    with pytest.raises(InvalidAttestationError, match=message):
        register(builder, builder.apple(fault=fault))


def test_apple_alg_equal_to_the_credentials_is_accepted(builder: AttestationBuilder) -> None:
    """An apple statement with alg equal to the credential's (2020-era devices) verifies."""
    result = register(builder, builder.apple(fault="alg_equal"))
    assert (result.fmt, result.trusted) == ("apple", True)


@pytest.mark.parametrize("fault", ["alg_other", "alg_not_int"])
def test_apple_alg_other_than_the_credentials_is_refused(
    builder: AttestationBuilder, fault: str
) -> None:
    """An apple alg that is not the credential's algorithm, or not an integer, is refused."""
    with pytest.raises(InvalidAttestationError, match="alg is not the credential's"):
        register(builder, builder.apple(fault=fault))


def test_apple_alg_true_is_refused(builder: AttestationBuilder) -> None:
    """alg=True (a bool, which Python counts as the integer 1) is not an algorithm."""
    built = builder.apple()
    auth, key = parts(built)
    with pytest.raises(InvalidAttestationError, match="alg is not the credential's"):
        _fmt_apple.verify(dict(built.att_stmt, alg=True), auth, built.client_data_hash, key)


def test_apple_needs_x5c(builder: AttestationBuilder) -> None:
    """An empty apple statement is refused."""
    built = builder.apple()
    auth, key = parts(built)
    with pytest.raises(InvalidAttestationError, match="lacks x5c"):
        _fmt_apple.verify({}, auth, built.client_data_hash, key)


def test_valid_compound_lists_every_statement(builder: AttestationBuilder) -> None:
    """Both contained statements verify; the result lists them in order."""
    result = register(builder, builder.compound())
    assert result.fmt == "compound"
    assert result.attestation_statements == (("apple", "anonca"), ("android-key", "basic"))
    assert result.trusted


def test_compound_trust_follows_each_format_anchors(builder: AttestationBuilder) -> None:
    """With the root anchored for android-key only, the compound is still trusted."""
    result = register(
        builder,
        builder.compound(),
        trust_anchors=(),
        format_trust_anchors={"android-key": [builder.root]},
    )
    assert result.trusted
    untrusted = register(builder, builder.compound(), trust_anchors=())
    assert not untrusted.trusted


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("single", InvalidAttestationError, "2 to 8"),
        ("nested", UnsupportedAttestationError, "not supported"),
        ("inner", InvalidAttestationError, "nonce does not match"),
        ("not_map", InvalidAttestationError, "map of fmt and attStmt"),
    ],
)
def test_compound_faults(
    builder: AttestationBuilder, fault: str, error: type[Exception], message: str
) -> None:
    """Too few statements, nesting, a bad inner statement, a non-map entry are refused."""
    with pytest.raises(error, match=message):
        register(builder, builder.compound(fault=fault))


def test_compound_respects_allowed_formats(builder: AttestationBuilder) -> None:
    """A contained format outside allowed_formats is UnsupportedAttestationError."""
    with pytest.raises(UnsupportedAttestationError) as caught:
        register(builder, builder.compound(), allowed_formats={"compound", "apple"})
    assert caught.value.fmt == "android-key"


def test_compound_shape_rules(builder: AttestationBuilder) -> None:
    """attStmt must be the statements array; entries need text fmt and a map attStmt."""
    built = builder.compound()
    auth, key = parts(built)
    options = FormatOptions(nested=lambda fmt, stmt: _fmt_apple.verify(stmt, auth, b"", key))
    cases = [
        {"statements": [1, 2]},
        {"statements": (1, 2), "x": 1},
        {"statements": ({"fmt": 1, "attStmt": {}}, {"fmt": "apple", "attStmt": {}})},
        {"statements": ({"fmt": "apple", "attStmt": {1: 2}}, {"fmt": "apple", "attStmt": {}})},
    ]
    for stmt in cases:
        with pytest.raises(InvalidAttestationError):
            _fmt_compound.verify(stmt, auth, built.client_data_hash, key, options)
    with pytest.raises(InvalidAttestationError, match="need the attestation policy"):
        _fmt_compound.verify(
            {"statements": ({}, {})}, auth, built.client_data_hash, key, FormatOptions()
        )


def test_unparseable_certificate_extensions_are_refused(builder: AttestationBuilder) -> None:
    """A credCert whose extensions do not parse (bad basicConstraints) is refused, not leaked."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding

    from mfakit.webauthn.attestation import _android_key as _fmt_android_key

    bad = x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.19"), b"\x05\x00")
    leaf = builder.leaf(
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        extensions=((bad, False),),
        basic_constraints=False,
    )
    built = builder.apple()
    auth, key = parts(built)
    stmt = {"x5c": [leaf.public_bytes(Encoding.DER)]}
    with pytest.raises(InvalidAttestationError, match="does not parse"):
        _fmt_apple.verify(stmt, auth, built.client_data_hash, key)
    android = builder.android_key()
    auth, key = parts(android)
    # Same bad certificate, but signed by the credential key so the key check passes.
    leaf = builder.leaf(
        android.credential_private_key.public_key(),
        extensions=((bad, False),),
        basic_constraints=False,
    )
    stmt = dict(android.att_stmt, x5c=[leaf.public_bytes(Encoding.DER)])
    with pytest.raises(InvalidAttestationError, match="does not parse"):
        _fmt_android_key.verify(stmt, auth, android.client_data_hash, key)
