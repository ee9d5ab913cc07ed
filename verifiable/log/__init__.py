"""The transparency log: what it holds and how it is proven.

- :mod:`~verifiable.log.merkle` — RFC 9162 §2 Merkle tree, proofs and verification
- :mod:`~verifiable.log.note` — C2SP signed-note with Ed25519
- :mod:`~verifiable.log.cosignature` — C2SP tlog-cosignature (witness cosignatures)
- :mod:`~verifiable.log.checkpoint` — C2SP tlog-checkpoint
- :mod:`~verifiable.log.witness_policy` — how many witnesses must cosign (K of N)
- :mod:`~verifiable.log.trust_text` — what to trust (a log, its key, its witnesses, K) as
  a text an auditor publishes and the verifier page reads
- :mod:`~verifiable.log.tiles` — C2SP tlog-tiles paths, tiles, entry bundles, authenticated reads
- :mod:`~verifiable.log.tiledlog` — a whole log read through its tiles and checked: the
  one walk over them (a resumable cursor), for restore, audit and receipts
- :mod:`~verifiable.log.entry` — the canonical (RFC 8785) entry envelope and hash chain
- :mod:`~verifiable.log.bodies` and :mod:`~verifiable.log.fields` — the typed
  bodies of every entry type (the format; what they mean is :mod:`verifiable.pool`)
- :mod:`~verifiable.log.bundle` — verification bundles: entries with their proofs

Nothing here imports :mod:`verifiable.pool`.
"""
