"""Tests for verifiable.log.cosignature: C2SP tlog-cosignature, Ed25519 cosignature/v1."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.cosignature import (
    COSIGNATURE_SIZE,
    MAX_TIMESTAMP,
    Cosignature,
    CosignatureSigner,
    CosignatureVerifier,
    cosigned_message,
    generate_cosignature_key,
    verified_cosignatures,
)
from verifiable.log.note import (
    ALG_ED25519,
    ALG_ED25519_COSIGNATURE,
    Ed25519Signer,
    Ed25519Verifier,
    NoteSignature,
    PrivateKey,
    VerifierKey,
    open_note,
)

VECTORS = Path(__file__).parents[2] / "vectors"
SIGNED_NOTE: dict[str, Any] = json.loads((VECTORS / "signed-note.json").read_text("utf-8"))
GENERATED: dict[str, Any] = json.loads(
    (VECTORS / "generated-cosignature-and-tiles.json").read_text("utf-8")
)
TDEV = SIGNED_NOTE["transparency_dev_formats"]
C2SP = SIGNED_NOTE["c2sp_cosignature_example"]

WITNESS_KEYS = GENERATED["keys"]["witness"]
WITNESS = CosignatureSigner(WITNESS_KEYS["name"], bytes.fromhex(WITNESS_KEYS["ed25519_seed_hex"]))
LOG_KEYS = GENERATED["keys"]["log"]
LOG = Ed25519Signer(LOG_KEYS["name"], bytes.fromhex(LOG_KEYS["ed25519_seed_hex"]))
BODY: str = GENERATED["checkpoint_body"]
TIMESTAMP: int = GENERATED["cosignature_timestamp"]
COSIGNED_NOTE: bytes = GENERATED["checkpoint_with_log_sig_and_cosig"].encode()
COSIGNATURE_LINE = COSIGNED_NOTE.decode().splitlines()[-1]


# --- vectors --------------------------------------------------------------------------


def test_generated_witness_key_from_seed() -> None:
    assert WITNESS.verifier().to_vkey() == WITNESS_KEYS["vkey_cosignature_v1"]
    assert CosignatureVerifier.from_vkey(WITNESS_KEYS["vkey_cosignature_v1"]) == WITNESS.verifier()


def test_generated_signed_message() -> None:
    assert cosigned_message(BODY, TIMESTAMP) == GENERATED["cosignature_signed_message"].encode()


def test_generated_cosignature_line_regenerates_byte_for_byte() -> None:
    # Ed25519 is deterministic (RFC 8032), so the same seed, time and body give
    # the same line.
    cosignature = WITNESS.cosign(BODY, TIMESTAMP)
    assert cosignature.to_line() == COSIGNATURE_LINE
    assert Cosignature.from_line(COSIGNATURE_LINE) == cosignature


def test_generated_note_opens_with_the_witness_key_alone() -> None:
    opened = open_note(COSIGNED_NOTE, [WITNESS.verifier()])
    assert [s.name for s in opened.unverified] == [LOG_KEYS["name"]]
    (cosignature,) = verified_cosignatures(opened)
    assert cosignature.timestamp == TIMESTAMP
    assert cosignature.name == WITNESS_KEYS["name"]


def test_generated_note_opens_with_both_keys() -> None:
    opened = open_note(COSIGNED_NOTE, [LOG.verifier(), WITNESS.verifier()])
    assert opened.verifiers == (LOG.verifier(), WITNESS.verifier())
    assert [c.timestamp for c in verified_cosignatures(opened)] == [TIMESTAMP]


TIMESTAMP_CASES = TDEV["cosignature_timestamp_cases"]


@pytest.mark.parametrize(
    "case", TIMESTAMP_CASES, ids=["cosignature-76-bytes", "plain-ed25519-68-bytes"]
)
def test_transparency_dev_timestamp_cases(case: dict[str, Any]) -> None:
    raw = base64.b64decode(case["sig_base64"])
    sig = NoteSignature("witness.example", int.from_bytes(raw[:4], "big"), raw[4:])
    if "timestamp" in case:
        assert len(raw) == case["total_len"]
        cosignature = Cosignature.from_note_signature(sig)
        assert f"{cosignature.key_id:08x}" == case["keyid_hex"]
        assert cosignature.timestamp == case["timestamp"]
        assert cosignature.to_note_signature() == sig
    else:
        assert case["expect"].startswith("error: wrong type of signature")
        with pytest.raises(MalformedError, match="64 bytes after the key ID, expected 72"):
            Cosignature.from_note_signature(sig)


def test_c2sp_example_line_decodes() -> None:
    # The spec does not publish the witness's public key, so the signature
    # itself cannot be checked; the encoding can.
    cosignature = Cosignature.from_line(C2SP["line"])
    decoded = C2SP["decoded"]
    assert f"{cosignature.key_id:08x}" == decoded["keyid_hex"]
    assert cosignature.timestamp == decoded["timestamp"]
    assert len(base64.b64decode(C2SP["line"].split(" ")[2])) == decoded["total_len"]
    assert cosignature.to_line() == C2SP["line"]


@pytest.mark.parametrize("entry", TDEV["vkeys_ok"], ids=["type-01", "type-04"])
def test_transparency_dev_vkeys_as_witness_keys(entry: str) -> None:
    vkey = entry.split(" ")[0]
    if VerifierKey.from_text(vkey).algorithm == ALG_ED25519_COSIGNATURE:
        assert CosignatureVerifier.from_vkey(vkey).to_vkey() == vkey
    else:
        # transparency-dev/formats reinterprets a type 0x01 key as a witness
        # key; we refuse, so one key string always means one key ID.
        with pytest.raises(MalformedError, match="signature type 0x01, expected 0x04"):
            CosignatureVerifier.from_vkey(vkey)


# --- our own keys ------------------------------------------------------------------------


def test_generate_cosignature_key_round_trips() -> None:
    skey, vkey = generate_cosignature_key("witness.example/w2", bytes(range(32)))
    signer = CosignatureSigner.from_private_key(skey)
    assert signer.to_private_key() == skey
    assert signer.verifier().to_vkey() == vkey
    assert bytes(range(32)).hex() not in repr(signer)


def test_witness_and_log_key_ids_differ_for_the_same_key() -> None:
    # The type byte is part of the key ID, so a cosignature never passes for
    # a plain note signature by the same key and name, nor the reverse.
    same = Ed25519Signer(WITNESS.name, WITNESS.seed)
    assert same.key_id != WITNESS.key_id
    with pytest.raises(VerificationError, match="no signature by a known key"):
        open_note(COSIGNED_NOTE, [same.verifier()])
    with pytest.raises(MalformedError, match="signature type 0x01, expected 0x04"):
        CosignatureSigner.from_private_key(same.to_private_key())


def test_recosigning_replaces_the_older_cosignature() -> None:
    opened = open_note(COSIGNED_NOTE, [LOG.verifier()])
    later = WITNESS.cosign(opened.text, TIMESTAMP + 60)
    note = opened.note.add_signatures([later.to_note_signature()])
    again = open_note(note.to_bytes(), [WITNESS.verifier()])
    assert [c.timestamp for c in verified_cosignatures(again)] == [TIMESTAMP + 60]


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=MAX_TIMESTAMP))
def test_any_timestamp_round_trips(timestamp: int) -> None:
    cosignature = WITNESS.cosign(BODY, timestamp)
    assert Cosignature.from_line(cosignature.to_line()) == cosignature
    assert cosigned_message(BODY, timestamp).split(b"\n")[1] == b"time %d" % timestamp
    WITNESS.verifier().verify(BODY.encode(), cosignature.to_note_signature().signature)


# --- failures ----------------------------------------------------------------------------


def test_every_bit_flip_of_the_cosignature_line_loses_it() -> None:
    start = COSIGNED_NOTE.rindex("\u2014".encode())
    for i in range(start, len(COSIGNED_NOTE)):
        for bit in range(8):
            mutated = bytearray(COSIGNED_NOTE)
            mutated[i] ^= 1 << bit
            with pytest.raises((MalformedError, VerificationError)):
                open_note(bytes(mutated), [WITNESS.verifier()])


def test_every_bit_flip_of_the_body_fails_the_cosignature() -> None:
    for i in range(len(BODY)):
        mutated = bytearray(COSIGNED_NOTE)
        mutated[i] ^= 0x01
        with pytest.raises((MalformedError, VerificationError)):
            open_note(bytes(mutated), [WITNESS.verifier()])


def _signature(timestamp: int, rest: bytes = bytes(64)) -> bytes:
    return timestamp.to_bytes(8, "big") + rest


def test_verifier_rejects() -> None:
    verifier = WITNESS.verifier()
    valid = WITNESS.cosign(BODY, TIMESTAMP).to_note_signature().signature
    with pytest.raises(VerificationError, match="64 bytes after the key ID, expected 72"):
        verifier.verify(BODY.encode(), valid[8:])
    with pytest.raises(VerificationError, match="timestamp 9223372036854775808 exceeds"):
        verifier.verify(BODY.encode(), _signature(MAX_TIMESTAMP + 1, valid[8:]))
    with pytest.raises(VerificationError, match="timestamp 1679315148 does not verify"):
        verifier.verify(BODY.encode(), _signature(TIMESTAMP + 1, valid[8:]))
    with pytest.raises(VerificationError, match="does not verify"):
        verifier.verify(BODY.encode() + b"x\n", valid)


def test_open_note_reports_a_bad_cosignature() -> None:
    bad = Cosignature(WITNESS.name, WITNESS.key_id, TIMESTAMP + 1, bytes(64))
    note = open_note(COSIGNED_NOTE, [LOG.verifier()]).note
    message = note.add_signatures([bad.to_note_signature()]).to_bytes()
    with pytest.raises(VerificationError, match=r"witness.example.com/w1\+ae5ca444 is invalid"):
        open_note(message, [LOG.verifier(), WITNESS.verifier()])


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: cosigned_message(BODY, -1), "timestamp -1 is outside 0..2\\^63-1"),
        (lambda: cosigned_message(BODY, MAX_TIMESTAMP + 1), "is outside 0..2\\^63-1"),
        (lambda: cosigned_message(BODY, True), "timestamp True is not an integer"),
        (lambda: WITNESS.cosign(BODY, MAX_TIMESTAMP + 1), "is outside"),
        (lambda: WITNESS.cosign("no newline", 1), "does not end in a newline"),
        (lambda: Cosignature("a b", 1, 1, bytes(64)), "U\\+0020"),
        (lambda: Cosignature("a", 1 << 32, 1, bytes(64)), "key ID 4294967296 is not a uint32"),
        (lambda: Cosignature("a", 1, 1, bytes(63)), "signature is 63 bytes, expected 64"),
        (lambda: Cosignature("a", 1, -5, bytes(64)), "timestamp -5 is outside"),
        (
            lambda: Cosignature.from_note_signature(
                NoteSignature("a", 1, _signature(MAX_TIMESTAMP + 1))
            ),
            "timestamp 9223372036854775808 is outside",
        ),
        (
            lambda: Cosignature.from_note_signature(NoteSignature("a", 1, bytes(73))),
            "73 bytes after the key ID, expected 72",
        ),
        (lambda: Cosignature.from_line("- a AAAAAA=="), "em dash"),
        (lambda: CosignatureVerifier("w", bytes(31)), "key is 31 bytes, expected 32"),
        (lambda: CosignatureSigner("w+1", bytes(32)), "'w\\+1'"),
        (
            lambda: CosignatureVerifier.from_vkey(
                Ed25519Verifier(WITNESS.name, WITNESS.public_key).to_vkey()
            ),
            "witness key witness.example.com/w1: signature type 0x01, expected 0x04",
        ),
        (
            lambda: CosignatureSigner.from_private_key(
                PrivateKey("w", ALG_ED25519, bytes(32)).to_text()
            ),
            "private key w: signature type 0x01, expected 0x04",
        ),
    ],
    ids=[
        "negative-time",
        "time-too-big",
        "bool-time",
        "cosign-time-too-big",
        "cosign-text-without-newline",
        "space-in-name",
        "key-id-too-big",
        "short-signature",
        "negative-timestamp",
        "parsed-timestamp-too-big",
        "73-bytes",
        "hyphen-line",
        "short-public-key",
        "plus-in-name",
        "note-key-as-witness-key",
        "note-private-key-as-witness-key",
    ],
)
def test_constructors_reject(build: Any, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        build()


def test_cosignature_size_constant() -> None:
    assert COSIGNATURE_SIZE == 72
