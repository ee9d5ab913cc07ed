"""Runs the verifier page's JavaScript beside ``verifiable/`` on the same cases.

* :class:`LoopbackFiles` serves ``server/verifier/js/`` at ``/js/`` and this
  folder's ``runner.js`` at ``/runner.js`` from 127.0.0.1 (a thread in the
  test process); a loopback origin is a secure context, where WebCrypto is.
* :func:`run_in_page` sends a batch of cases to ``runner.js`` in Debian's
  Chromium; :func:`python_outcome` is what ``verifiable/`` says of one case.

A case is plain JSON: hashes in hex, sizes as decimal strings, notes as
base64 of their bytes; an outcome is ``{"name", "verdict", "value"}`` with
the verdict ``ok``, ``malformed`` (:class:`MalformedError`) or
``verification`` (:class:`VerificationError`), and the value a pass yields
(a root, the keys that signed, the checkpoint's fields), ``None`` on a
refusal.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.checkpoint import open_checkpoint
from verifiable.log.cosignature import CosignatureVerifier
from verifiable.log.merkle import (
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from verifiable.log.note import Ed25519Verifier, Verifier, open_note
from verifiable.log.witness_policy import WitnessPolicy

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["JS_DIR", "LoopbackFiles", "python_outcome", "run_in_page"]

ROOT = Path(__file__).resolve().parents[3]
JS_DIR = ROOT / "server" / "verifier" / "js"
RUNNER = Path(__file__).with_name("runner.js")

Case = dict[str, Any]
Outcome = dict[str, Any]


class _Handler(SimpleHTTPRequestHandler):
    """Files of the two folders only; nothing logged to the test's output."""

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        if path == "/runner.js":
            return str(RUNNER)
        if path.startswith("/js/") and "/" not in path[4:] and not path[4:].startswith("."):
            return str(JS_DIR / path[4:])
        return str(JS_DIR / "missing")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LoopbackFiles:
    """A file server on a free port of 127.0.0.1, in a daemon thread."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(_Handler, directory=str(JS_DIR))
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LoopbackFiles:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def run_in_page(page: Page, cases: list[Case]) -> list[Outcome]:
    """Each case's outcome from the JavaScript modules, in order."""
    out: list[Outcome] = []
    for start in range(0, len(cases), 4000):
        batch = cases[start : start + 4000]
        out.extend(page.evaluate("async (cases) => (await import('/runner.js')).run(cases)", batch))
    return out


# --- the same cases in Python --------------------------------------------------


_HEX = re.compile(r"(?:[0-9a-f]{2})*")


def _bytes(text: str) -> bytes | str:
    # As runner.js: lowercase hex of whole bytes decodes; anything else stays
    # a str, which every check refuses as a wrong type.
    return bytes.fromhex(text) if _HEX.fullmatch(text) else text


def _inclusion(c: Case) -> tuple[str, object]:
    proof = [_bytes(p) for p in c["proof"]]
    verify_inclusion(_bytes(c["leaf"]), int(c["index"]), int(c["size"]), proof, _bytes(c["root"]))  # type: ignore[arg-type]
    return "inclusion", None


def _consistency(c: Case) -> tuple[str, object]:
    proof = [_bytes(p) for p in c["proof"]]
    old_root, new_root = _bytes(c["old_root"]), _bytes(c["new_root"])
    verify_consistency(int(c["old"]), int(c["new"]), proof, old_root, new_root)  # type: ignore[arg-type]
    return "consistency", None


def _root(c: Case) -> tuple[str, object]:
    return "root", root_hash([_bytes(h) for h in c["leaves"]]).hex()  # type: ignore[misc]


def _hashes(c: Case) -> tuple[str, object]:
    left, right = bytes.fromhex(c["left"]), bytes.fromhex(c["right"])
    return "hashes", [leaf_hash(bytes.fromhex(c["data"])).hex(), node_hash(left, right).hex()]


def _note(c: Case) -> tuple[str, object]:
    verifiers: list[Verifier] = [Ed25519Verifier.from_vkey(v) for v in c["vkeys"]]
    verifiers += [CosignatureVerifier.from_vkey(v) for v in c["witnesses"]]
    opened = open_note(base64.b64decode(c["note"]), verifiers)
    return "signature", [
        [v.signature.key for v in opened.verified],
        [s.key for s in opened.unverified],
    ]


def _checkpoint(c: Case) -> tuple[str, object]:
    log = Ed25519Verifier.from_vkey(c["vkey"])
    witnesses = [CosignatureVerifier.from_vkey(v) for v in c["witnesses"]]
    signed = open_checkpoint(base64.b64decode(c["note"]), log, c["origin"], witnesses)
    cp = signed.checkpoint
    cosigned = [[s.name, str(s.timestamp)] for s in signed.cosignatures]
    return "checkpoint", [
        cp.origin,
        str(cp.size),
        cp.root_hash.hex(),
        list(cp.extensions),
        cosigned,
    ]


def _witnesses(c: Case) -> tuple[str, object]:
    # Run after the case's checkpoint opened (python_outcome): its own refusals
    # are the policy's.
    log = Ed25519Verifier.from_vkey(c["vkey"])
    witnesses = [CosignatureVerifier.from_vkey(v) for v in c["witnesses"]]
    signed = open_checkpoint(base64.b64decode(c["note"]), log, c["origin"], witnesses)
    policy_keys = [CosignatureVerifier.from_vkey(v) for v in c["policy_witnesses"]]
    policy = WitnessPolicy.of(policy_keys, c["required"])
    return "witnesses", "no policy" if policy is None else policy.verify(signed, now=int(c["now"]))


_PYTHON: dict[str, Callable[[Case], tuple[str, object]]] = {
    "inclusion": _inclusion,
    "consistency": _consistency,
    "root": _root,
    "hashes": _hashes,
    "note": _note,
    "checkpoint": _checkpoint,
    "witnesses": _witnesses,
}
_NAMES = {"note": "signature"}


def python_outcome(case: Case) -> Outcome:
    """What ``verifiable/`` says of ``case``, in the shape ``runner.js`` gives."""
    if case["kind"] == "witnesses":
        # Two checks, as a page runs them: the policy only on an opened checkpoint.
        opened = python_outcome({**case, "kind": "checkpoint"})
        if opened["verdict"] != "ok":
            return opened
    name = _NAMES.get(case["kind"], case["kind"])
    try:
        name, value = _PYTHON[case["kind"]](case)
    except MalformedError:
        return {"name": name, "verdict": "malformed", "value": None}
    except VerificationError:
        return {"name": name, "verdict": "verification", "value": None}
    return {"name": name, "verdict": "ok", "value": value}
