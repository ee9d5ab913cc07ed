"""Erasing private data in the log's sight: a member's identity, a claim's
evidence.

The ``data.erased`` entry is appended first and the private data deleted
after, so a refused append erases nothing.  A crash between the two leaves
the log saying what is not done yet; asking again finishes it without a
second entry.  The reason is published, so it must not repeat what it
erases.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.pool.concerned import guard
from server.pool.core import PoolCore, checked, require
from server.pool.errors import PoolInputError, PoolRefusedError
from server.private.erasure import set_erasure_seq
from server.private.evidence import erase_evidence, list_evidence
from server.private.members import MemberDetails, erase_member_details, member_details
from verifiable.errors import MalformedError
from verifiable.log.bodies import DataErased, ErasedKind
from verifiable.log.fields import read_text
from verifiable.log.texts import ERASURE_REASON

__all__ = ["MAX_ERASURE_REASON", "Erasure"]

#: An erasure's public reason (the ``data.erased`` field's bound).
MAX_ERASURE_REASON = 500


class Erasure:
    """The erasures over ``core``."""

    def __init__(self, core: PoolCore) -> None:
        self._core = core

    def erase_member(self, member_id: str, reason: str, requested_by: int | None) -> DataErased:
        """Erase a member's name, ID number and phone, and log that it happened."""
        core = self._core
        with core.lock:
            state = core.state()
            if state.member(member_id) is None and not state.has_left(member_id):
                raise PoolRefusedError(
                    f"there is no member {member_id}", "member.unknown", member=member_id
                )
            details = member_details(core.engine, member_id)
            done = state.erasures.get((ErasedKind.MEMBER, member_id))
            if details is None:
                what = f"were erased in entry {done.seq}" if done else "are stored"
                raise PoolRefusedError(
                    f"no private details of member {member_id} {what}",
                    "erase.member_done" if done else "erase.member_none",
                    member=member_id,
                    **({"seq": done.seq} if done else {}),
                )
            reason = _public_reason(reason)
            guard(core, reason, ERASURE_REASON, [member_id])
            _not_repeating(reason, _identity(details))
            at = core.now(state)
            body = DataErased(kind=ErasedKind.MEMBER, subject=member_id, documents=0, reason=reason)
            seq = done.seq if done else core.one(checked(body, "erasure"), at)
            erasure = erase_member_details(core.engine, member_id, reason, requested_by, at)
            set_erasure_seq(core.engine, erasure.id, seq)
            return body

    def erase_evidence(self, claim_id: str, reason: str, requested_by: int | None) -> DataErased:
        """Erase a claim's evidence documents and their salts (the
        commitments stay, here and in the log), and log that it happened."""
        core = self._core
        with core.lock:
            state = core.state()
            view = require(state, claim_id)
            left = [d for d in list_evidence(core.engine, claim_id) if d.erased is None]
            done = state.erasures.get((ErasedKind.EVIDENCE, claim_id))
            if not left:
                what = f"was erased in entry {done.seq}" if done else "is stored"
                raise PoolRefusedError(
                    f"no evidence of claim {claim_id} {what}",
                    "erase.evidence_done" if done else "erase.evidence_none",
                    claim=claim_id,
                    **({"seq": done.seq} if done else {}),
                )
            claimant = member_details(core.engine, view.member)
            private = [d.filename for d in left if d.filename]
            reason = _public_reason(reason)
            guard(core, reason, ERASURE_REASON, [view.member])
            _not_repeating(reason, (*_identity(claimant), *private))
            at = core.now(state)
            body = DataErased(
                kind=ErasedKind.EVIDENCE, subject=claim_id, documents=len(left), reason=reason
            )
            seq = done.seq if done else core.one(checked(body, "erasure"), at)
            erasure = erase_evidence(core.engine, claim_id, reason, requested_by, at)
            set_erasure_seq(core.engine, erasure.id, seq)
            return body


def _identity(details: MemberDetails | None) -> tuple[str, ...]:
    return () if details is None else (details.name, details.id_number, details.phone)


def _public_reason(reason: str) -> str:
    """An erasure's reason, fit for the public log: one line of 1 to 500
    characters (the private-data guard looks at it next)."""
    text = reason.strip()
    try:
        read_text(text, "reason", max_len=MAX_ERASURE_REASON, multiline=False)
    except MalformedError as e:
        raise PoolInputError(
            f"the reason is published in the log: one line of 1 to {MAX_ERASURE_REASON} "
            f"characters without control characters ({e})",
            "erase.reason_shape",
            most=MAX_ERASURE_REASON,
            detail=str(e),
        ) from e
    return text


def _not_repeating(text: str, private: Sequence[str]) -> None:
    """Refuse a reason that repeats, as it is written, what is being erased:
    a file name of the evidence, or a value of the member's the guard did
    not find (it looks for names and numbers standing alone)."""
    folded = text.casefold()
    for value in private:
        if len(value) >= 3 and value.casefold() in folded:
            raise PoolInputError(
                "the reason is published in the log: it must not repeat the personal data "
                "being erased (a name, ID number, phone number or file name)",
                "erase.reason_personal",
            )
