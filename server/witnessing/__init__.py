"""The log's witnesses: the log server's side of C2SP tlog-witness.

:mod:`server.witnessing.store` holds the tables (witnesses, cosignatures,
the policy, the submitter's lease) and :func:`~server.witnessing.store.cosigned_checkpoint`;
:mod:`server.witnessing.submit` submits each new checkpoint to every
witness and stores the cosignatures that verify; :mod:`server.witnessing.cli`
is ``mutualog-server witness``.  docs/witnesses.md has the operator's side.
"""

from server.witnessing.store import WitnessedCheckpoint, cosigned_checkpoint

__all__ = ["WitnessedCheckpoint", "cosigned_checkpoint"]
