"""The trust text an auditor publishes (verifiable/log/trust_text.py): the
honest texts round-trip byte for byte, and every line out of place, every
field off and every weak or mistyped key is refused as malformed."""

from __future__ import annotations

import pytest

from verifiable.errors import MalformedError
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.note import ALG_ED25519, Ed25519Signer, compute_key_id, encode_base64
from verifiable.log.trust_text import HEADER, MAX_WITNESSES, TrustText

LOG = Ed25519Signer("pool.example/log", bytes(range(32))).verifier().to_vkey()
W1 = CosignatureSigner("witness.one", bytes(32 * [1])).verifier().to_vkey()
W2 = CosignatureSigner("witness.two", bytes(32 * [2])).verifier().to_vkey()
W1_AGAIN = CosignatureSigner("witness.one", bytes(32 * [3])).verifier().to_vkey()
# A key of small order: any chosen text "verifies" under it.
WEAK = "weak+{:08x}+{}".format(
    compute_key_id("weak", ALG_ED25519, bytes(32)),
    encode_base64(bytes([ALG_ED25519]) + bytes(32)),
)

HONEST = f"{HEADER}\norigin pool.example/log\nlog {LOG}\nwitness {W1}\nwitness {W2}\nrequired 1\n"


def test_round_trip() -> None:
    trust = TrustText.from_text(HONEST)
    assert trust == TrustText("pool.example/log", LOG, (W1, W2), 1)
    assert trust.to_text() == HONEST
    assert trust.log_name == "pool.example/log"


def test_no_witnesses_and_no_final_newline() -> None:
    text = f"{HEADER}\norigin pool.example/log\nlog {LOG}\nrequired 0"
    trust = TrustText.from_text(text)
    assert trust.witnesses == () and trust.required == 0
    assert trust.to_text() == text + "\n"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "line 1"),
        (HONEST.replace(HEADER, "mutualog trust v2"), "line 1"),
        (HONEST.replace("\n", "\r\n"), "line 1"),
        (HONEST + "\n", "line 6"),
        ("\n" + HONEST, "line 1"),
        (f"{HEADER}\norigin a\nlog {LOG}\n", "3 lines"),
        (HONEST.replace("origin pool.example/log\n", ""), "line 2"),
        (HONEST.replace("required 1\n", ""), "line 5"),
        (HONEST.replace("origin ", "origin  "), "begins or ends with a space"),
        (HONEST.replace("origin pool.example/log", "origin\tpool.example/log"), "line 2"),
        (HONEST.replace("origin pool.example/log", "origin "), "origin is empty"),
        (HONEST.replace("pool.example/log\n", "pool\x7f\n", 1), "control character"),
        (HONEST.replace("required 1", "required 01"), "leading zeros"),
        (HONEST.replace("required 1", "required 3"), "3 witnesses required, but 2"),
        (HONEST.replace("required 1", "required -1"), "not a decimal"),
        (HONEST.replace("required 1", "required \u0661"), "not a decimal"),
        (HONEST.replace("required 1", "required 1 "), "not a decimal"),
        (HONEST.replace("required 1", "witnesses 1"), "line 6"),
        (HONEST.replace(f"witness {W2}", f"witness {W1_AGAIN}"), "appears twice"),
        (HONEST.replace(f"witness {W2}", f"witness {LOG}"), "signature type"),
        (HONEST.replace(f"log {LOG}", f"log {W1}"), "signature type"),
        (HONEST.replace(f"log {LOG}", f"log {WEAK}"), "not a usable Ed25519 public key"),
        (HONEST.replace(f"log {LOG}", f"log {LOG} "), "base64"),
        (HONEST.replace(f"log {LOG}", f"log {LOG[:-2]}A="), "key ID|base64"),
        (HONEST.replace(f"witness {W1}\n", f"witness {W1}\r\n"), "carriage return"),
        (HONEST.replace(f"witness {W1}\n", f"witness {W1}\n\n"), "line 5"),
        (HONEST.replace("\nlog ", "\norigin ", 1), "line 3"),
    ],
)
def test_refused(text: str, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        TrustText.from_text(text)


def test_too_many_witnesses() -> None:
    keys = tuple(
        CosignatureSigner(f"w{i}", i.to_bytes(32, "big")).verifier().to_vkey()
        for i in range(MAX_WITNESSES + 1)
    )
    text = f"{HEADER}\norigin o\nlog {LOG}\n" + "".join(f"witness {k}\n" for k in keys)
    with pytest.raises(MalformedError, match=f"{MAX_WITNESSES + 5} lines, at most"):
        TrustText.from_text(text + "required 0\n")
    with pytest.raises(MalformedError, match=f"{MAX_WITNESSES + 1} witnesses, at most"):
        TrustText("o", LOG, keys, 0)


@pytest.mark.parametrize("required", [True, 1.0, "1"])
def test_required_must_be_an_int(required: object) -> None:
    with pytest.raises(MalformedError, match="not an integer"):
        TrustText("o", LOG, (W1,), required)  # type: ignore[arg-type]
