"""What a finished claim action did, said once for the operator's page and
the ``mutualog-server pool`` commands alike.

:func:`describe` and :func:`describe_answer` own the wording.  They return
the sentence as parts: text, and the values each edge shows its own way —
money (:class:`Fen`: exact fen, grouped on a page) and times (a terminal
writes them as the log does, a page to the minute).  The page and the
command only choose those two formats, for :func:`render`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from verifiable.log.bodies import ClaimDecided, ClaimNoticed, ClaimPaid, Outcome, PanelDrawn

__all__ = ["Description", "Fen", "describe", "describe_answer", "render"]


@dataclass(frozen=True)
class Fen:
    """An amount of money in a description, in fen."""

    amount: int


Description = tuple[str | Fen | datetime, ...]
"""A sentence without its capital and full stop, as parts to format."""


def describe(
    claim_id: str, body: ClaimNoticed | PanelDrawn | ClaimDecided | ClaimPaid
) -> Description:
    """What appending ``body`` to claim ``claim_id`` did."""
    if isinstance(body, ClaimNoticed):
        return (
            f"noticed claim {claim_id}: aid proposed ",
            Fen(body.amount),
            ", objections until ",
            body.objections_until,
        )
    if isinstance(body, PanelDrawn):
        return (
            f"drew a panel of {len(body.jurors)} for claim {claim_id} (round {body.round}); "
            "voting until ",
            body.votes_until,
        )
    if isinstance(body, ClaimPaid):
        return (
            f"paid claim {claim_id}: ",
            Fen(body.amount),
            f" in period {body.period.isoformat()}",
        )
    if body.outcome is Outcome.INELIGIBLE:
        return (f"decided claim {claim_id} ineligible (illness inside the waiting period)",)
    return (
        f"closed voting on claim {claim_id}: {body.approvals} approve, {body.rejections} "
        f"reject; {body.outcome.value}, ",
        Fen(body.amount),
    )


def describe_answer(claim_id: str, objection_seq: int, seq: int) -> Description:
    """What answering the objection at ``objection_seq`` in entry ``seq`` did."""
    return (f"answered objection {objection_seq} to claim {claim_id} in entry {seq}",)


def render(description: Description, fen: str, time: str) -> str:
    """``description`` as text: ``fen`` formats an amount (``"{:,} fen"``),
    ``time`` a time (``"%Y-%m-%d %H:%M UTC"``)."""
    out: list[str] = []
    for part in description:
        if isinstance(part, Fen):
            out.append(fen.format(part.amount))
        elif isinstance(part, datetime):
            out.append(part.strftime(time))
        else:
            out.append(part)
    return "".join(out)
