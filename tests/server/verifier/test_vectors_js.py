"""The verifier's JavaScript and ``verifiable/`` agree on every public vector.

tests/vectors (see its README): the RFC 6962 hasher cases and reference
tree, the 196 transparency-dev/merkle inclusion and consistency files, the
signed notes and verifier keys of C2SP, golang.org/x/mod and
transparency-dev/formats, the self-generated cosigned checkpoint and the
real Sigstore staging checkpoint with its inclusion proof.  Each case must
get the same verdict (ok, malformed, verification), check id and value
from both.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.server.verifier.verifier_harness import python_outcome, run_in_page

if TYPE_CHECKING:
    from playwright.sync_api import Page

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
TESTDATA = VECTORS / "transparency-dev-merkle" / "testdata"


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def _hex(b64: str | None) -> str:
    return base64.b64decode(b64 or "").hex()


def _note(text: str, prefix: bytes = b"") -> str:
    return base64.b64encode(prefix + text.encode("utf-8")).decode("ascii")


def merkle_vector_cases() -> list[dict[str, Any]]:
    """The transparency-dev/merkle files (``"proof": null`` is an empty proof)."""
    cases: list[dict[str, Any]] = []
    for path in sorted((TESTDATA / "inclusion").rglob("*.json")):
        v = json.loads(path.read_text(encoding="utf-8"))
        cases.append(
            {
                "kind": "inclusion",
                "leaf": _hex(v["leafHash"]),
                "index": str(v["leafIdx"]),
                "size": str(v["treeSize"]),
                "proof": [_hex(p) for p in v["proof"] or []],
                "root": _hex(v["root"]),
            }
        )
    for path in sorted((TESTDATA / "consistency").rglob("*.json")):
        v = json.loads(path.read_text(encoding="utf-8"))
        cases.append(
            {
                "kind": "consistency",
                "old": str(v["size1"]),
                "new": str(v["size2"]),
                "proof": [_hex(p) for p in v["proof"] or []],
                "old_root": _hex(v["root1"]),
                "new_root": _hex(v["root2"]),
            }
        )
    return cases


def hash_vector_cases() -> list[dict[str, Any]]:
    """Roots of every prefix of the RFC 6962 reference tree, and its hashers."""
    data = _load("rfc6962-hashes.json")
    leaves: list[str] = data["leaf_inputs_hex"]
    cases: list[dict[str, Any]] = [
        {"kind": "hashes", "data": leaf, "left": leaves[-1] * 2, "right": "00" * 32}
        for leaf in leaves
    ]
    hashed = [python_outcome(c)["value"][0] for c in cases]
    cases += [{"kind": "root", "leaves": hashed[:n]} for n in range(len(hashed) + 1)]
    return cases


def note_vector_cases() -> list[dict[str, Any]]:
    """Signed notes, verifier keys and checkpoints of the public vectors."""
    notes = _load("signed-note.json")
    go = notes["go_sumdb_note"]
    named = {"peter": go["peter_vkey"], "enoch": go["enoch_vkey"]}
    example = notes["c2sp_signed_note_example"]
    cases: list[dict[str, Any]] = [
        {
            "kind": "note",
            "note": _note(example["note"]),
            "vkeys": [example["vkey"]],
            "witnesses": [],
        }
    ]
    for case in go["open_cases"]:
        vkeys = [named[v] for v in case["verifiers"]]
        if "msg" in case:
            note = _note(case["msg"])
        else:
            note = _note(case["msg_rest"], bytes.fromhex(case["msg_hex_prefix"]))
        cases.append({"kind": "note", "note": note, "vkeys": vkeys, "witnesses": []})
    bad = [
        *go["bad_vkeys"],
        *(v.split(" ")[0] for v in notes["transparency_dev_formats"]["vkeys_bad"]),
    ]
    ok = [v.split(" ")[0] for v in notes["transparency_dev_formats"]["vkeys_ok"]]
    signed = _note(go["signed_by_peter"])
    for vkey in [*bad, *ok, go["peter_vkey"]]:
        cases.append({"kind": "note", "note": signed, "vkeys": [vkey], "witnesses": []})
        cases.append({"kind": "note", "note": signed, "vkeys": [], "witnesses": [vkey]})
    generated = _load("generated-cosignature-and-tiles.json")
    keys = generated["keys"]
    cosigned = _note(generated["checkpoint_with_log_sig_and_cosig"])
    for witnesses in ([], [keys["witness"]["vkey_cosignature_v1"]]):
        cases.append(
            {
                "kind": "checkpoint",
                "note": cosigned,
                "vkey": keys["log"]["vkey"],
                "origin": keys["log"]["name"],
                "witnesses": witnesses,
            }
        )
    rekor = _load("rekor-v2-staging-checkpoint.json")
    cases.append(
        {
            "kind": "checkpoint",
            "note": _note(rekor["checkpoint_note"]),
            "vkey": rekor["vkey"],
            "origin": rekor["origin"],
            "witnesses": [],
        }
    )
    cases.append(
        {
            "kind": "inclusion",
            "leaf": rekor["leaf_hash_hex"],
            "index": rekor["leaf_index"],
            "size": rekor["tree_size"],
            "proof": [_hex(p) for p in rekor["inclusion_proof_b64"]],
            "root": _hex(rekor["root_hash_b64"]),
        }
    )
    return cases


def _compare(page: Page, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    got = run_in_page(page, cases)
    want = [python_outcome(c) for c in cases]
    differ = [(c, w, g) for c, w, g in zip(cases, want, got, strict=True) if w != g]
    assert not differ, f"{len(differ)} of {len(cases)} cases differ, first: {differ[0]}"
    return want


def test_merkle_vectors_agree(verifier_page: Page) -> None:
    want = _compare(verifier_page, merkle_vector_cases())
    verdicts = {w["verdict"] for w in want}
    # The files hold accepted proofs and both kinds of refusal.
    assert verdicts == {"ok", "malformed", "verification"}
    assert len(want) == 196


def test_hash_vectors_agree(verifier_page: Page) -> None:
    want = _compare(verifier_page, hash_vector_cases())
    roots = _load("rfc6962-hashes.json")["root_hashes_by_tree_size_hex"]
    assert [w["value"] for w in want if w["name"] == "root"] == roots


def test_note_vectors_agree(verifier_page: Page) -> None:
    want = _compare(verifier_page, note_vector_cases())
    assert {w["verdict"] for w in want} == {"ok", "malformed", "verification"}
    # The cosigned checkpoint, opened with its witness, yields the cosignature.
    cosigned = [w["value"][4] for w in want if w["name"] == "checkpoint" and w["value"]]
    assert [["witness.example.com/w1", "1679315147"]] in cosigned
