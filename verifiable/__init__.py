"""mutualog's verifiable core: pure, deterministic code with no I/O.

Two subjects, one direction of dependency (``pool`` reads ``log``, never
the other way):

- :mod:`verifiable.log` — the transparency log: RFC 9162 Merkle tree and
  proofs, C2SP signed notes, checkpoints, cosignatures and tiles, the
  canonical entry envelope with its hash chain and typed bodies, and
  verification bundles;
- :mod:`verifiable.pool` — the pool's rulebook: rules, the state machine of
  members, claims, panels, votes and periods, sortition, rosters, replay, and
  the member's and juror's checks (deductions, claims, vote receipts);
- :mod:`verifiable.errors` — the one exception hierarchy, shared by both;
- :mod:`verifiable.findings` — the one result type of a check that reports
  every finding (a name and a status), shared by both.

:mod:`verifiable.testonly` holds an honest-history generator for tests,
benchmarks and the demo; nothing in ``log`` or ``pool`` imports it.

Nothing here reads a file, a socket, a clock or a random source; whatever it
needs from the world comes in as an argument.
"""

from verifiable.errors import MalformedError, MutualogError, RuleViolation, VerificationError

__all__ = ["MalformedError", "MutualogError", "RuleViolation", "VerificationError"]
