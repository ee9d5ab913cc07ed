"""Generated signed notes and checkpoints for the equivalence tests, and
single-field mutations of each that every verifier must refuse.

Texts mix ASCII, Chinese, characters outside the Basic Multilingual Plane
(a surrogate pair in JavaScript, one character in Python), U+0085 and a
leading U+FEFF, which a careless UTF-8 decoder drops; key names mix the same
with the characters Python's ``str.isspace`` and JavaScript's ``\\s``
disagree on.  Cases are in the JSON shape of :mod:`verifier_harness`, with
``mutation`` as in :mod:`merkle_cases`.
"""

from __future__ import annotations

import base64
import random
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifiable.log.checkpoint import Checkpoint, add_cosignatures, sign_checkpoint
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.note import (
    ALG_ED25519,
    Ed25519Signer,
    compute_key_id,
    encode_base64,
    sign_note,
)

__all__ = [
    "checkpoint_cases",
    "ed25519_edge_cases",
    "key_name_cases",
    "note_cases",
    "note_mutations",
    "witness_cases",
]

Case = dict[str, Any]

_PIECES = ["a", "Z", "7", " ", "-", "+", "/", "互助", "池", "é", "\U0001f600", "\u2014", "\u0085"]
_NAME_PIECES = ["a", "Z", "7", ".", "/", "-", "互助", "é", "\U0001f600", "\ufeff"]


def _line(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 12)))


def _text(rng: random.Random) -> str:
    lines = [_line(rng) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.2:
        lines.insert(rng.randint(0, len(lines)), "")
    if rng.random() < 0.1:
        lines[0] = "\ufeff" + lines[0]
    return "".join(line + "\n" for line in lines)


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(_NAME_PIECES) for _ in range(rng.randint(1, 10)))


def _b64(note: bytes) -> str:
    return base64.b64encode(note).decode("ascii")


def note_cases(rng: random.Random, count: int) -> list[Case]:
    """Notes signed by one or two Ed25519 keys, all known to the verifier."""
    out = []
    for _ in range(count):
        signers = [Ed25519Signer(_name(rng), rng.randbytes(32)) for _ in range(rng.randint(1, 2))]
        note = sign_note(_text(rng), signers)
        vkeys = [s.verifier().to_vkey() for s in signers]
        out.append(
            {"kind": "note", "note": _b64(note), "vkeys": vkeys, "witnesses": [], "mutation": ""}
        )
    return out


def checkpoint_cases(rng: random.Random, count: int) -> list[Case]:
    """Checkpoints signed by the log's key, cosigned by none to two witnesses."""
    out = []
    for _ in range(count):
        origin = _name(rng)
        size = rng.getrandbits(rng.randint(1, 63))
        extensions = tuple(_line(rng) for _ in range(rng.randint(0, 2)))
        checkpoint = Checkpoint(origin, size, rng.randbytes(32), extensions)
        log = Ed25519Signer(origin, rng.randbytes(32))
        note = sign_checkpoint(checkpoint, log)
        witnesses = [
            CosignatureSigner(_name(rng), rng.randbytes(32)) for _ in range(rng.randint(0, 2))
        ]
        text = checkpoint.to_text()
        cosignatures = [w.cosign(text, rng.getrandbits(rng.randint(1, 63))) for w in witnesses]
        note = add_cosignatures(note, cosignatures)
        out.append(
            {
                "kind": "checkpoint",
                "note": _b64(note),
                "vkey": log.verifier().to_vkey(),
                "origin": origin,
                "witnesses": [w.verifier().to_vkey() for w in witnesses],
                "mutation": "",
            }
        )
    return out


def key_name_cases(rng: random.Random) -> list[Case]:
    """A note signed by a key whose name holds one odd character, made by hand
    so that names the Python code refuses can be offered at all.  Some of
    these names are valid, so the cases are held to agreement only
    (``mutation`` is ``"odd key name"``)."""
    odd = ["\u0085", "\ufeff", "\u00a0", "\u200b", "\u3000", "\u2028", "\u1680", " ", "+", "\x7f"]
    odd += ["\x1c", "\U0001f600", "\u2014", "\u180e", ""]
    out = []
    for ch in odd:
        name = f"k{ch}y"
        key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        public = key.public_key().public_bytes_raw()
        key_id = compute_key_id(name, ALG_ED25519, public)
        vkey = f"{name}+{key_id:08x}+{encode_base64(bytes([ALG_ED25519]) + public)}"
        text = _text(rng)
        signature = key_id.to_bytes(4, "big") + key.sign(text.encode("utf-8"))
        note = f"{text}\n\u2014 {name} {encode_base64(signature)}\n".encode()
        case = {"kind": "note", "note": _b64(note), "vkeys": [vkey], "witnesses": []}
        out.append({**case, "mutation": "odd key name"})
    return out


# --- mutations ------------------------------------------------------------------

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _split(case: Case) -> tuple[str, list[str]]:
    note = base64.b64decode(case["note"]).decode("utf-8")
    cut = note.rfind("\n\n")
    return note[: cut + 1], note[cut + 2 : -1].split("\n")


def _join(case: Case, text: str, lines: list[str], mutation: str) -> Case:
    note = (text + "\n" + "".join(line + "\n" for line in lines)).encode("utf-8")
    return {**case, "note": _b64(note), "mutation": mutation}


def _flip_signature(rng: random.Random, line: str) -> str:
    head, _, b64 = line.rpartition(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[rng.randrange(4, len(raw))] ^= rng.randint(1, 255)
    return f"{head} {encode_base64(bytes(raw))}"


def _swap_base64_char(rng: random.Random, line: str) -> str:
    head, _, b64 = line.rpartition(" ")
    # From character 8 on, a character encodes bytes past the key ID.
    i = rng.randrange(8, len(b64.rstrip("=")))
    new = rng.choice(_ALPHABET.replace(b64[i], ""))
    return f"{head} {b64[:i]}{new}{b64[i + 1 :]}"


def _other_key(rng: random.Random, vkey: str, algorithm: int, point: bool = True) -> str:
    """A key of the same name: another Ed25519 key, or (``point`` false) 32
    random bytes, about half of which are no point of the curve at all."""
    name = vkey.split("+", 1)[0]
    public = rng.randbytes(32)
    if point:
        public = Ed25519PrivateKey.from_private_bytes(public).public_key().public_bytes_raw()
    key_id = compute_key_id(name, algorithm, public)
    return f"{name}+{key_id:08x}+{encode_base64(bytes([algorithm]) + public)}"


def note_mutations(rng: random.Random, case: Case) -> list[Case]:
    """Changes of one field of an honest note or checkpoint, each refused:
    a byte of the text, a byte of a signature, a base64 character, the
    signer's name or key, a key ID in a verifier key, a repeated signature
    line, the blank line, a character cut, and (checkpoints) the origin."""
    text, lines = _split(case)
    raw = bytearray(text.encode("utf-8"))
    raw[rng.randrange(len(raw))] ^= rng.randint(1, 255)
    note = bytes(raw) + base64.b64decode(case["note"])[len(raw) :]
    out = [{**case, "note": _b64(note), "mutation": "text byte"}]
    i = rng.randrange(len(lines))
    for mutation, change in (("signature byte", _flip_signature), ("base64", _swap_base64_char)):
        out.append(
            _join(case, text, [*lines[:i], change(rng, lines[i]), *lines[i + 1 :]], mutation)
        )
    out.append(_join(case, text, [lines[0], *lines], "line repeated"))
    out.append(_join(case, text[:-1], lines, "no blank line"))
    out.append(_join(case, text, [*lines[:-1], lines[-1][:-1]], "character cut"))
    # The signer whose loss the note cannot survive: the log's key, or the
    # one key of a note signed once.
    if case["kind"] == "checkpoint" or len(lines) == 1:
        renamed = lines[0].replace(" ", "x ", 2).replace("x ", " ", 1)
        out.append(_join(case, text, [renamed, *lines[1:]], "signer renamed"))
    if case["kind"] == "checkpoint":
        out.append({**case, "origin": case["origin"] + "x", "mutation": "origin"})
        out.append({**case, "vkey": _other_key(rng, case["vkey"], ALG_ED25519), "mutation": "key"})
        # The log's line re-signed by 32 random bytes posing as a key, with
        # the key ID of those bytes, so the signature check itself must run.
        forged = _other_key(rng, case["vkey"], ALG_ED25519, point=False)
        raw = base64.b64decode(forged.split("+", 2)[2])
        key_id = compute_key_id(forged.split("+", 1)[0], ALG_ED25519, raw[1:])
        head = lines[0].rpartition(" ")[0]
        line = f"{head} {encode_base64(key_id.to_bytes(4, 'big') + rng.randbytes(64))}"
        out.append({**_join(case, text, [line, *lines[1:]], "forged"), "vkey": forged})
        vkey = case["vkey"]
        out.append({**case, "vkey": _bad_key_id(vkey), "mutation": "key ID"})
    else:
        if len(lines) == 1:
            other = _other_key(rng, case["vkeys"][0], ALG_ED25519)
            out.append({**case, "vkeys": [other], "mutation": "key"})
        out.append({**case, "vkeys": [_bad_key_id(case["vkeys"][0])], "mutation": "key ID"})
    return out


def _bad_key_id(vkey: str) -> str:
    name, key_id, rest = vkey.split("+", 2)
    return f"{name}+{int(key_id, 16) ^ 1:08x}+{rest}"


def witness_cases(rng: random.Random, case: Case) -> list[Case]:
    """K-of-N witness policies over an honest checkpoint: K from 0 to one
    more than the witnesses, a policy naming a witness twice, and clocks
    around the newest cosignature's time, past and within the skew."""
    _, lines = _split(case)
    times = [int.from_bytes(base64.b64decode(line.rpartition(" ")[2])[4:12]) for line in lines[1:]]
    newest = max(times, default=rng.getrandbits(40))
    keys = case["witnesses"]
    out = []
    for required in range(len(keys) + 2):
        for now in (newest - 61, newest - 60, newest + rng.randint(0, 10**6)):
            out.append(
                {**case, "kind": "witnesses", "policy_witnesses": keys, "required": required}
                | {"now": str(now), "mutation": "policy"}
            )
    if keys:
        twice = {"policy_witnesses": [keys[0], keys[0]], "required": 1, "now": str(newest)}
        out.append({**case, "kind": "witnesses", **twice, "mutation": "policy"})
    return out


# --- where Ed25519 implementations are known to differ ---------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_IDENTITY = (1).to_bytes(32, "little")
#: Points of small order (2, 4, 8, 8) and y = 1 written as p + 1, not reduced.
_ODD_POINTS = [
    (_P - 1).to_bytes(32, "little"),
    bytes(32),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    (_P + 1).to_bytes(32, "little"),
]


def _signed_by(name: str, public: bytes, text: str, signature: bytes) -> Case:
    key_id = compute_key_id(name, ALG_ED25519, public)
    vkey = f"{name}+{key_id:08x}+{encode_base64(bytes([ALG_ED25519]) + public)}"
    line = encode_base64(key_id.to_bytes(4, "big") + signature)
    note = f"{text}\n\u2014 {name} {line}\n".encode()
    return {"kind": "note", "note": _b64(note), "vkeys": [vkey], "witnesses": []}


def ed25519_edge_cases(rng: random.Random) -> list[Case]:
    """Signatures on which Ed25519 libraries have been seen to disagree
    (small-order and unreduced points, S not below the group order), for
    the browser's WebCrypto and OpenSSL under ``cryptography`` to agree on.
    ``mutation`` is ``"ed25519 edge"``: held to agreement, not refusal."""
    out = []
    for _ in range(4):
        text = _text(rng)
        # The identity point as key and R, S = 0: [S]B = R + [k]A for any text.
        out.append(_signed_by("edge", _IDENTITY, text, _IDENTITY + bytes(32)))
        for point in _ODD_POINTS:
            out.append(_signed_by("edge", point, text, _IDENTITY + bytes(32)))
            out.append(_signed_by("edge", _IDENTITY, text, point + bytes(32)))
        key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        public = key.public_key().public_bytes_raw()
        good = key.sign(text.encode("utf-8"))
        out.append(_signed_by("edge", public, text, good))
        # The same signature with S + L: the same point equation, S unreduced.
        s_plus_l = int.from_bytes(good[32:], "little") + _L
        out.append(_signed_by("edge", public, text, good[:32] + s_plus_l.to_bytes(32, "little")))
    return [{**case, "mutation": "ed25519 edge"} for case in out]
