"""``mutualog export-trust ORIGIN``: the pinned log's trust text, which an
auditor publishes and the verifier page reads (verifiable/log/trust_text.py)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from client.cli import EXIT_CANNOT_VERIFY, EXIT_VERIFIED, main
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.note import Ed25519Signer
from verifiable.log.trust_text import TrustText

ORIGIN = "pool.example/log"
LOG = Ed25519Signer(ORIGIN, bytes(range(32))).verifier().to_vkey()
W1 = CosignatureSigner("witness.one", bytes(32 * [1])).verifier().to_vkey()
W2 = CosignatureSigner("witness.two", bytes(32 * [2])).verifier().to_vkey()


def run(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def test_export_prints_the_pinned_log_and_its_witness_policy(tmp_path: Path) -> None:
    pin = ["--witness", "witness.one", W1, "--witness", "witness.two", W2]
    code, _, err = run("--state", tmp_path, "trust", ORIGIN, LOG, *pin, "--witnesses-required", "1")
    assert code == EXIT_VERIFIED, err
    code, out, err = run("--state", tmp_path, "export-trust", ORIGIN)
    assert code == EXIT_VERIFIED, err
    assert out == (
        f"mutualog trust v1\norigin {ORIGIN}\nlog {LOG}\nwitness {W1}\nwitness {W2}\nrequired 1\n"
    )
    assert TrustText.from_text(out) == TrustText(ORIGIN, LOG, (W1, W2), 1)


def test_export_of_a_log_pinned_without_witnesses_says_k_is_0(tmp_path: Path) -> None:
    assert run("--state", tmp_path, "trust", ORIGIN, LOG)[0] == EXIT_VERIFIED
    code, out, _ = run("--state", tmp_path, "export-trust", ORIGIN)
    assert code == EXIT_VERIFIED
    assert out.endswith(f"log {LOG}\nrequired 0\n")


def test_export_of_a_log_not_pinned_is_refused(tmp_path: Path) -> None:
    code, out, err = run("--state", tmp_path, "export-trust", ORIGIN)
    assert code == EXIT_CANNOT_VERIFY and out == ""
    assert "is not pinned" in err and "mutualog trust ORIGIN VERIFIER_KEY" in err
