"""verify-claim on a pool whose rules name witnesses for the draw: every
honest claim's seed checks out, derived from the witnessed checkpoint,
and a panel whose checkpoint or cosignature is not what the rules say, even
proven under a new signed checkpoint, fails ``seed``."""

from __future__ import annotations

import random
from dataclasses import replace
from functools import cache

from verifiable.findings import Finding
from verifiable.log.bodies import PanelDrawn
from verifiable.log.bundle import Bundle
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.entry import make_entry, parse_entry
from verifiable.log.merkle import hash_leaves, root_hash
from verifiable.log.note import Ed25519Signer
from verifiable.pool.bundle_builder import MemorySource, claim_bundle
from verifiable.pool.claim_check import check_claim
from verifiable.pool.log_index import LogIndex
from verifiable.pool.sortition import witnessed_seed
from verifiable.testonly.simulate import SimConfig, Simulation

ORIGIN = "example.org/mutualog/witnessed"
WITNESS = CosignatureSigner("witness.example/w", bytes([3]) * 32)
SIGNER = Ed25519Signer(ORIGIN, bytes(range(32)))
CONFIG = SimConfig(
    days=40,
    initial_members=60,
    initial_jurors=40,
    claims_per_day=150,
    rules={
        "juror.seasoning_days": 0,
        "member.waiting_days": 10,
        "panel.size": 5,
        "claim.objection_days": 2,
        "panel.voting_days": 2,
        "draw.witnesses": [WITNESS.verifier().to_vkey()],
        "draw.witnesses_required": 1,
    },
)


@cache
def _entries() -> tuple[bytes, ...]:
    sim = Simulation(random.Random(4), CONFIG, witnesses=[WITNESS], origin=ORIGIN)
    return tuple(sim.run())


def _bundle(entries: tuple[bytes, ...], claim: str) -> Bundle:
    index = LogIndex()
    for seq, data in enumerate(entries):
        index.feed(parse_entry(data, seq=seq))
    root = root_hash(hash_leaves(entries))
    note = sign_checkpoint(Checkpoint(ORIGIN, len(entries), root), SIGNER)
    return claim_bundle(index, MemorySource(list(entries)), len(entries), note, claim)


def _failed(findings: list[Finding]) -> set[str]:
    return {f.name for f in findings if not f.ok}


def _first_panel() -> tuple[int, PanelDrawn]:
    for seq, data in enumerate(_entries()):
        body = parse_entry(data, seq=seq).body
        if isinstance(body, PanelDrawn):
            return seq, body
    raise AssertionError("no panel")


def _forged(seq: int, body: PanelDrawn) -> tuple[bytes, ...]:
    """The log with the panel at ``seq`` replaced, the tree signed again."""
    entries = list(_entries())
    old = parse_entry(entries[seq], seq=seq)
    entries[seq] = make_entry(seq, old.prev, old.time, old.type, body).to_bytes()
    return tuple(entries)


def test_every_witnessed_seed_passes() -> None:
    entries = _entries()
    claims = {b.claim for b in (parse_entry(d).body for d in entries) if isinstance(b, PanelDrawn)}
    assert claims
    for claim in sorted(claims)[:12]:
        findings = check_claim(_bundle(entries, claim), SIGNER.verifier(), ORIGIN, claim)
        # What this file is about: every witnessed seed checks out.
        assert "seed" not in _failed(findings), [f for f in findings if not f.ok]
        seed = [f.detail for f in findings if f.name == "seed"]
        assert seed and all("cosigned by witness.example/w" in d for d in seed)


def test_a_bad_cosignature_fails_seed() -> None:
    seq, body = _first_panel()
    assert body.witnessed is not None
    c = body.witnessed.cosignatures[0]
    bad = replace(c, signature=bytes([c.signature[0] ^ 1]) + c.signature[1:])
    witnessed = replace(body.witnessed, cosignatures=(bad,))
    seed = witnessed_seed(witnessed.checkpoint.root_hash, witnessed.cosignatures)
    entries = _forged(seq, replace(body, witnessed=witnessed, seed=seed))
    findings = check_claim(_bundle(entries, body.claim), SIGNER.verifier(), ORIGIN, body.claim)
    assert "seed" in _failed(findings)
    assert any("panel.witness_signature" in f.detail for f in findings if not f.ok)


def test_a_checkpoint_of_another_log_fails_seed() -> None:
    """Cosigned by the witness, but another origin's checkpoint."""
    seq, body = _first_panel()
    assert body.witnessed is not None
    other = replace(body.witnessed.checkpoint, origin="example.org/elsewhere")
    cosigned = WITNESS.cosign(other.to_text(), body.witnessed.cosignatures[0].timestamp)
    witnessed = replace(body.witnessed, checkpoint=other, cosignatures=(cosigned,))
    seed = witnessed_seed(other.root_hash, witnessed.cosignatures)
    entries = _forged(seq, replace(body, witnessed=witnessed, seed=seed))
    findings = check_claim(_bundle(entries, body.claim), SIGNER.verifier(), ORIGIN, body.claim)
    assert "seed" in _failed(findings)
    assert any("another log's" in f.detail for f in findings if not f.ok)


def test_the_witnessed_checkpoint_needs_its_proof() -> None:
    _, body = _first_panel()
    assert body.witnessed is not None
    bundle = _bundle(_entries(), body.claim)
    size = body.witnessed.checkpoint.size
    assert any(s.size == size for s in bundle.consistency)
    stripped = replace(bundle, consistency=tuple(s for s in bundle.consistency if s.size != size))
    findings = check_claim(stripped, SIGNER.verifier(), ORIGIN, body.claim)
    assert "seed" in _failed(findings)
