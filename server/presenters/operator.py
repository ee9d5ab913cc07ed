"""What the operator's actions did, in sentences of the page's language:
the messages the operator's pages show after an action (the ``mutualog-server
pool`` commands keep the English wording of :mod:`server.pool.outcomes`).
Money in yuan and times in the pool's time zone (:mod:`server.i18n`).
"""

from __future__ import annotations

from flask_babel import gettext

from server import i18n
from verifiable.log.bodies import (
    ClaimDecided,
    ClaimNoticed,
    ClaimPaid,
    Outcome,
    PanelDrawn,
    PeriodClosed,
)

__all__ = ["period_closed", "said"]


def _(text: str, **values: object) -> str:
    return str(gettext(text, **values))


def said(claim_id: str, body: ClaimNoticed | PanelDrawn | ClaimDecided | ClaimPaid) -> str:
    """What an action on a claim did, in a sentence of the page's language."""
    if isinstance(body, ClaimNoticed):
        return _(
            "Claim %(claim)s noticed: aid proposed %(amount)s, objections until %(until)s.",
            claim=claim_id,
            amount=i18n.yuan(body.amount),
            until=i18n.datetime(body.objections_until),
        )
    if isinstance(body, PanelDrawn):
        return _(
            "Panel of %(jurors)d drawn for claim %(claim)s (round %(round)d); "
            "voting until %(until)s.",
            jurors=len(body.jurors),
            claim=claim_id,
            round=body.round,
            until=i18n.datetime(body.votes_until),
        )
    if isinstance(body, ClaimPaid):
        return _(
            "Claim %(claim)s paid: %(amount)s, shared in the period of %(period)s.",
            claim=claim_id,
            amount=i18n.yuan(body.amount),
            period=i18n.date(body.period),
        )
    if body.outcome is Outcome.INELIGIBLE:
        return _(
            "Claim %(claim)s decided ineligible (illness inside the waiting period).",
            claim=claim_id,
        )
    if body.outcome is Outcome.APPROVED:
        return _(
            "Voting on claim %(claim)s closed: %(approvals)d approve, %(rejections)d reject; "
            "approved, %(amount)s.",
            claim=claim_id,
            approvals=body.approvals,
            rejections=body.rejections,
            amount=i18n.yuan(body.amount),
        )
    # Rejected, or too few votes (a new panel is drawn): no aid to name.
    return _(
        "Voting on claim %(claim)s closed: %(approvals)d approve, %(rejections)d reject; "
        "%(outcome)s.",
        claim=claim_id,
        approvals=body.approvals,
        rejections=body.rejections,
        outcome=i18n.outcome(body.outcome.value),
    )


def period_closed(body: PeriodClosed) -> str:
    """What closing a period appended, in a sentence of the page's language."""
    return _(
        "Period %(period)s closed: %(members)s members share %(claims)d claims, %(share)s each.",
        period=i18n.date(body.period),
        members=i18n.number(body.sharing),
        claims=body.claims_count,
        share=i18n.yuan(body.share),
    )
