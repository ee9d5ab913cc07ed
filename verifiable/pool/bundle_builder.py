"""Building honest verification bundles (:mod:`verifiable.log.bundle`) from a log.

:func:`deduction_bundle` and :func:`claim_bundle` look up in a
:class:`verifiable.pool.log_index.LogIndex` where each claim's entries, each
member's joining and lapses, the rule changes, the juror pools and the
period closes are, and gather, for a tree size, the entries and proofs
that :mod:`verifiable.pool.deduction` and :mod:`verifiable.pool.claim_check` need, from
a :class:`ProofSource` (the server's storage, or :class:`MemorySource` in
tests and benchmarks).  The juror draw is followed with the same
:func:`verifiable.pool.sortition.candidate_indices` the checker uses, so a bundle
holds exactly the pool leaves the check visits.

Nothing here replays the pool's rules: a bundle holds what the log's entries
say, whether or not they follow the rules, and it is the member's check that
tells.  So a log that breaks a rule (a forged roster root, a panel that is
not the draw, a payout with no decision) still yields its bundles, and a
period's roster (:meth:`LogIndex.roster`) is the one the log's joins and
leaves give, whatever root its ``period.closed`` commits to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from verifiable.errors import MutualogError
from verifiable.log.bundle import Bundle, BundleEntry, Deduction, JurorLeaf, SeedProof
from verifiable.log.merkle import consistency_proof, hash_leaves, inclusion_proof
from verifiable.pool.log_index import LogIndex
from verifiable.pool.roster import RosterSummary, roster_inclusion_proof, roster_summary_proof
from verifiable.pool.sortition import candidate_indices

__all__ = [
    "MemorySource",
    "ProofSource",
    "claim_bundle",
    "deduction_bundle",
]


class ProofSource(Protocol):
    """A log's entries and RFC 9162 proofs at any size it has reached."""

    def entry(self, index: int) -> bytes: ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, old: int, new: int) -> list[bytes]: ...


class MemorySource:
    """A :class:`ProofSource` over a list of entry bytes held in memory."""

    def __init__(self, entries: Sequence[bytes]) -> None:
        self._entries = entries
        self._leaves = hash_leaves(entries)

    def entry(self, index: int) -> bytes:
        return self._entries[index]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return inclusion_proof(self._leaves, index, size)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return consistency_proof(self._leaves, old, new)


class _Gather:
    """The entries and proofs of one bundle, at one tree size."""

    def __init__(self, source: ProofSource, size: int) -> None:
        self.source = source
        self.size = size
        self.entries: dict[int, BundleEntry] = {}
        self.seeds: dict[int, SeedProof] = {}
        self.jurors: dict[tuple[date, int], JurorLeaf] = {}

    def entry(self, index: int) -> None:
        if 0 <= index < self.size and index not in self.entries:
            data = self.source.entry(index)
            proof = tuple(self.source.inclusion_proof(index, self.size))
            self.entries[index] = BundleEntry(index, data, proof)

    def rules(self, index: LogIndex) -> None:
        for seq in index.rules:
            self.entry(seq)

    def bundle(self, note: bytes, deduction: Deduction | None, claims: Sequence[str]) -> Bundle:
        return Bundle(
            checkpoint=note,
            entries=tuple(self.entries[i] for i in sorted(self.entries)),
            consistency=tuple(self.seeds[s] for s in sorted(self.seeds)),
            jurors=tuple(self.jurors[k] for k in sorted(self.jurors)),
            deduction=deduction,
            claims=tuple(sorted(claims)),
        )


def _claim(g: _Gather, index: LogIndex, claim: str) -> None:
    """Everything ``claim``'s history needs, below ``g.size``."""
    size = g.size
    record = index.claims.get(claim)
    seqs = [s for s in record.seqs if s < size] if record is not None else []
    if record is None or not seqs:
        raise MutualogError(f"claim {claim} is not in the log of size {size}")
    for seq in seqs:
        g.entry(seq)
    claimant = record.filed.member
    g.entry(index.joined[claimant][0] if claimant in index.joined else size)
    excluded = {claimant, *record.objectors}
    for panel in record.panels:
        seq = panel.seq
        if seq >= size:
            break
        g.entry(panel.seed_size - 1)
        g.entry(panel.seed_size)
        for proven in (panel.seed_size, panel.witnessed_size):
            # The seed size, and the witnessed checkpoint's, whose root the
            # check proves to be the log's.
            if proven is not None and 0 < proven < size and proven not in g.seeds:
                g.seeds[proven] = SeedProof(proven, tuple(g.source.consistency_proof(proven, size)))
        pool = index.pool(panel.pool_period)
        if pool is None:
            continue  # a panel naming no committed pool: the check says so
        g.entry(pool.seq)
        drawn = 0
        for i in candidate_indices(panel.seed, claim, panel.round, panel.appeal, len(pool)):
            if drawn == len(panel.jurors):
                break
            key = (panel.pool_period, i)
            if key not in g.jurors:
                member, proof = pool.proof(i)
                g.jurors[key] = JurorLeaf(panel.pool_period, i, member, tuple(proof))
            member = g.jurors[key].member
            if member in excluded:
                continue
            lapses = [s for s in (index.lapses.get(member) or ()) if pool.seq < s < seq]
            if lapses:
                # The last lapse shows why the draw skips the juror, or, with
                # a qualification after it, why the draw takes the juror back.
                g.entry(lapses[-1])
                back = [s for s in (index.qualified.get(member) or ()) if lapses[-1] < s < seq]
                if not back:
                    continue
                g.entry(back[-1])
            drawn += 1
        excluded.update(panel.jurors)


def claim_bundle(
    index: LogIndex,
    source: ProofSource,
    size: int,
    note: bytes,
    claim: str,
    since: int | None = None,
) -> Bundle:
    """The bundle ``verify-claim`` needs for ``claim`` at tree ``size``, whose
    signed checkpoint note is ``note``; with ``since`` (a juror's receipt's
    tree size, for ``verify-receipt --bundle``), also the consistency proof
    from that size, when it is below ``size``."""
    g = _Gather(source, size)
    g.rules(index)
    _claim(g, index, claim)
    if since is not None and 0 < since < size and since not in g.seeds:
        g.seeds[since] = SeedProof(since, tuple(source.consistency_proof(since, size)))
    return g.bundle(note, None, [claim])


def deduction_bundle(
    index: LogIndex,
    source: ProofSource,
    size: int,
    note: bytes,
    member: str,
    period: date,
    roster: Sequence[str],
    sample: Sequence[str] = (),
    summary: RosterSummary | None = None,
) -> Bundle:
    """The bundle ``verify-deduction`` needs for ``member`` in ``period``, with
    ``roster`` the period's sorted roster and ``sample`` the claims to check
    in full.  With ``summary`` (the roster's :class:`RosterSummary`, kept by a
    server for each period) the member's proof is computed from one chunk of
    the roster, not from all of it.  Raises :class:`MutualogError` for a
    period not closed below ``size``, a member not on the roster or a claim
    not in the log."""
    closed = index.closed.get(period)
    if closed is None or closed[0] >= size:
        raise MutualogError(f"period {period} has no period.closed in the log of size {size}")
    g = _Gather(source, size)
    g.rules(index)
    g.entry(closed[0])
    earlier = [p for p, (seq, _) in index.closed.items() if p < period and seq < size]
    if earlier:
        g.entry(index.closed[max(earlier)][0])
    if summary is None:
        position, proof = roster_inclusion_proof(roster, member)
    else:
        start, end = summary.chunk_range(summary.chunk_of(member))
        position, proof = roster_summary_proof(summary, roster[start:end], member)
    paid = tuple(index.paid.get(period) or ())
    for claim in sample:
        _claim(g, index, claim)
    return g.bundle(note, Deduction(member, period, position, tuple(proof), paid), sample)
