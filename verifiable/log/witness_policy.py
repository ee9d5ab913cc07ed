"""How many witnesses must have cosigned a checkpoint: a K-of-N policy.

A verifier and a policy are two things (sigstore-python's ``verify/policy.py``
splits them the same way).  :func:`verifiable.log.checkpoint.open_checkpoint`
verifies the signatures: the log's, and every line by a trusted witness's
key (C2SP tlog-cosignature), a bad one failing the whole note.  A
:class:`WitnessPolicy` then decides whether the cosignatures that verified
are enough: at least ``required`` distinct witnesses of its ``witnesses``.

A policy that requires no one would pass every checkpoint, so it cannot be
made: ``required`` is at least 1.  A log followed without witnesses has no
policy at all (``None`` where a policy is expected), and the caller says so
rather than checking a policy that is trivially valid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.checkpoint import SignedCheckpoint
from verifiable.log.cosignature import CosignatureVerifier, check_not_future

__all__ = ["WitnessPolicy"]


@dataclass(frozen=True)
class WitnessPolicy:
    """At least ``required`` of the trusted ``witnesses`` must have cosigned."""

    witnesses: tuple[CosignatureVerifier, ...]
    required: int

    def __post_init__(self) -> None:
        names = [w.name for w in self.witnesses]
        if len(set(names)) != len(names):
            raise MalformedError(f"witness policy: a witness name appears twice in {names}")
        if isinstance(self.required, bool) or not 1 <= self.required <= len(names):
            raise MalformedError(
                f"witness policy: {self.required!r} of {len(names)} witnesses required; "
                "a policy requires between 1 and all of its witnesses"
            )

    @classmethod
    def of(cls, witnesses: Iterable[CosignatureVerifier], required: int) -> WitnessPolicy | None:
        """The policy for ``required`` of ``witnesses``, or ``None`` when
        ``required`` is 0: no witness is asked for, so there is nothing to check."""
        if required == 0:
            return None
        return cls(tuple(witnesses), required)

    def verify(self, signed: SignedCheckpoint, *, now: int) -> str:
        """Return what was found, as ``"2 of 3 trusted witnesses cosigned (a, b);
        2 required"``, or raise :class:`VerificationError` saying the same
        when fewer than ``required`` of the witnesses cosigned ``signed``.

        Only cosignatures verified by this policy's own keys count (their
        lines were checked when ``signed`` was opened with them), each
        witness once however many lines it has.  One of them dated after
        ``now`` (POSIX seconds, beyond the clock skew of
        :func:`~verifiable.log.cosignature.check_not_future`) fails the
        checkpoint: a witness's clock that runs ahead could make an old view
        pass for a fresh one.
        """
        keys = {(w.name, w.key_id) for w in self.witnesses}
        ours = [c for c in signed.cosignatures if (c.name, c.key_id) in keys]
        check_not_future(ours, now)
        names = sorted({c.name for c in ours})
        found = f"{len(names)} of {len(self.witnesses)} trusted witnesses cosigned" + (
            f" ({', '.join(names)})" if names else ""
        )
        detail = f"{found}; {self.required} required"
        if len(names) < self.required:
            raise VerificationError(detail)
        return detail
