"""verify-claim on a pool whose rules name witnesses for the draw: every
honest claim's seed checks out, derived from the witnessed checkpoint,
and a panel whose checkpoint or cosignature is not what the rules say, even
proven under a new signed checkpoint, fails ``seed``.  A juror removed
after the juror pool and qualified again before a draw is back in the
draw, for verify-claim as for the rulebook."""

from __future__ import annotations

import random
from dataclasses import replace
from functools import cache

from tests.verifiable.pool.witnessed_pool import WITNESS, witnessed_config
from verifiable.findings import Finding
from verifiable.log.bodies import JuryPool, PanelDrawn
from verifiable.log.bundle import Bundle
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import Entry, make_entry, parse_entry
from verifiable.log.merkle import hash_leaves, root_hash
from verifiable.log.note import Ed25519Signer
from verifiable.pool.bundle_builder import MemorySource, claim_bundle
from verifiable.pool.claim_check import check_claim
from verifiable.pool.log_index import LogIndex
from verifiable.pool.replay import replay
from verifiable.pool.sortition import witnessed_seed
from verifiable.testonly.simulate import Simulation

ORIGIN = "example.org/mutualog/witnessed"
SIGNER = Ed25519Signer(ORIGIN, bytes(range(32)))
CONFIG = witnessed_config()


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


def _requalified_draws(entries: list[Entry]) -> list[tuple[str, str]]:
    """(claim, juror) of every panel that drew a juror removed after the
    pool it was drawn from and qualified again before the draw."""
    pool_seq: dict[object, int] = {}
    found = []
    for e in entries:
        if isinstance(e.body, JuryPool):
            pool_seq[e.body.period] = e.seq
        if not isinstance(e.body, PanelDrawn):
            continue
        since = pool_seq[e.body.pool_period]
        for juror in e.body.jurors:
            kinds = [
                x.type
                for x in entries[since + 1 : e.seq]
                if getattr(x.body, "member", None) == juror
                and x.type in ("juror.removed", "juror.qualified")
            ]
            if kinds and kinds[-1] == "juror.qualified" and "juror.removed" in kinds:
                found.append((e.body.claim, juror))
    return found


def test_the_rulebook_draws_a_requalified_juror_and_verify_claim_agrees() -> None:
    data = _entries()
    replay(data)  # the rulebook accepts the whole log: it raises on a broken rule
    draws = _requalified_draws([parse_entry(d, seq=i) for i, d in enumerate(data)])
    assert draws, "the simulated pool has no requalified juror drawn: choose another seed"
    for claim, _juror in draws:
        found = check_claim(_bundle(data, claim), SIGNER.verifier(), ORIGIN, claim)
        assert all(f.ok for f in found), [(f.name, f.detail) for f in found if not f.ok]


def test_without_the_requalification_the_juror_counts_as_lapsed() -> None:
    """A bundle that shows the removal but leaves out the qualification after
    it cannot prove the juror eligible: ``sortition`` fails."""
    data = _entries()
    entries = [parse_entry(d, seq=i) for i, d in enumerate(data)]
    claim, juror = _requalified_draws(entries)[0]
    bundle = _bundle(data, claim)
    kept = tuple(
        b
        for b in bundle.entries
        if not (
            entries[b.index].type == "juror.qualified"
            and getattr(entries[b.index].body, "member", None) == juror
        )
    )
    assert len(kept) < len(bundle.entries)
    found = check_claim(replace(bundle, entries=kept), SIGNER.verifier(), ORIGIN, claim)
    assert [f.name for f in found if not f.ok] == ["sortition"]
