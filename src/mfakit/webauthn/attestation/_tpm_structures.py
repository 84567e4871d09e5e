"""A strict reader of the two TPM 2.0 structures the ``tpm`` attestation format carries.

TPM 2.0 Library, Part 2 "Structures": ``TPMS_ATTEST`` (§10.12.12, the
``certInfo`` the AIK signs) and ``TPMT_PUBLIC`` (§12.2.4, the ``pubArea`` of the
credential key). Every integer is big-endian; every ``TPM2B_*`` is a 16-bit size
followed by that many bytes. The readers refuse short input, trailing bytes,
unknown algorithm identifiers and sizes beyond what the structures allow, with
:class:`~mfakit.errors.MalformedDataError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mfakit.errors import MalformedDataError

__all__ = [
    "TPMSAttest",
    "TPMTPublic",
    "TPM_ALG_ECC",
    "TPM_ALG_NULL",
    "TPM_ALG_RSA",
    "TPM_GENERATED_VALUE",
    "TPM_ST_ATTEST_CERTIFY",
    "parse_tpms_attest",
    "parse_tpmt_public",
]

#: ``TPM_GENERATED_VALUE`` (Part 2 §6.2): "\xffTCG", marks TPM-made data.
TPM_GENERATED_VALUE = 0xFF544347
#: ``TPM_ST_ATTEST_CERTIFY`` (Part 2 §6.9): the output of TPM2_Certify.
TPM_ST_ATTEST_CERTIFY = 0x8017
#: ``TPM_ALG_RSA`` (Part 2 §6.3).
TPM_ALG_RSA = 0x0001
#: ``TPM_ALG_ECC`` (Part 2 §6.3).
TPM_ALG_ECC = 0x0023
#: ``TPM_ALG_NULL`` (Part 2 §6.3).
TPM_ALG_NULL = 0x0010
#: Largest ``certInfo`` / ``pubArea`` accepted, in bytes (real ones are < 1 KiB).
MAX_TPM_STRUCTURE_BYTES = 4096

_MAX_NAME = 2 + 64  # TPMU_NAME: a hash algorithm id and a digest of at most SHA-512
_MAX_DATA = 64  # TPM2B_DATA: sizeof(TPMT_HA) minus the algorithm id
_MAX_DIGEST = 64
_MAX_RSA_BYTES = 1024  # 8192-bit modulus
_MAX_ECC_BYTES = 66  # P-521 coordinates

# Hash algorithms (Part 2 §6.3) and their digest sizes, for names and schemes.
TPM_HASH_SIZES: dict[int, int] = {0x0004: 20, 0x000B: 32, 0x000C: 48, 0x000D: 64}
# Symmetric algorithms allowed in TPMT_SYM_DEF_OBJECT (AES, SM4, Camellia).
_SYMMETRIC = frozenset({0x0006, 0x0013, 0x0026})
# Signing and key-exchange schemes: RSASSA, RSAES, RSAPSS, OAEP, ECDSA, ECDH, ECDAA,
# SM2, ECSCHNORR, ECMQV; KDFs: MGF1, KDF1-SP800-56A, KDF2, KDF1-SP800-108.
_SCHEMES = frozenset(
    {0x0014, 0x0015, 0x0016, 0x0017, 0x0018, 0x0019, 0x001A, 0x001B, 0x001C, 0x001D}
)
_KDFS = frozenset({0x0007, 0x0020, 0x0021, 0x0022})
# TPM_ECC_CURVE values (Part 2 §6.4) mfakit maps to credential curves.
TPM_ECC_CURVES = frozenset({0x0003, 0x0004, 0x0005})


class _Reader:
    __slots__ = ("_data", "_pos", "_what")

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self._what = what

    def bad(self, message: str) -> MalformedDataError:
        return MalformedDataError(f"{self._what}: {message}", field=self._what)

    def take(self, n: int) -> bytes:
        end = self._pos + n
        if end > len(self._data):
            raise self.bad("truncated")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def u64(self) -> int:
        return int.from_bytes(self.take(8), "big")

    def sized(self, limit: int, name: str) -> bytes:
        size = self.u16()
        if size > limit:
            raise self.bad(f"{name} too large")
        return self.take(size)

    def end(self) -> None:
        if self._pos != len(self._data):
            raise self.bad("trailing bytes")


def _start(data: object, what: str) -> _Reader:
    if type(data) is not bytes:
        raise MalformedDataError(f"{what} must be bytes", field=what)
    if len(data) > MAX_TPM_STRUCTURE_BYTES:
        raise MalformedDataError(f"{what} too large", field=what)
    return _Reader(data, what)


@dataclass(frozen=True, slots=True, kw_only=True)
class TPMSAttest:
    """``TPMS_ATTEST`` holding a ``TPMS_CERTIFY_INFO`` (Part 2 §10.12.12, §10.12.3).

    Attributes:
        raw: The exact bytes (what the AIK signed).
        magic: ``TPM_GENERATED_VALUE`` for data the TPM made.
        type: The structure tag; ``TPM_ST_ATTEST_CERTIFY`` here.
        qualified_signer: The AIK's qualified name.
        extra_data: The caller's nonce: the hash of ``attToBeSigned`` in WebAuthn.
        clock: ``TPMS_CLOCK_INFO.clock``.
        reset_count: ``TPMS_CLOCK_INFO.resetCount``.
        restart_count: ``TPMS_CLOCK_INFO.restartCount``.
        safe: ``TPMS_CLOCK_INFO.safe`` (kept as the byte seen; WebAuthn ignores it).
        firmware_version: The TPM's firmware version.
        attested_name: ``TPMS_CERTIFY_INFO.name``: the certified key's Name.
        attested_qualified_name: ``TPMS_CERTIFY_INFO.qualifiedName``.
    """

    raw: bytes = field(repr=False)
    magic: int
    type: int
    qualified_signer: bytes
    extra_data: bytes
    clock: int
    reset_count: int
    restart_count: int
    safe: int
    firmware_version: int
    attested_name: bytes
    attested_qualified_name: bytes


def parse_tpms_attest(data: bytes) -> TPMSAttest:
    """Parse ``certInfo``: a ``TPMS_ATTEST`` whose ``attested`` is a ``TPMS_CERTIFY_INFO``.

    The tag is read first and must be ``TPM_ST_ATTEST_CERTIFY``: the union's
    layout depends on it, and WebAuthn accepts no other (§8.3).

    Raises:
        MalformedDataError: Not bytes, too large, truncated, trailing bytes, a
            field larger than its type allows, or another attestation type.
    """
    r = _start(data, "certInfo")
    magic = r.u32()
    tag = r.u16()
    if tag != TPM_ST_ATTEST_CERTIFY:
        raise r.bad("not a TPM_ST_ATTEST_CERTIFY structure")
    signer = r.sized(_MAX_NAME, "qualifiedSigner")
    extra = r.sized(_MAX_DATA, "extraData")
    clock, reset, restart, safe = r.u64(), r.u32(), r.u32(), r.u8()
    firmware = r.u64()
    name = r.sized(_MAX_NAME, "name")
    qualified = r.sized(_MAX_NAME, "qualifiedName")
    r.end()
    return TPMSAttest(
        raw=data,
        magic=magic,
        type=tag,
        qualified_signer=signer,
        extra_data=extra,
        clock=clock,
        reset_count=reset,
        restart_count=restart,
        safe=safe,
        firmware_version=firmware,
        attested_name=name,
        attested_qualified_name=qualified,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TPMTPublic:
    """``TPMT_PUBLIC`` (Part 2 §12.2.4) of an RSA or ECC key.

    Attributes:
        raw: The exact bytes (what the key's Name is a hash of).
        type: ``TPM_ALG_RSA`` or ``TPM_ALG_ECC``.
        name_alg: The hash algorithm of the key's Name.
        object_attributes: ``TPMA_OBJECT`` bits.
        auth_policy: The policy digest.
        symmetric: ``TPMT_SYM_DEF_OBJECT.algorithm`` (``TPM_ALG_NULL`` for signing keys).
        scheme: The signing scheme, or ``TPM_ALG_NULL``.
        scheme_hash: The scheme's hash algorithm, or ``None``.
        rsa_key_bits: RSA ``keyBits`` (``None`` for ECC).
        rsa_exponent: RSA public exponent (``0`` in the structure means 65537).
        rsa_modulus: RSA ``unique``: the modulus, big-endian.
        ecc_curve: ``TPM_ECC_CURVE`` (``None`` for RSA).
        ecc_kdf: ECC ``kdf.scheme``.
        ecc_x: ECC ``unique.x``.
        ecc_y: ECC ``unique.y``.
    """

    raw: bytes = field(repr=False)
    type: int
    name_alg: int
    object_attributes: int
    auth_policy: bytes
    symmetric: int
    scheme: int
    scheme_hash: int | None
    rsa_key_bits: int | None = None
    rsa_exponent: int | None = None
    rsa_modulus: bytes = b""
    ecc_curve: int | None = None
    ecc_kdf: int | None = None
    ecc_x: bytes = b""
    ecc_y: bytes = b""


def _scheme(r: _Reader, allowed: frozenset[int], name: str) -> tuple[int, int | None]:
    scheme = r.u16()
    if scheme == TPM_ALG_NULL:
        return scheme, None
    if scheme not in allowed:
        raise r.bad(f"unknown {name}")
    hash_alg = r.u16()
    if hash_alg not in TPM_HASH_SIZES:
        raise r.bad(f"unknown {name} hash")
    return scheme, hash_alg


def parse_tpmt_public(data: bytes) -> TPMTPublic:
    """Parse ``pubArea``: a ``TPMT_PUBLIC`` of type RSA or ECC.

    Raises:
        MalformedDataError: Not bytes, too large, truncated, trailing bytes, an
            unknown key type, hash, scheme or curve, or an oversized field.
    """
    r = _start(data, "pubArea")
    key_type = r.u16()
    if key_type not in (TPM_ALG_RSA, TPM_ALG_ECC):
        raise r.bad("key type is neither RSA nor ECC")
    name_alg = r.u16()
    if name_alg not in TPM_HASH_SIZES:
        raise r.bad("unknown nameAlg")
    attributes = r.u32()
    auth_policy = r.sized(_MAX_DIGEST, "authPolicy")
    symmetric = r.u16()
    if symmetric != TPM_ALG_NULL:
        if symmetric not in _SYMMETRIC:
            raise r.bad("unknown symmetric algorithm")
        r.u16()  # keyBits
        r.u16()  # mode
    scheme, scheme_hash = _scheme(r, _SCHEMES, "scheme")
    if key_type == TPM_ALG_RSA:
        key_bits = r.u16()
        exponent = r.u32()
        modulus = r.sized(_MAX_RSA_BYTES, "unique")
        r.end()
        return TPMTPublic(
            raw=data,
            type=key_type,
            name_alg=name_alg,
            object_attributes=attributes,
            auth_policy=auth_policy,
            symmetric=symmetric,
            scheme=scheme,
            scheme_hash=scheme_hash,
            rsa_key_bits=key_bits,
            rsa_exponent=exponent,
            rsa_modulus=modulus,
        )
    curve = r.u16()
    if curve not in TPM_ECC_CURVES:
        raise r.bad("unsupported curve")
    kdf, _ = _scheme(r, _KDFS, "kdf")
    x = r.sized(_MAX_ECC_BYTES, "unique.x")
    y = r.sized(_MAX_ECC_BYTES, "unique.y")
    r.end()
    return TPMTPublic(
        raw=data,
        type=key_type,
        name_alg=name_alg,
        object_attributes=attributes,
        auth_policy=auth_policy,
        symmetric=symmetric,
        scheme=scheme,
        scheme_hash=scheme_hash,
        ecc_curve=curve,
        ecc_kdf=kdf,
        ecc_x=x,
        ecc_y=y,
    )
