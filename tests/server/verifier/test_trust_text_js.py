"""trust_text.js beside verifiable/log/trust_text.py: honest trust texts
(0 to 3 witnesses, any K, with and without the final newline, origins that
trip a naive port) and single-line and single-field mutations of them (a
line dropped, doubled, swapped or emptied, a word or a value changed, a
character of a key flipped, spaces, CR, a weak key, a key of the other
type, K out of range) get the same verdict from both, and an accepted text
the same origin, keys and K."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from tests.server.verifier.note_cases import _ODD_POINTS
from verifiable.errors import MalformedError
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.note import (
    ALG_ED25519,
    ALG_ED25519_COSIGNATURE,
    Ed25519Signer,
    compute_key_id,
    encode_base64,
)
from verifiable.log.trust_text import HEADER, TrustText

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Runs a batch of texts through trust_text.js: {verdict, value}, the value
# the fields read and the text written back.
RUNNER = """async (texts) => {
  const m = await import("/js/trust_text.js");
  const errors = await import("/js/errors.js");
  const out = [];
  for (const text of texts) {
    try {
      const t = await m.parseTrustText(text);
      const value = [t.origin, t.logKey, t.witnesses, t.required, m.writeTrustText(t)];
      out.push({ verdict: "ok", value });
    } catch (e) {
      if (!(e instanceof errors.MalformedError)) throw e;
      out.push({ verdict: "malformed", value: null });
    }
  }
  return out;
}"""

ORIGINS = [
    "pool.example/log",
    "go.sum database tree",
    "日志/互助",
    "a\u00a0b",
    "x\u2028y",
    "\U0001d4c1og",
]


def _python(text: str) -> dict[str, Any]:
    try:
        t = TrustText.from_text(text)
    except MalformedError:
        return {"verdict": "malformed", "value": None}
    return {
        "verdict": "ok",
        "value": [t.origin, t.log_key, list(t.witnesses), t.required, t.to_text()],
    }


def _weak_key(name: str, algorithm: int, point: bytes) -> str:
    key_id = compute_key_id(name, algorithm, point)
    return f"{name}+{key_id:08x}+{encode_base64(bytes([algorithm]) + point)}"


def _honest(rng: random.Random) -> list[str]:
    origin = rng.choice(ORIGINS)
    # A key's name has no spaces; an origin may (Go's checksum database's).
    named = not any(c.isspace() for c in origin)
    log = Ed25519Signer(origin if named and rng.random() < 0.7 else "log", rng.randbytes(32))
    names = rng.sample(["w1", "witness.example", "见证", "w2"], rng.randint(0, 3))
    witnesses = [CosignatureSigner(n, rng.randbytes(32)) for n in names]
    lines = [HEADER, f"origin {origin}", f"log {log.verifier().to_vkey()}"]
    lines += [f"witness {w.verifier().to_vkey()}" for w in witnesses]
    lines.append(f"required {rng.randint(0, len(witnesses))}")
    return lines


def _mutations(rng: random.Random, lines: list[str]) -> list[str]:
    out: list[list[str]] = []
    for i in range(len(lines)):
        out.append(lines[:i] + lines[i + 1 :])
        out.append([*lines[:i], lines[i], *lines[i:]])
        out.append([*lines[:i], "", *lines[i + 1 :]])
        out.append([*lines[:i], lines[i] + " ", *lines[i + 1 :]])
        out.append([*lines[:i], " " + lines[i], *lines[i + 1 :]])
        out.append([*lines[:i], lines[i] + "\r", *lines[i + 1 :]])
        out.append([*lines[:i], lines[i].replace(" ", "\t", 1), *lines[i + 1 :]])
        out.append([*lines[:i], lines[i].upper(), *lines[i + 1 :]])
        j = rng.randrange(len(lines[i]))
        flipped = lines[i][:j] + chr(ord(lines[i][j]) ^ rng.choice([1, 32])) + lines[i][j + 1 :]
        out.append([*lines[:i], flipped, *lines[i + 1 :]])
        if i + 1 < len(lines):
            out.append([*lines[:i], lines[i + 1], lines[i], *lines[i + 2 :]])
    k = int(lines[-1].split(" ")[1])
    n = len(lines) - 4
    for value in [str(k + 1), str(n + 1), "-1", "0" + str(k), "1e0", "\u0661", "", "+1"]:
        out.append([*lines[:-1], f"required {value}"])
    point = rng.choice(_ODD_POINTS)
    out.append([*lines[:2], f"log {_weak_key('log', ALG_ED25519, point)}", *lines[3:]])
    weak = _weak_key("weak", ALG_ED25519_COSIGNATURE, point)
    out.append([*lines[:3], f"witness {weak}", *lines[3:-1], f"required {k}"])
    other = CosignatureSigner("log", rng.randbytes(32)).verifier().to_vkey()
    out.append([*lines[:2], f"log {other}", *lines[3:]])
    if n:
        log_key = lines[2].split(" ", 1)[1]
        out.append([*lines[:3], f"witness {log_key}", *lines[4:]])
    out.append([lines[0].replace("v1", "v2"), *lines[1:]])
    return ["\n".join(m) + "\n" for m in out]


def cases(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    texts: list[str] = []
    for _ in range(count):
        lines = _honest(rng)
        texts += ["\n".join(lines) + "\n", "\n".join(lines), "\r\n".join(lines) + "\r\n"]
        texts += _mutations(rng, lines)
    return texts


def test_trust_text_agrees(verifier_page: Page) -> None:
    texts = cases(15, 12)
    got = verifier_page.evaluate(RUNNER, texts)
    expected = [_python(t) for t in texts]
    mismatches = [(t, g, e) for t, g, e in zip(texts, got, expected, strict=True) if g != e]
    assert not mismatches, mismatches[:3]
    verdicts = [e["verdict"] for e in expected]
    assert verdicts.count("ok") >= 24 and verdicts.count("malformed") > len(texts) // 2
