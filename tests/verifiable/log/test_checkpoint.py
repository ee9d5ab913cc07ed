"""Tests for verifiable.log.checkpoint: C2SP tlog-checkpoint and its signed notes."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key
from hypothesis import given, settings
from hypothesis import strategies as st

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    add_cosignatures,
    cosign_checkpoint,
    open_checkpoint,
    sign_checkpoint,
)
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.note import Ed25519Signer, Ed25519Verifier, Note, sign_note

VECTORS = Path(__file__).parents[2] / "vectors"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text("utf-8"))
    return data


GENERATED = _load("generated-cosignature-and-tiles.json")
REKOR = _load("rekor-v2-staging-checkpoint.json")
SUMDB = _load("signed-note.json")["tlog_tree_note_sumdb"]

LOG_KEYS = GENERATED["keys"]["log"]
WITNESS_KEYS = GENERATED["keys"]["witness"]
LOG = Ed25519Signer(LOG_KEYS["name"], bytes.fromhex(LOG_KEYS["ed25519_seed_hex"]))
WITNESS = CosignatureSigner(WITNESS_KEYS["name"], bytes.fromhex(WITNESS_KEYS["ed25519_seed_hex"]))
ORIGIN: str = LOG_KEYS["name"]
BODY: str = GENERATED["checkpoint_body"]
TIMESTAMP: int = GENERATED["cosignature_timestamp"]
COSIGNED: bytes = GENERATED["checkpoint_with_log_sig_and_cosig"].encode()
LOG_SIGNED = COSIGNED[: COSIGNED.rindex("\u2014".encode())]
ROOT = bytes(range(32))


# --- vectors -----------------------------------------------------------------------------


def test_generated_checkpoint_body_round_trips() -> None:
    checkpoint = Checkpoint.from_text(BODY)
    assert (checkpoint.origin, checkpoint.size) == (ORIGIN, 20852163)
    assert checkpoint.to_text() == BODY
    assert Checkpoint.from_bytes(BODY.encode()).to_bytes() == BODY.encode()


def test_generated_log_signature_regenerates_byte_for_byte() -> None:
    assert LOG.verifier().to_vkey() == LOG_KEYS["vkey"]
    assert sign_checkpoint(Checkpoint.from_text(BODY), LOG) == LOG_SIGNED


def test_generated_cosigned_note_regenerates_byte_for_byte() -> None:
    assert cosign_checkpoint(LOG_SIGNED, WITNESS, TIMESTAMP) == COSIGNED
    assert add_cosignatures(LOG_SIGNED, [WITNESS.cosign(BODY, TIMESTAMP)]) == COSIGNED


def test_generated_cosigned_note_opens() -> None:
    signed = open_checkpoint(COSIGNED, LOG.verifier(), ORIGIN, [WITNESS.verifier()])
    assert signed.checkpoint == Checkpoint.from_text(BODY)
    assert [(c.name, c.timestamp) for c in signed.cosignatures] == [
        (WITNESS_KEYS["name"], TIMESTAMP)
    ]
    assert signed.to_bytes() == COSIGNED
    # Without the witness configured, its line is simply unverified.
    plain = open_checkpoint(COSIGNED, LOG.verifier(), ORIGIN)
    assert plain.cosignatures == ()
    assert [s.name for s in plain.note.unverified] == [WITNESS_KEYS["name"]]


def test_rekor_v2_staging_checkpoint_opens() -> None:
    verifier = Ed25519Verifier.from_vkey(REKOR["vkey"])
    signed = open_checkpoint(REKOR["checkpoint_note"].encode(), verifier, REKOR["origin"])
    assert signed.checkpoint.size == REKOR["tree_size"]
    assert signed.checkpoint.root_hash == base64.b64decode(REKOR["root_hash_b64"])
    assert signed.checkpoint.extensions == ()
    assert signed.to_bytes() == REKOR["checkpoint_note"].encode()


def test_rekor_v2_key_derivations() -> None:
    raw = base64.b64decode(REKOR["log_public_key_raw_b64"])
    spki = load_der_public_key(base64.b64decode(REKOR["log_public_key_spki_der_b64"]))
    assert isinstance(spki, Ed25519PublicKey)
    assert spki.public_bytes_raw() == raw
    verifier = Ed25519Verifier(REKOR["origin"], raw)
    assert verifier.to_vkey() == REKOR["vkey"]
    # Rekor's log ID is the untruncated hash whose first 4 bytes are the key ID.
    log_id = hashlib.sha256(REKOR["origin"].encode() + b"\n\x01" + raw).digest()
    assert base64.b64encode(log_id).decode() == REKOR["log_id_full_b64"]
    assert verifier.key_id == int.from_bytes(log_id[:4], "big")


def test_rekor_v2_checkpoint_rejects_a_wrong_origin() -> None:
    verifier = Ed25519Verifier.from_vkey(REKOR["vkey"])
    with pytest.raises(VerificationError, match=r"origin 'log2025-alpha1\.rekor\.sigstage\.dev'"):
        open_checkpoint(REKOR["checkpoint_note"].encode(), verifier, "log2025-alpha2")


def test_sumdb_tree_note_text_is_a_checkpoint() -> None:
    checkpoint = Checkpoint.from_text(SUMDB["text"])
    assert checkpoint.origin == "go.sum database tree"
    assert checkpoint.size == SUMDB["tree_size"]
    record = SUMDB["record_hash_of"].encode()
    assert checkpoint.root_hash == hashlib.sha256(b"\x00" + record).digest()
    assert checkpoint.to_text() == SUMDB["text"]


def test_sumdb_record_format_is_not_a_checkpoint() -> None:
    # The record golden is sumdb's lookup-record format, which this project
    # does not use; the checkpoint parser must not mistake it for a tree head.
    golden = SUMDB["record_format_golden"]
    assert golden["msg"] == f"{golden['id']}\n{golden['text']}\n"
    with pytest.raises(MalformedError, match="line 3 is empty"):
        Checkpoint.from_text(golden["msg"])


# --- round trips ---------------------------------------------------------------------------

_LINE = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30)


@settings(max_examples=100, deadline=None)
@given(
    origin=_LINE,
    size=st.integers(min_value=0, max_value=MAX_TREE_SIZE),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(_LINE, max_size=3),
)
def test_checkpoint_text_round_trips(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.from_text(checkpoint.to_text()) == checkpoint
    assert Checkpoint.from_bytes(checkpoint.to_bytes()).to_bytes() == checkpoint.to_bytes()


def test_sign_and_open_with_extensions() -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT, ("ext one", "ext two"))
    note = sign_checkpoint(checkpoint, LOG)
    cosigned = cosign_checkpoint(note, WITNESS, 1)
    signed = open_checkpoint(cosigned, LOG.verifier(), ORIGIN, [WITNESS.verifier()])
    assert signed.checkpoint == checkpoint
    assert signed.to_bytes() == cosigned


def test_sizes_at_the_limits() -> None:
    for size in (0, 1, MAX_TREE_SIZE):
        text = f"o\n{size}\n{base64.b64encode(ROOT).decode()}\n"
        assert Checkpoint.from_text(text).size == size


# --- malformed checkpoints ------------------------------------------------------------------

ROOT_B64 = base64.b64encode(ROOT).decode()


def _text(size: str = "5", root: str = ROOT_B64, origin: str = "o", tail: str = "") -> str:
    return f"{origin}\n{size}\n{root}\n{tail}"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (_text()[:-1], "does not end in a newline"),
        ("o\n5\n", "2 lines, expected at least 3"),
        ("\n", "1 lines, expected at least 3"),
        (_text(origin=""), "line 1 is empty"),
        (_text(size=""), "line 2 is empty"),
        (_text(root=""), "line 3 is empty"),
        (_text(tail="\n"), "line 4 is empty"),
        (_text(tail="ext\n\n"), "line 5 is empty"),
        (_text(size="05"), "'05' is not a decimal integer without leading zeros"),
        (_text(size="00"), "'00' is not a decimal"),
        (_text(size="+5"), "'\\+5' is not a decimal"),
        (_text(size="-0"), "'-0' is not a decimal"),
        (_text(size=" 5"), "' 5' is not a decimal"),
        (_text(size="5_000"), "'5_000' is not a decimal"),
        (_text(size="0x10"), "'0x10' is not a decimal"),
        (_text(size="\u0665"), "is not a decimal"),
        (_text(size="\uff15"), "is not a decimal"),
        (_text(size=str(MAX_TREE_SIZE + 1)), "tree size 9223372036854775808 exceeds 2\\^63-1"),
        (_text(size="9" * 19), "tree size 9999999999999999999 exceeds"),
        (_text(size="1" * 20), "of at most 19 digits"),
        (_text(size="9" * 5000), "'9999999999.*\\.\\.\\.' is not a decimal"),
        (_text(root=ROOT_B64[:-1]), "root hash: not standard padded base64"),
        (_text(root=base64.b64encode(ROOT[:31]).decode()), "root hash is 31 bytes, expected 32"),
        (_text(root=base64.b64encode(ROOT + b"!").decode()), "root hash is 33 bytes"),
        (_text(root=ROOT_B64[:-2] + "9="), "root hash: non-canonical base64"),
        (_text(root="_" + ROOT_B64[1:]), "root hash: not standard padded base64"),
        (_text(origin="o\r"), "origin line contains control character or surrogate U\\+000D"),
        (
            _text(tail="ext\x7f\x01\n"),
            "extension line 4 contains control character or surrogate U\\+0001",
        ),
    ],
    ids=[
        "missing-newline",
        "two-lines",
        "empty",
        "empty-origin",
        "empty-size",
        "empty-root",
        "empty-extension",
        "empty-second-extension",
        "leading-zero",
        "double-zero",
        "plus-sign",
        "minus-zero",
        "leading-space",
        "underscore",
        "hex",
        "arabic-indic-digit",
        "fullwidth-digit",
        "two-to-the-63",
        "nineteen-nines",
        "twenty-digits",
        "huge",
        "root-unpadded",
        "root-31-bytes",
        "root-33-bytes",
        "root-non-canonical",
        "root-url-safe",
        "carriage-return-in-origin",
        "control-in-extension",
    ],
)
def test_malformed_checkpoint_text(text: str, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        Checkpoint.from_text(text)


def test_non_utf8_checkpoint_bytes() -> None:
    with pytest.raises(MalformedError, match="not valid UTF-8 at byte 1"):
        Checkpoint.from_bytes(b"o\xff\n5\n" + ROOT_B64.encode() + b"\n")


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("", 1, ROOT, ()), "origin line is empty"),
        (("a\nb", 1, ROOT, ()), "origin line contains control character or surrogate U\\+000A"),
        (("o", -1, ROOT, ()), "tree size -1 is outside 0..2\\^63-1"),
        (("o", MAX_TREE_SIZE + 1, ROOT, ()), "is outside 0..2\\^63-1"),
        (("o", True, ROOT, ()), "tree size True is not an integer"),
        (("o", "5", ROOT, ()), "tree size '5' is not an integer"),
        (("o", 1, ROOT.hex(), ()), "root hash is str, expected bytes"),
        (("o", 1, ROOT[:-1], ()), "root hash is 31 bytes, expected 32"),
        (("o", 1, ROOT, ("",)), "extension line 4 is empty"),
        (("o", 1, ROOT, ("a", "b\n")), "extension line 5 contains control character"),
        (("o\udc80", 1, ROOT, ()), "origin line contains control character or surrogate U\\+DC80"),
    ],
    ids=[
        "empty-origin",
        "newline-in-origin",
        "negative-size",
        "size-too-big",
        "bool-size",
        "str-size",
        "str-root",
        "short-root",
        "empty-extension",
        "newline-in-extension",
        "surrogate-in-origin",
    ],
)
def test_checkpoint_constructor_rejects(args: tuple[Any, ...], match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        Checkpoint(*args)


# --- opening signed checkpoints --------------------------------------------------------------

OTHER_LOG = Ed25519Signer(ORIGIN, bytes(32))


def test_open_requires_the_log_signature() -> None:
    # The witness's line verifies, so the note opens, but the log never signed.
    with pytest.raises(VerificationError, match=r"no signature by the log key .*behind-the-sofa"):
        open_checkpoint(COSIGNED, OTHER_LOG.verifier(), ORIGIN, [WITNESS.verifier()])
    with pytest.raises(VerificationError, match="no signature by a known key"):
        open_checkpoint(COSIGNED, OTHER_LOG.verifier(), ORIGIN)


def test_open_checks_the_origin() -> None:
    with pytest.raises(VerificationError, match=r"origin 'example\.com/behind-the-sofa', expected"):
        open_checkpoint(COSIGNED, LOG.verifier(), "example.com/elsewhere")


def test_open_checks_the_key_name_unless_told_not_to() -> None:
    renamed = Ed25519Signer("example.com/log-key-2025", LOG.seed)
    note = sign_checkpoint(Checkpoint.from_text(BODY), renamed)
    with pytest.raises(
        VerificationError, match=r"log key name 'example\.com/log-key-2025' differs"
    ):
        open_checkpoint(note, renamed.verifier(), ORIGIN)
    signed = open_checkpoint(note, renamed.verifier(), ORIGIN, key_name_is_origin=False)
    assert signed.checkpoint.origin == ORIGIN


def test_open_rejects_a_bad_witness_line() -> None:
    bad = WITNESS.cosign(BODY, TIMESTAMP)
    forged = type(bad)(bad.name, bad.key_id, bad.timestamp + 1, bad.signature)
    message = add_cosignatures(LOG_SIGNED, [forged])
    with pytest.raises(VerificationError, match="ae5ca444 is invalid"):
        open_checkpoint(message, LOG.verifier(), ORIGIN, [WITNESS.verifier()])


def test_open_rejects_a_signed_note_that_is_not_a_checkpoint() -> None:
    note = sign_note(f"{ORIGIN}\n5\n", [LOG])
    with pytest.raises(MalformedError, match="2 lines, expected at least 3"):
        open_checkpoint(note, LOG.verifier(), ORIGIN)


def test_every_bit_flip_of_a_signed_checkpoint_fails() -> None:
    for i in range(len(LOG_SIGNED)):
        for bit in range(8):
            mutated = bytearray(LOG_SIGNED)
            mutated[i] ^= 1 << bit
            with pytest.raises((MalformedError, VerificationError)):
                open_checkpoint(bytes(mutated), LOG.verifier(), ORIGIN)


def test_add_cosignatures_accepts_note_signatures_and_replaces() -> None:
    first = WITNESS.cosign(BODY, TIMESTAMP).to_note_signature()
    later = WITNESS.cosign(BODY, TIMESTAMP + 1)
    once = add_cosignatures(LOG_SIGNED, [first])
    assert once == COSIGNED
    twice = add_cosignatures(once, [later])
    assert Note.from_bytes(twice).signatures[-1] == later.to_note_signature()
    assert len(Note.from_bytes(twice).signatures) == 2


def test_add_cosignatures_needs_a_checkpoint() -> None:
    note = sign_note("hello\n", [LOG])
    with pytest.raises(MalformedError, match="1 lines, expected at least 3"):
        add_cosignatures(note, [WITNESS.cosign("hello\n", 1)])
    with pytest.raises(MalformedError, match="1 lines, expected at least 3"):
        cosign_checkpoint(note, WITNESS, 1)
