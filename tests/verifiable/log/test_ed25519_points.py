"""Weak Ed25519 public keys are told from real ones
(verifiable/log/ed25519_points.py), checked against OpenSSL: under each key
called weak, OpenSSL accepts one forged signature — on every text under
the identity, on one text in 2, 4 or 8 under the other points of small
order (the hash of the text must be a multiple of the point's order), so a
forger who chooses the text always finds one."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from verifiable.errors import MalformedError
from verifiable.log.ed25519_points import weak_public_key
from verifiable.log.note import Ed25519Verifier, VerifierKey

P = 2**255 - 19

#: The eight points of small order, canonically encoded (the torsion subgroup).
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # identity
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
    "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
    "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
]
#: The same points written with y unreduced (y + p < 2^255): y = 0 and 1 only.
UNREDUCED = [(P + 1).to_bytes(32, "little").hex(), P.to_bytes(32, "little").hex()]
#: R = the identity, S = 0: a signature of nothing.
FORGED = bytes.fromhex(SMALL_ORDER[0]) + bytes(32)
#: Texts a forger might try, one after another.
TEXTS = [b"example.org/log\n%d\n" % n for n in range(200)]


def _openssl_accepts_the_forgery(key: bytes, text: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(FORGED, text)
    except (InvalidSignature, ValueError):
        return False
    return True


@pytest.mark.parametrize("encoded", SMALL_ORDER + UNREDUCED)
def test_a_key_under_which_anything_verifies_is_weak(encoded: str) -> None:
    key = bytes.fromhex(encoded)
    assert weak_public_key(key) is not None
    # The reason it matters: OpenSSL takes the forged signature on any text.
    assert any(_openssl_accepts_the_forgery(key, t) for t in TEXTS)


@pytest.mark.parametrize("seed", range(100))
def test_a_real_key_is_not_weak_and_refuses_the_forgery(seed: int) -> None:
    private = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"%d" % seed).digest())
    key = private.public_key().public_bytes_raw()
    assert weak_public_key(key) is None
    assert not any(_openssl_accepts_the_forgery(key, t) for t in TEXTS)


def test_bytes_that_are_no_point_are_refused_too() -> None:
    # y = 2: no x makes it a point (2 is no y of the curve).
    assert "not a point" in str(weak_public_key((2).to_bytes(32, "little")))


def test_a_verifier_key_string_naming_a_weak_key_is_refused() -> None:
    weak = bytes.fromhex(SMALL_ORDER[4])
    with pytest.raises(MalformedError, match="small order"):
        Ed25519Verifier("example.org/log", weak)
    text = VerifierKey.__new__(VerifierKey)
    object.__setattr__(text, "name", "example.org/log")
    object.__setattr__(text, "algorithm", 1)
    object.__setattr__(text, "public_key", weak)
    with pytest.raises(MalformedError, match="not a usable Ed25519 public key"):
        VerifierKey.from_text(text.to_text())
