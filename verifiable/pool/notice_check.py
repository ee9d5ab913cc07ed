"""What the log proves about a notice's structured facts (notice facts v1).

A notice's ``facts`` repeat, coarsened, what the filing and the membership
already fix: the month of the diagnosis, the whole months from joining to
the diagnosis, that the waiting period was met, the amount requested and
that amount held to the cap of the claimant's band.  Each is checked here,
once, for the rulebook at replay (:mod:`verifiable.pool.claims`) and for a
member's ``verify-claim`` (:mod:`verifiable.pool.claim_check`).  The
hospital's grade, its place and the investigation summary are the
operator's word: nothing in the log can confirm them.

The ``redacted`` commitments must be one per document of the filing, none
of them an original's commitment (a copy shown to the panel is never the
original document, whose commitment would then let anyone holding the
original confirm it against a juror's copy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from verifiable.log.bodies import ClaimNoticed
from verifiable.log.notice_facts import months_between

__all__ = ["NoticeProblem", "notice_problem"]


@dataclass(frozen=True)
class NoticeProblem:
    """A notice's field that the log contradicts: the rule it breaks, what
    is wrong, what the log gives and what the notice says."""

    rule: str
    message: str
    expected: object
    actual: object


def notice_problem(
    notice: ClaimNoticed,
    *,
    diagnosed: date,
    requested: int,
    cap: int,
    evidence: tuple[bytes, ...],
    joined: datetime | None,
) -> NoticeProblem | None:
    """The first of ``notice``'s facts and commitments the filing (diagnosed
    on ``diagnosed``, ``requested`` fen asked, ``evidence`` committed) and the
    claimant's joining time ``joined`` contradict, or ``None``.  ``joined``
    is ``None`` where the reader cannot see it (a bundle without the
    claimant's ``member.joined``): the months are then not checked."""
    problem = _facts_problem(notice, diagnosed, requested, cap, joined)
    if problem is None and notice.redacted is not None:
        problem = _redacted_problem(notice.redacted, evidence)
    return problem


def _facts_problem(
    notice: ClaimNoticed, diagnosed: date, requested: int, cap: int, joined: datetime | None
) -> NoticeProblem | None:
    facts = notice.facts
    if facts is None:
        return None
    month = f"{diagnosed.year:04d}-{diagnosed.month:02d}"
    if facts.diagnosed_month != month:
        return NoticeProblem(
            "notice.diagnosed_month",
            "the notice's month of diagnosis is not the filing's",
            month,
            facts.diagnosed_month,
        )
    if joined is not None:
        months = months_between(joined.date(), diagnosed)
        if facts.months_member != months:
            return NoticeProblem(
                "notice.months_member",
                "the notice's months of membership are not those from joining to diagnosis",
                months,
                facts.months_member,
            )
    if not facts.waiting_met:
        # A claim inside the waiting period gets no notice at all.
        return NoticeProblem(
            "notice.waiting_met",
            "a noticed claim met the waiting period",
            True,
            facts.waiting_met,
        )
    if facts.requested != requested:
        return NoticeProblem(
            "notice.requested",
            "the notice's amount requested is not the filing's",
            requested,
            facts.requested,
        )
    capped = min(requested, cap)
    if facts.capped != capped:
        return NoticeProblem(
            "notice.capped",
            f"the amount capped is the amount requested held to the band's cap ({cap})",
            capped,
            facts.capped,
        )
    return None


def _redacted_problem(
    redacted: tuple[bytes, ...], evidence: tuple[bytes, ...]
) -> NoticeProblem | None:
    if len(redacted) != len(evidence):
        return NoticeProblem(
            "notice.redacted",
            "one redacted copy per document of the filing",
            len(evidence),
            len(redacted),
        )
    originals = set(evidence)
    for i, commitment in enumerate(redacted):
        if commitment in originals:
            return NoticeProblem(
                "notice.redacted",
                f"redacted copy {i} has an original document's commitment",
                "a commitment of its own",
                commitment.hex(),
            )
    return None
