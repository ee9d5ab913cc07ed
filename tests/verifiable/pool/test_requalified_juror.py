"""A juror removed after the juror pool was committed and qualified again
before a draw is back in the pool's draws: the rulebook draws them, the
server's bundle carries the removal and the qualification, and
``verify-claim`` takes the juror back as the rulebook does.  Before, the
rulebook drew such a juror while ``verify-claim`` counted them lapsed, so
an honest claim failed ``sortition``."""

from __future__ import annotations

import random
from dataclasses import replace
from functools import cache

from verifiable.log.bodies import JuryPool, PanelDrawn
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.entry import Entry, parse_entry
from verifiable.log.merkle import hash_leaves, root_hash
from verifiable.log.note import Ed25519Signer
from verifiable.pool.bundle_builder import MemorySource, claim_bundle
from verifiable.pool.claim_check import check_claim
from verifiable.pool.log_index import LogIndex
from verifiable.pool.replay import replay
from verifiable.testonly.simulate import SimConfig, Simulation

ORIGIN = "example.org/mutualog/requalified"
WITNESS = CosignatureSigner("witness.example/w", bytes([3]) * 32)
SIGNER = Ed25519Signer(ORIGIN, bytes(range(1, 33)))
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
def _log() -> tuple[list[bytes], list[Entry], LogIndex, bytes]:
    sim = Simulation(random.Random(4), CONFIG, witnesses=[WITNESS], origin=ORIGIN)
    data = list(sim.run())
    entries = [parse_entry(d, seq=i) for i, d in enumerate(data)]
    index = LogIndex()
    for e in entries:
        index.feed(e)
    root = root_hash(hash_leaves(data))
    note = sign_checkpoint(Checkpoint(ORIGIN, len(data), root), SIGNER)
    return data, entries, index, note


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
    data, entries, index, note = _log()
    replay(data)  # the rulebook accepts the whole log: it raises on a broken rule
    draws = _requalified_draws(entries)
    assert draws, "the simulated pool has no requalified juror drawn: choose another seed"
    source = MemorySource(data)
    for claim, _juror in draws:
        bundle = claim_bundle(index, source, len(data), note, claim)
        found = check_claim(bundle, SIGNER.verifier(), ORIGIN, claim)
        assert all(f.ok for f in found), [(f.name, f.detail) for f in found if not f.ok]


def test_without_the_requalification_the_juror_counts_as_lapsed() -> None:
    """A bundle that shows the removal but leaves out the qualification after
    it cannot prove the juror eligible: ``sortition`` fails."""
    data, entries, index, note = _log()
    claim, juror = _requalified_draws(entries)[0]
    bundle = claim_bundle(index, MemorySource(data), len(data), note, claim)
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
