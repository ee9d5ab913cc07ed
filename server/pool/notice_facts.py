"""The structured facts of a claim's notice, as the server works them out
(notice facts v1; docs/format.md).

The operator says three things: the grade of the treating hospital, its
province, and a summary of the investigation.  Everything else is the log's:
the month of the diagnosis, the whole months from joining to it, the amount
requested and the amount the band's cap allows.  The province is coarsened
before it is published, and the grade with it where needed
(:func:`verifiable.log.notice_facts.coarsened`,
the one rule, over the claims of the log), so what the operator typed is
never what the log must hold; the preview shows which place and grade
the notice will carry.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.pool.errors import PoolInputError
from verifiable.log.notice_facts import (
    PROVINCE_REGION,
    HospitalGrade,
    NoticeFacts,
    coarsened,
    months_between,
)
from verifiable.pool.state import ClaimView, PoolState

__all__ = ["NoticeDetails", "notice_facts", "published", "sharing_claims"]


@dataclass(frozen=True)
class NoticeDetails:
    """What the operator says of a claim for its notice: the hospital's
    ``grade``, its ``province`` (a GB/T 2260 code) and the ``summary`` of
    the investigation, a text for the log."""

    grade: HospitalGrade
    province: str
    summary: str


def sharing_claims(state: PoolState, view: ClaimView) -> int:
    """The claims in the log of ``view``'s age band and category diagnosed
    in its month, ``view`` included: what the place is coarsened against.
    Claims filed later only raise it, so the count at the notice is the
    cautious one."""
    month = (view.diagnosed.year, view.diagnosed.month)
    return sum(
        1
        for c in state.claims()
        if c.band is view.band
        and c.category == view.category
        and (c.diagnosed.year, c.diagnosed.month) == month
    )


def published(
    state: PoolState, view: ClaimView, details: NoticeDetails
) -> tuple[str | None, HospitalGrade | None]:
    """The place and grade the notice of ``view`` publishes for the
    operator's ``details``: as given, or coarsened."""
    if details.province not in PROVINCE_REGION:
        detail = (
            f"notice.facts.place: {details.province!r} is not a GB/T 2260 mainland province code"
        )
        raise PoolInputError(detail, "input.malformed", detail=detail)
    return coarsened(details.province, details.grade, sharing_claims(state, view))


def notice_facts(state: PoolState, view: ClaimView, details: NoticeDetails) -> NoticeFacts:
    """The facts of ``view``'s notice: the operator's grade and province
    (coarsened), the rest from the log."""
    member = state.member(view.member)
    # A claim gets its notice only while its claimant is a member (the
    # rulebook's claim.member at filing; leaving ends the claim's course).
    joined = member.joined.date() if member is not None else view.diagnosed
    place, grade = published(state, view, details)
    return NoticeFacts(
        diagnosed_month=f"{view.diagnosed.year:04d}-{view.diagnosed.month:02d}",
        months_member=months_between(joined, view.diagnosed),
        waiting_met=not view.waiting,
        hospital_grade=grade,
        requested=view.requested,
        capped=min(view.requested, view.rules.cap(view.band) or 0),
        place=place,
    )
