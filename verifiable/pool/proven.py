"""What a bundle proves against its checkpoint.

:func:`open_bundle` checks a :class:`~verifiable.log.bundle.Bundle`'s checkpoint
note with the log's key (C2SP tlog-checkpoint) and every bundled entry's
RFC 9162 §2.1.3 inclusion proof under that checkpoint's root, and gives back
a :class:`ProvenBundle` holding only what was proven.  Panel seeds (RFC 9162
§2.1.4 consistency from the seed's size) and juror-pool leaves are proven
when a check asks for them.

A check reports a list of :class:`~verifiable.findings.Finding`: a name, a
status and, on failure, what was expected, what was found and where.
"""

from __future__ import annotations

from collections.abc import Iterator

from verifiable.errors import MutualogError, RuleViolation
from verifiable.findings import Finding, Findings
from verifiable.log.bodies import JuryPool, PoolRules
from verifiable.log.bundle import Bundle, JurorLeaf
from verifiable.log.checkpoint import Checkpoint, open_checkpoint
from verifiable.log.entry import Entry, parse_entry
from verifiable.log.merkle import verify_consistency, verify_inclusion
from verifiable.log.note import Verifier
from verifiable.pool.replay import RULEBOOK_TYPE, require_rulebook
from verifiable.pool.roster import roster_leaf
from verifiable.pool.rules import Rulebook

__all__ = ["ProvenBundle", "open_bundle", "rulebook_of"]


class ProvenBundle:
    """The entries of a bundle proven under ``checkpoint``, by index."""

    def __init__(self, bundle: Bundle, checkpoint: Checkpoint, entries: dict[int, Entry]) -> None:
        self.bundle = bundle
        self.checkpoint = checkpoint
        self.entries = entries
        self._jurors = {(j.pool, j.index): j for j in bundle.jurors}
        self._seeds = {s.size: s for s in bundle.consistency}

    def of_type(self, *types: str) -> Iterator[Entry]:
        """Proven entries of the given types, in log order."""
        for index in sorted(self.entries):
            entry = self.entries[index]
            if entry.type in types:
                yield entry

    def prove_seed(self, size: int, seed: bytes) -> str:
        """Prove that ``seed`` is the log's root at ``size``; return how, or
        raise :class:`MutualogError`."""
        cp = self.checkpoint
        if size > cp.size:
            raise MutualogError(f"seed size {size} is beyond the checkpoint's size {cp.size}")
        if size == cp.size:
            if seed != cp.root_hash:
                raise MutualogError(f"root at size {size} is {cp.root_hash.hex()}")
            return f"the checkpoint's own root at size {size}"
        proof = self._seeds.get(size)
        if proof is None:
            raise MutualogError(f"the bundle has no consistency proof from size {size}")
        verify_consistency(size, cp.size, list(proof.proof), seed, cp.root_hash)
        return f"consistency proof {size} -> {cp.size}"

    def juror(self, pool: JuryPool, index: int) -> str:
        """The juror at ``index`` of ``pool``, proven against its root; raises
        :class:`MutualogError` if the bundle lacks it or the proof fails."""
        leaf: JurorLeaf | None = self._jurors.get((pool.period, index))
        if leaf is None:
            raise MutualogError(f"the bundle has no juror at index {index} of the pool")
        verify_inclusion(roster_leaf(leaf.member), index, pool.size, list(leaf.proof), pool.root)
        return leaf.member


def open_bundle(
    bundle: Bundle, verifier: Verifier, origin: str
) -> tuple[ProvenBundle | None, list[Finding]]:
    """Check the bundle's checkpoint and every entry's inclusion; the proven
    part (``None`` if the checkpoint itself fails) and the findings
    ``checkpoint`` and ``inclusion``."""
    try:
        checkpoint = open_checkpoint(bundle.checkpoint, verifier, origin).checkpoint
    except MutualogError as e:
        return None, [
            Finding.failure("checkpoint", str(e), f"a checkpoint signed by the key of {origin}")
        ]
    findings = Findings()
    findings.ok(
        "checkpoint",
        f"signed by the log key, size {checkpoint.size}, root {checkpoint.root_hash.hex()}",
    )
    entries: dict[int, Entry] = {}
    for item in bundle.entries:
        where = f"entry {item.index}"
        try:
            entry = parse_entry(item.data, seq=item.index)
            verify_inclusion(
                entry.leaf_hash(),
                item.index,
                checkpoint.size,
                list(item.proof),
                checkpoint.root_hash,
            )
        except MutualogError as e:
            findings.fail(
                "inclusion",
                f"entry {item.index} is not proven in the tree of size {checkpoint.size}: {e}",
                "a canonical entry included at its index",
                "no proof",
                where,
            )
            continue
        entries[item.index] = entry
    findings.ok("inclusion", f"{len(entries)} entries included under the checkpoint's root")
    return ProvenBundle(bundle, checkpoint, entries), findings.result()


def rulebook_of(proven: ProvenBundle, findings: Findings) -> Rulebook | None:
    """The rulebook from the bundle's ``pool.rules`` entries (entry 0 must be
    the genesis rulebook: a bundle is a pool's, so its log begins with its
    rulebook, ``rules.genesis``); records the finding ``rules``."""
    book = Rulebook()
    first = proven.entries.get(0)
    if first is None or first.type != RULEBOOK_TYPE:
        # The audit's check (require_rulebook); an entry 0 the bundle does
        # not prove cannot be taken for a rulebook either.
        message = str(
            RuleViolation(
                "rules.genesis",
                "a pool's log begins with its rulebook; the bundle proves no entry 0",
                seq=0,
            )
        )
        if first is not None:
            try:
                require_rulebook(0, first.type, pool=True)
            except RuleViolation as e:
                message = str(e)
        found = "no entry 0" if first is None else f"a {first.type} entry"
        findings.fail("rules", message, "a pool.rules entry at index 0", found, "entry 0")
        return None
    for entry in proven.of_type("pool.rules"):
        assert isinstance(entry.body, PoolRules)
        try:
            book.adopt(book.propose(entry.seq, entry.time, entry.body))
        except MutualogError as e:
            findings.fail("rules", str(e), "a valid rule change", "refused", f"entry {entry.seq}")
            return None
    findings.ok("rules", f"{len(book.changes)} pool.rules entries, genesis at entry 0")
    return book
