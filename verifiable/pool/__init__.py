"""The pool's rulebook: what the log's entries mean, and the checks built on it.

- :mod:`~verifiable.pool.rules` — the rulebook as typed data and its schedule
- :mod:`~verifiable.pool.state` (with :mod:`~verifiable.pool.members`,
  :mod:`~verifiable.pool.claims`, :mod:`~verifiable.pool.panels`,
  :mod:`~verifiable.pool.periods`) — the pool's state machine
- :mod:`~verifiable.pool.claim_machine` — a claim's life, the one state machine
  the rulebook and ``verify-claim`` both ask
- :mod:`~verifiable.pool.replay` — ``replay(entries)``: the whole state, or the
  first rule an entry breaks
- :mod:`~verifiable.pool.sortition`, :mod:`~verifiable.pool.votes`,
  :mod:`~verifiable.pool.roster` — juror draws, sealed votes, member-set trees
- :mod:`~verifiable.pool.evidence` — salted commitments to claim evidence
- :mod:`~verifiable.pool.receipt` and :mod:`~verifiable.pool.receipt_check` — the
  juror's vote receipt, and its checks (offline and against the log)
- :mod:`~verifiable.pool.proven`, :mod:`~verifiable.pool.deduction`,
  :mod:`~verifiable.pool.claim_check` — the member's checks, from a bundle
- :mod:`~verifiable.pool.log_index`, :mod:`~verifiable.pool.bundle_builder` —
  where things are in a log, and the honest bundles built from it
"""
