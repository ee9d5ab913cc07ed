"""What a panel approves on, in words: the rules of the claim's filing as
its juror's case file states them (translation area ``notices``).

Each criterion is a rule the rulebook applies to this claim
(:class:`verifiable.pool.rules.Rules`, in force when it was filed), so the
case file can never state a rule the replay does not enforce."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext, ngettext

from server import i18n
from verifiable.pool.state import ClaimView

__all__ = ["approval_criteria"]


def approval_criteria(view: ClaimView) -> list[str]:
    """The criteria a juror weighs for ``view``, in the page's language."""
    rules = view.rules
    panel = len(view.jurors)
    cap = rules.cap(view.band) or 0
    return [
        gettext(
            "The illness is one the plan covers (%(category)s) and the evidence shows it "
            "was diagnosed as filed.",
            category=i18n.category(view.category),
        ),
        ngettext(
            "It was diagnosed after the waiting period of %(num)d day from joining.",
            "It was diagnosed after the waiting period of %(num)d days from joining.",
            rules.waiting_days,
        ),
        ngettext(
            "It was filed within %(num)d day of the diagnosis.",
            "It was filed within %(num)d days of the diagnosis.",
            rules.filing_days,
        ),
        gettext(
            "The aid is at most the amount requested and the cap of the claimant's age "
            "band, %(cap)s.",
            cap=i18n.yuan(cap),
        ),
        gettext(
            "The claim is approved when at least %(quorum)s of the %(panel)s jurors reveal "
            "a vote and more than %(share)s%% of the votes approve.",
            quorum=i18n.number(rules.quorum(panel)),
            panel=i18n.number(panel),
            share=str(Decimal(rules.threshold_bp) / 100),
        ),
    ]
