"""mutualog's verifiable core: pure, deterministic code with no I/O.

- :mod:`verifiable.merkle` — RFC 9162 §2 Merkle tree, proofs and verification
- :mod:`verifiable.note` — C2SP signed-note with Ed25519
- :mod:`verifiable.cosignature` — C2SP tlog-cosignature (witness cosignatures)
- :mod:`verifiable.checkpoint` — C2SP tlog-checkpoint
- :mod:`verifiable.tiles` — C2SP tlog-tiles paths, tiles, entry bundles, mirroring
- :mod:`verifiable.entry` — the canonical (RFC 8785) entry envelope and hash chain
- :mod:`verifiable.bodies` and :mod:`verifiable.fields` — the entry bodies
- :mod:`verifiable.tiledlog` — a whole log read through its tiles and checked
- :mod:`verifiable.rules` — the pool's rulebook as data
- :mod:`verifiable.pool` (with ``pool_*``) — the pool's state machine
- :mod:`verifiable.replay` — ``replay(entries)``: the whole state, or the
  first rule an entry breaks
- :mod:`verifiable.sortition`, :mod:`verifiable.votes`,
  :mod:`verifiable.roster` — juror draws, sealed votes, rosters
- :mod:`verifiable.evidence` — salted commitments to claim evidence
- :mod:`verifiable.receipt` — the juror's vote receipt format
- :mod:`verifiable.pool_builder`, :mod:`verifiable.simulate` — honest
  histories, for tests, benchmarks and the demo
- :mod:`verifiable.errors` — the one exception hierarchy

Nothing here reads a file, a socket, a clock or a random source; whatever it
needs from the world comes in as an argument.
"""

from verifiable.errors import MalformedError, MutualogError, RuleViolation, VerificationError

__all__ = ["MalformedError", "MutualogError", "RuleViolation", "VerificationError"]
