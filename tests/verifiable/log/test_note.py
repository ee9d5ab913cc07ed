"""Tests for verifiable.log.note: C2SP signed-note, Ed25519 keys and key strings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.note import (
    ALG_ED25519,
    ALG_ED25519_COSIGNATURE,
    MAX_SIGNATURES,
    Ed25519Signer,
    Ed25519Verifier,
    Note,
    NoteSignature,
    OpenedNote,
    PrivateKey,
    Verifier,
    VerifierKey,
    check_key_name,
    check_note_text,
    compute_key_id,
    decode_base64,
    encode_base64,
    generate_key,
    open_note,
    sign_note,
)

VECTORS = Path(__file__).parents[2] / "vectors"
SIGNED_NOTE: dict[str, Any] = json.loads((VECTORS / "signed-note.json").read_text("utf-8"))
GO = SIGNED_NOTE["go_sumdb_note"]
C2SP = SIGNED_NOTE["c2sp_signed_note_example"]
TDEV = SIGNED_NOTE["transparency_dev_formats"]

PETER = Ed25519Verifier.from_vkey(GO["peter_vkey"])
ENOCH = Ed25519Verifier.from_vkey(GO["enoch_vkey"])
PETER_SIGNER = Ed25519Signer.from_private_key(GO["peter_skey"])
TEXT: str = GO["text"]
PETER_LINE: str = GO["peter_sig_line"]
ENOCH_LINE: str = GO["enoch_sig_line"]
SIGNED_BY_PETER: bytes = GO["signed_by_peter"].encode()

SEED_A = bytes(range(32))
SEED_B = bytes(range(32, 64))


def _unknown_line(i: int) -> str:
    """A well-formed signature line from a key nobody knows."""
    sig = NoteSignature(f"unknown.example/{i}", i, b"\x00" * 64)
    return sig.to_line() + "\n"


# --- vectors: C2SP example ----------------------------------------------------------


def test_c2sp_example_note_verifies() -> None:
    verifier = Ed25519Verifier.from_vkey(C2SP["vkey"])
    opened = open_note(C2SP["note"].encode(), [verifier])
    assert C2SP["expect"] == "verifies; Sigs=[example.com/foo]"
    assert [v.signature.name for v in opened.verified] == ["example.com/foo"]
    assert opened.text == "This is an example message.\n"
    assert verifier.to_vkey() == C2SP["vkey"]


# --- vectors: golang.org/x/mod sumdb/note -------------------------------------------


@pytest.mark.parametrize("field", ["peter_vkey", "enoch_vkey"])
def test_go_vkeys_round_trip(field: str) -> None:
    verifier = Ed25519Verifier.from_vkey(GO[field])
    assert verifier.to_vkey() == GO[field]
    assert VerifierKey.from_text(GO[field]).to_text() == GO[field]
    assert f"{verifier.key_id:08x}" == GO[field].split("+")[1]


def test_go_private_key_round_trip_and_matches_vkey() -> None:
    assert GO["skey_format"].startswith("PRIVATE+KEY+<name>+<hex keyid>")
    assert PETER_SIGNER.to_private_key() == GO["peter_skey"]
    assert PETER_SIGNER.verifier() == PETER
    assert PrivateKey.from_text(GO["peter_skey"]).verifier_key().to_text() == GO["peter_vkey"]


def test_go_sign_reproduces_the_signed_note() -> None:
    assert sign_note(TEXT, [PETER_SIGNER]) == SIGNED_BY_PETER


@pytest.mark.parametrize("field", ["peter_sig_line", "enoch_sig_line"])
def test_go_signature_lines_round_trip(field: str) -> None:
    line = GO[field].removesuffix("\n")
    assert NoteSignature.from_line(line).to_line() == line


def _expected_names(expect: str, label: str) -> list[str]:
    found = re.search(label + r"=\[([^\]]*)\]", expect)
    return [n.strip() for n in found.group(1).split(",")] if found else []


# What each note.Open case must raise, in file order.  The table must list every
# case, so a case added to the vector file fails here until it is classified.
GO_OPEN_OUTCOMES: list[tuple[str, type[Exception] | None, str]] = [
    ("one-known-one-unknown", None, ""),
    ("both-known", None, ""),
    ("no-verifiers", VerificationError, "no signature by a known key"),
    ("corrupted-signature", VerificationError, r"PeterNeumann\+c74f20a3 is invalid"),
    ("no-signature-block", MalformedError, "no blank line"),
    ("empty-signature-block", MalformedError, "no signature lines after"),
    ("missing-final-newline", MalformedError, "does not end in a newline"),
    ("control-character", MalformedError, "control character U\\+0001"),
    ("invalid-utf8", MalformedError, "not valid UTF-8 at byte 0"),
    ("bad-name-no-newline", MalformedError, "does not end in a newline"),
    ("unexpected-line", MalformedError, "line 2: .*em dash"),
    ("101-signatures", MalformedError, "101 signature lines, at most 100"),
]


def test_go_open_table_covers_every_case() -> None:
    assert len(GO_OPEN_OUTCOMES) == len(GO["open_cases"])


@pytest.mark.parametrize(
    ("case", "outcome"),
    list(zip(GO["open_cases"], GO_OPEN_OUTCOMES, strict=True)),
    ids=[o[0] for o in GO_OPEN_OUTCOMES],
)
def test_go_open_cases(case: dict[str, Any], outcome: tuple[str, Any, str]) -> None:
    _, error, match = outcome
    if "msg" in case:
        message = case["msg"].encode()
    else:
        message = bytes.fromhex(case["msg_hex_prefix"]) + case["msg_rest"].encode()
    verifiers = [{"peter": PETER, "enoch": ENOCH}[name] for name in case["verifiers"]]
    if error is None:
        assert case["expect"].startswith("ok")
        opened = open_note(message, verifiers)
        assert [v.signature.name for v in opened.verified] == _expected_names(
            case["expect"], "Sigs"
        )
        assert [s.name for s in opened.unverified] == _expected_names(
            case["expect"], "UnverifiedSigs"
        )
        assert opened.text == TEXT
    else:
        assert not case["expect"].startswith("ok")
        with pytest.raises(error, match=match):
            open_note(message, verifiers)


# The first key is meant to fail on its length, but its base64 ends "EY==", whose
# padding bits are not zero: Go decodes it anyway, we refuse it one step earlier
# as non-canonical.  test_wrong_key_length_with_canonical_base64 covers length.
BAD_VKEY_MATCH = ["non-canonical base64", "unknown signature type 0x65"]


@pytest.mark.parametrize(
    ("vkey", "match"),
    list(zip(GO["bad_vkeys"], BAD_VKEY_MATCH, strict=True)),
    ids=["wrong-key-length", "unknown-algorithm"],
)
def test_go_bad_vkeys(vkey: str, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        Ed25519Verifier.from_vkey(vkey)


def test_wrong_key_length_with_canonical_base64() -> None:
    data = bytes([ALG_ED25519]) + bytes(39)
    key_id = compute_key_id("PeterNeumann", data[0], data[1:])
    with pytest.raises(MalformedError, match="Ed25519 key is 39 bytes, expected 32"):
        VerifierKey.from_text(f"PeterNeumann+{key_id:08x}+{encode_base64(data)}")


@pytest.mark.parametrize("field", ["peter_vkey", "peter_skey"])
def test_go_manglings_of_key_strings_are_rejected(field: str) -> None:
    # As x/mod's tests do: every proper substring and every single-byte increment.
    key: str = GO[field]
    parse = VerifierKey.from_text if field == "peter_vkey" else PrivateKey.from_text
    manglings = [key[i:j] for i in range(len(key)) for j in range(i + 1, len(key) + 1)]
    manglings.remove(key)
    manglings += [key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))]
    for bad in manglings:
        with pytest.raises(MalformedError, match=r"\S"):
            parse(bad)


# --- vectors: transparency-dev/formats vkeys ---------------------------------------


@pytest.mark.parametrize("entry", TDEV["vkeys_ok"], ids=[v.split("+")[0] for v in TDEV["vkeys_ok"]])
def test_transparency_dev_vkeys_ok(entry: str) -> None:
    vkey, _, comment = entry.partition(" ")
    key = VerifierKey.from_text(vkey)
    assert comment.startswith(f"(type 0x{key.algorithm:02x} ")
    assert key.to_text() == vkey
    if key.algorithm == ALG_ED25519:
        assert Ed25519Verifier.from_vkey(vkey).to_vkey() == vkey
    else:
        assert key.algorithm == ALG_ED25519_COSIGNATURE
        with pytest.raises(MalformedError, match="signature type 0x04, expected 0x01"):
            Ed25519Verifier.from_vkey(vkey)


@pytest.mark.parametrize(
    ("vkey", "match"),
    list(
        zip(
            TDEV["vkeys_bad"],
            ["found 1 '\\+' separators", "not standard padded base64", "does not match"],
            strict=True,
        )
    ),
    ids=["no-key", "not-base64", "wrong-key-id"],
)
def test_transparency_dev_vkeys_bad(vkey: str, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        VerifierKey.from_text(vkey)


# --- our own signing and opening -------------------------------------------------------


def test_sign_and_open_round_trip() -> None:
    a, b = Ed25519Signer("a.example/log", SEED_A), Ed25519Signer("b.example/log", SEED_B)
    message = sign_note("hello\n\nworld\n", [a, b])
    assert Note.from_bytes(message).to_bytes() == message
    opened = open_note(message, [a.verifier(), b.verifier()])
    assert opened.text == "hello\n\nworld\n"
    assert opened.verifiers == (a.verifier(), b.verifier())
    assert opened.is_signed_by(b.verifier())
    assert opened.unverified == ()
    only_a = open_note(message, [a.verifier()])
    assert not only_a.is_signed_by(b.verifier())
    assert [s.name for s in only_a.unverified] == ["b.example/log"]


def test_generate_key_from_seed() -> None:
    skey, vkey = generate_key("example.org/mutualog/pool-1", SEED_A)
    assert skey.startswith("PRIVATE+KEY+example.org/mutualog/pool-1+")
    signer = Ed25519Signer.from_private_key(skey)
    assert signer.to_private_key() == skey
    assert signer.verifier().to_vkey() == vkey
    assert Ed25519Verifier.from_vkey(vkey).key_id == compute_key_id(
        signer.name, ALG_ED25519, signer.public_key
    )
    assert generate_key("example.org/mutualog/pool-1", SEED_A) == (skey, vkey)


def test_private_material_stays_out_of_repr_and_errors() -> None:
    signer = Ed25519Signer("k", SEED_A)
    secret = SEED_A.hex()
    assert secret not in repr(signer)
    assert secret not in repr(PrivateKey("k", ALG_ED25519, SEED_A))
    skey = GO["peter_skey"]
    b64 = skey.rsplit("+", 2)[-2] + "+" + skey.rsplit("+", 1)[1]
    assert "+" in b64  # Peter's seed encodes with a '+', which splits the fields.
    # Wrong key ID, corrupted base64, fields in the wrong order, a bad name:
    # no message may echo any 6-character run of the key data.
    garbled = [
        (skey.replace("+c74f20a3+", "+00000000+"), "key ID 00000000 does not match"),
        (skey[:-2] + "!!", "private key: not standard padded base64"),
        ("PRIVATE+KEY+" + b64 + "+PeterNeumann", "key ID field is not 8 lowercase hex"),
        ("PRIVATE+KEY+a b+c74f20a3+" + b64, "name field is not a valid key name"),
    ]
    for bad, match in garbled:
        with pytest.raises(MalformedError, match=match) as info:
            PrivateKey.from_text(bad)
        message = str(info.value)
        runs = {b64[i : i + 6] for i in range(len(b64) - 5)}
        assert not any(run in message for run in runs), message


def test_identical_verifier_twice_is_fine_but_colliding_keys_are_not() -> None:
    assert open_note(SIGNED_BY_PETER, [PETER, PETER, ENOCH]).verifiers == (PETER,)

    class Impostor:
        name = PETER.name
        key_id = PETER.key_id

        def verify(self, text: bytes, signature: bytes) -> None:
            return None

    verifiers: list[Verifier] = [PETER, Impostor()]
    with pytest.raises(MalformedError, match="two different keys share the name 'PeterNeumann'"):
        open_note(SIGNED_BY_PETER, verifiers)


def test_custom_verifier_plugs_in() -> None:
    class Refuses:
        name = PETER.name
        key_id = PETER.key_id

        def verify(self, text: bytes, signature: bytes) -> None:
            raise VerificationError("always refuses")

    refuses: Verifier = Refuses()
    with pytest.raises(VerificationError, match="c74f20a3 is invalid: always refuses"):
        open_note(SIGNED_BY_PETER, [refuses])


def test_sixteen_and_a_hundred_signatures_are_accepted() -> None:
    for extra in (15, MAX_SIGNATURES - 1):
        message = SIGNED_BY_PETER + "".join(_unknown_line(i) for i in range(extra)).encode()
        opened = open_note(message, [PETER])
        assert len(opened.unverified) == extra
        assert Note.from_bytes(message).to_bytes() == message


def test_add_signatures_replaces_the_same_key() -> None:
    note = Note.from_bytes(SIGNED_BY_PETER + ENOCH_LINE.encode())
    fresh = NoteSignature.from_line(PETER_LINE.removesuffix("\n"))
    again = note.add_signatures([fresh])
    assert [s.name for s in again.signatures] == ["EnochRoot", "PeterNeumann"]
    assert open_note(again.to_bytes(), [PETER, ENOCH]).verifiers == (ENOCH, PETER)


# --- hostile and malformed inputs --------------------------------------------------------

SIG_B64 = PETER_LINE.removesuffix("\n").split(" ")[2]


PETER_KEY_ID = PETER.key_id.to_bytes(4, "big")
M, V = MalformedError, VerificationError


def _resign(b64: str) -> bytes:
    return SIGNED_BY_PETER.replace(SIG_B64.encode(), b64.encode())


HOSTILE_NOTES: list[tuple[str, bytes, type[Exception], str]] = [
    ("no-blank-line", TEXT.encode() + PETER_LINE.encode(), M, "no blank line"),
    ("trailing-blank-line", SIGNED_BY_PETER + b"\n", M, "no signature lines after"),
    ("missing-final-newline", SIGNED_BY_PETER[:-1], M, "does not end in a newline"),
    ("truncated-utf8", b"\xc3" + SIGNED_BY_PETER, M, "not valid UTF-8 at byte 0"),
    ("broken-em-dash", SIGNED_BY_PETER.replace(b"\xe2\x80\x94", b"\xe2\x80"), M, "UTF-8"),
    (
        "carriage-return",
        SIGNED_BY_PETER.replace(b"problem,\n", b"problem,\r\n"),
        M,
        "control character U\\+000D",
    ),
    ("crlf-separator", SIGNED_BY_PETER.replace(b"\n\n", b"\r\n\r\n"), M, "U\\+000D"),
    ("tab-in-separator", SIGNED_BY_PETER.replace(b"\n\n", b"\n\t\n"), M, "U\\+0009"),
    ("nul-byte", SIGNED_BY_PETER + b"\x00", M, "control character U\\+0000"),
    ("empty-text", b"\n\n" + PETER_LINE.encode(), M, "text is empty"),
    ("text-only-newlines", b"\n\n\n\n" + PETER_LINE.encode(), M, "text is empty"),
    (
        "extra-blank-line-before-signatures",
        SIGNED_BY_PETER.replace(b"\n\n", b"\n\n\n"),
        V,
        "c74f20a3 is invalid",
    ),
    (
        "blank-line-inside-signature-block",
        SIGNED_BY_PETER + b"\n" + PETER_LINE.encode(),
        V,
        "c74f20a3 is invalid",
    ),
    ("hyphen-not-em-dash", SIGNED_BY_PETER.replace("\u2014".encode(), b"-"), M, "em dash"),
    (
        "en-dash-not-em-dash",
        SIGNED_BY_PETER.replace("\u2014".encode(), "\u2013".encode()),
        M,
        "em dash",
    ),
    (
        "nbsp-after-em-dash",
        SIGNED_BY_PETER.replace("\u2014 ".encode(), "\u2014\u00a0".encode()),
        M,
        "em dash",
    ),
    ("two-spaces", SIGNED_BY_PETER.replace(b" x08", b"  x08"), M, "not standard padded"),
    (
        "no-space-before-signature",
        SIGNED_BY_PETER.replace(b"Neumann x08", b"Neumannx08"),
        M,
        "no space before",
    ),
    (
        "plus-in-name",
        SIGNED_BY_PETER.replace(b"PeterNeumann", b"Peter+Neumann"),
        M,
        "'Peter\\+Neumann'.*U\\+002B",
    ),
    (
        "nbsp-in-name",
        SIGNED_BY_PETER.replace(b"PeterNeumann", b"Peter\xc2\xa0Neumann"),
        M,
        "U\\+00A0",
    ),
    (
        "ideographic-space-in-name",
        SIGNED_BY_PETER.replace(b"PeterNeumann", "Peter\u3000Neumann".encode()),
        M,
        "U\\+3000",
    ),
    ("empty-name", SIGNED_BY_PETER.replace(b"PeterNeumann", b""), M, "key name: empty"),
    ("key-id-only", _resign(encode_base64(PETER_KEY_ID)), M, "4 bytes, expected at least 5"),
    ("empty-signature", _resign(""), M, "0 bytes, expected at least 5"),
    (
        "one-byte-signature-by-known-key",
        _resign(encode_base64(PETER_KEY_ID + b"\x00")),
        V,
        "is invalid: Ed25519 signature is 1 bytes, expected 64",
    ),
    ("unpadded-base64", _resign(SIG_B64[:-1]), M, "not standard padded base64"),
    ("non-canonical-base64", _resign(SIG_B64[:-2] + "N="), M, "non-canonical base64"),
    ("url-safe-base64", _resign(SIG_B64.replace("/", "_")), M, "not standard padded base64"),
    (
        "duplicate-signature",
        SIGNED_BY_PETER + PETER_LINE.encode(),
        M,
        "lines 1 and 2 are both by key PeterNeumann\\+c74f20a3",
    ),
    (
        "duplicate-after-another-key",
        SIGNED_BY_PETER + ENOCH_LINE.encode() + PETER_LINE.encode(),
        M,
        "lines 1 and 3 are both by key PeterNeumann",
    ),
    (
        "duplicate-unknown-key",
        SIGNED_BY_PETER + ENOCH_LINE.encode() * 2,
        M,
        "lines 2 and 3 are both by key EnochRoot",
    ),
    ("101-duplicates", SIGNED_BY_PETER + PETER_LINE.encode() * 100, M, "101 signature lines"),
    (
        "101-distinct-signatures",
        SIGNED_BY_PETER + "".join(_unknown_line(i) for i in range(100)).encode(),
        M,
        "101 signature lines, at most 100",
    ),
    ("renamed-key", SIGNED_BY_PETER.replace(b"Peter", b"Petra"), V, "no signature by a known"),
]


@pytest.mark.parametrize(
    ("message", "error", "match"),
    [case[1:] for case in HOSTILE_NOTES],
    ids=[case[0] for case in HOSTILE_NOTES],
)
def test_hostile_notes(message: bytes, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        open_note(message, [PETER])


def test_no_known_signature_message_lists_a_few_keys() -> None:
    message = TEXT.encode() + b"\n" + "".join(_unknown_line(i) for i in range(7)).encode()
    with pytest.raises(VerificationError, match=r"unknown\.example/4\+00000004 and 2 more;"):
        open_note(message, [PETER])


def test_blank_line_inside_block_makes_earlier_lines_text() -> None:
    # The last blank line separates text from signatures, so with one inserted
    # after Peter's line, Peter's line becomes text and Enoch's is checked
    # against a text he never signed.
    message = SIGNED_BY_PETER + b"\n" + ENOCH_LINE.encode()
    with pytest.raises(VerificationError, match="EnochRoot\\+af0cfe78 is invalid"):
        open_note(message, [PETER, ENOCH])


@pytest.mark.parametrize(
    ("text", "signers", "error", "match"),
    [
        ("no newline", [PETER_SIGNER], MalformedError, "does not end in a newline"),
        ("\n", [PETER_SIGNER], MalformedError, "text is empty"),
        (
            "a\rb\n",
            [PETER_SIGNER],
            MalformedError,
            "U\\+000D at character 1 is a control character",
        ),
        (TEXT, [], MalformedError, "no signature lines"),
        (TEXT, [PETER_SIGNER, PETER_SIGNER], MalformedError, "lines 1 and 2 are both by"),
        (
            TEXT,
            [Ed25519Signer(f"k{i}", SEED_A) for i in range(101)],
            MalformedError,
            "101 signatures, at most 100",
        ),
    ],
    ids=["no-newline", "empty", "carriage-return", "no-signers", "same-signer-twice", "101"],
)
def test_sign_note_rejects(
    text: str, signers: list[Ed25519Signer], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        sign_note(text, signers)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: Ed25519Signer("", SEED_A), "private key name: empty"),
        (lambda: Ed25519Signer("a b", SEED_A), "U\\+0020"),
        (lambda: Ed25519Signer("a+b", SEED_A), "'a\\+b'.*'\\+'"),
        (lambda: Ed25519Signer("a", SEED_A[:31]), "is 31 bytes, expected 32"),
        (lambda: Ed25519Verifier("a\nb", bytes(32)), "U\\+000A"),
        (lambda: Ed25519Verifier("a", bytes(33)), "is 33 bytes, expected 32"),
        (lambda: VerifierKey("a", 0x02, bytes(32)), "unknown signature type 0x02"),
        (lambda: PrivateKey("a", 0x05, bytes(32)), "unknown signature type 0x05"),
        (lambda: NoteSignature("a", 1 << 32, b"x"), "key ID 4294967296 is not a uint32"),
        (lambda: NoteSignature("a", -1, b"x"), "key ID -1 is not a uint32"),
        (lambda: NoteSignature("a", 1, b""), "no signature bytes after the key ID"),
        (lambda: NoteSignature.from_line("\u2014 a"), "no space before the signature"),
        (lambda: NoteSignature.from_line("\u2014 a AAAA"), "3 bytes, expected at least 5"),
        (lambda: check_key_name("a\u2028b"), "U\\+2028"),
        (lambda: check_key_name("tab\there"), "U\\+0009"),
        (lambda: check_note_text("x\x1b\n"), "U\\+001B"),
        (lambda: check_note_text("x\ud800\n"), "U\\+D800 at character 1 is a control"),
        (lambda: check_key_name("a\udfffb"), "U\\+DFFF"),
        (lambda: decode_base64("AB=A", "field"), "field: not standard padded base64"),
        (lambda: decode_base64("AB==", "field"), "field: non-canonical base64"),
    ],
    ids=[
        "empty-name",
        "space-in-name",
        "plus-in-name",
        "short-seed",
        "newline-in-name",
        "long-public-key",
        "ecdsa-type",
        "sct-type",
        "key-id-too-big",
        "key-id-negative",
        "empty-signature",
        "line-without-signature",
        "line-too-short",
        "line-separator-in-name",
        "tab-in-name",
        "escape-in-text",
        "surrogate-in-text",
        "surrogate-in-name",
        "misplaced-padding",
        "padding-bits-set",
    ],
)
def test_constructors_reject(build: Any, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        build()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("PeterNeumann", "found 0 '\\+' separators"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "lowercase hex"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 lowercase hex"),
        ("PeterNeumann+c74f20a3+", "key data is empty"),
        ("Peter Neumann+c74f20a3+ARpc", "U\\+0020"),
        ("+c74f20a3+ARpc", "verifier key name: empty"),
    ],
    ids=["no-separators", "uppercase-key-id", "short-key-id", "no-key", "space", "no-name"],
)
def test_verifier_key_strings_rejected(text: str, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        VerifierKey.from_text(text)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("PeterNeumann+c74f20a3+AYEK", "does not start with 'PRIVATE\\+KEY\\+'"),
        ("PRIVATE+KEY+PeterNeumann", "expected PRIVATE\\+KEY\\+<name>"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+", "key data is empty"),
        (GO["peter_skey"].replace("c74f20a3", "c74f20a4"), "key ID c74f20a4 does not match"),
        (GO["peter_skey"].replace("+AYEK", "+AoEK"), "unknown signature type 0x02"),
    ],
    ids=["no-prefix", "no-separators", "no-key", "wrong-key-id", "wrong-type"],
)
def test_private_key_strings_rejected(text: str, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        PrivateKey.from_text(text)


def test_type_mismatches_between_note_and_cosignature_keys() -> None:
    cosig_key = PrivateKey("w", ALG_ED25519_COSIGNATURE, SEED_A).to_text()
    with pytest.raises(MalformedError, match="signature type 0x04, expected 0x01"):
        Ed25519Signer.from_private_key(cosig_key)


def test_ed25519_verifier_errors() -> None:
    with pytest.raises(VerificationError, match="63 bytes, expected 64"):
        PETER.verify(b"x", bytes(63))
    with pytest.raises(VerificationError, match="does not verify"):
        PETER.verify(b"x", bytes(64))


# --- mutations: no altered note ever opens ---------------------------------------------------


def _open_outcome(message: bytes, verifiers: list[Ed25519Verifier]) -> OpenedNote | None:
    try:
        return open_note(message, verifiers)
    except (MalformedError, VerificationError):
        return None


def test_every_bit_flip_of_a_signed_note_fails() -> None:
    for i in range(len(SIGNED_BY_PETER)):
        for bit in range(8):
            mutated = bytearray(SIGNED_BY_PETER)
            mutated[i] ^= 1 << bit
            assert _open_outcome(bytes(mutated), [PETER]) is None, (i, bit)


@settings(max_examples=300, deadline=None)
@given(
    position=st.integers(min_value=0, max_value=len(SIGNED_BY_PETER) - 1),
    value=st.integers(min_value=0, max_value=255),
)
def test_any_byte_replacement_fails(position: int, value: int) -> None:
    if SIGNED_BY_PETER[position] == value:
        return
    mutated = bytearray(SIGNED_BY_PETER)
    mutated[position] = value
    assert _open_outcome(bytes(mutated), [PETER]) is None


def test_mutating_one_of_two_signatures_never_counts_it() -> None:
    # An altered line from a second key may turn into an unknown key's line,
    # which the spec says to ignore: the note may still open on the other
    # signature, but never with the altered one counted.
    message = SIGNED_BY_PETER + ENOCH_LINE.encode()
    start = len(SIGNED_BY_PETER)
    for i in range(start, len(message)):
        mutated = bytearray(message)
        mutated[i] ^= 0x01
        opened = _open_outcome(bytes(mutated), [PETER, ENOCH])
        assert opened is None or opened.verifiers == (PETER,), i


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_our_errors(data: bytes) -> None:
    assert _open_outcome(data, [PETER]) is None


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=60))
def test_arbitrary_bytes_spliced_into_a_note(data: bytes) -> None:
    if not data:
        return
    split = SIGNED_BY_PETER.index(b"\n\n")
    assert _open_outcome(SIGNED_BY_PETER[:split] + data + SIGNED_BY_PETER[split:], [PETER]) is None


_TEXT_CHARS = st.characters(exclude_categories=["Cs"], min_codepoint=0x20) | st.just("\n")


@settings(max_examples=100, deadline=None)
@given(st.text(_TEXT_CHARS, min_size=1, max_size=80).filter(lambda t: t.strip("\n")))
def test_any_valid_text_round_trips(body: str) -> None:
    text = body + "\n"
    signer = Ed25519Signer("example.org/log", SEED_A)
    message = sign_note(text, [signer])
    assert Note.from_bytes(message).to_bytes() == message
    assert open_note(message, [signer.verifier()]).text == text


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=40))
def test_base64_round_trip(data: bytes) -> None:
    assert decode_base64(encode_base64(data), "x") == data
