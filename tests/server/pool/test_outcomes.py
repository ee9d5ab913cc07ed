"""What a finished claim action did: one wording, two formats (the
operator's page and the ``pool`` commands)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server.forms import as_sentence
from server.pool.outcomes import Description, describe, describe_answer, render
from verifiable.log.bodies import (
    AgeBand,
    ClaimDecided,
    ClaimNoticed,
    ClaimPaid,
    Outcome,
    PanelDrawn,
)

CLAIM = "ab" * 16
AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
PAGE = ("{:,} fen", "%Y-%m-%d %H:%M UTC")
TERMINAL = ("{} fen", "%Y-%m-%dT%H:%M:%SZ")


def _panel() -> PanelDrawn:
    return PanelDrawn(
        claim=CLAIM,
        round=2,
        appeal=False,
        pool_period=date(2026, 2, 21),
        seed_size=5,
        seed=bytes(32),
        jurors=("cd" * 16, "ef" * 16, "01" * 16),
        votes_until=AT,
    )


CASES = [
    pytest.param(
        ClaimNoticed(
            claim=CLAIM,
            text="A notice.",
            amount=4_000_000,
            age_band=AgeBand.FROM_18_TO_39,
            category="cancer",
            objections_until=AT,
        ),
        f"noticed claim {CLAIM}: aid proposed 4000000 fen, objections until 2026-03-04T05:06:07Z",
        f"Noticed claim {CLAIM}: aid proposed 4,000,000 fen, objections until "
        "2026-03-04 05:06 UTC.",
        id="notice",
    ),
    pytest.param(
        ClaimDecided(
            claim=CLAIM, round=1, approvals=3, rejections=1, outcome=Outcome.APPROVED, amount=1234
        ),
        f"closed voting on claim {CLAIM}: 3 approve, 1 reject; approved, 1234 fen",
        f"Closed voting on claim {CLAIM}: 3 approve, 1 reject; approved, 1,234 fen.",
        id="close-voting",
    ),
    pytest.param(
        ClaimDecided(
            claim=CLAIM, round=0, approvals=0, rejections=0, outcome=Outcome.INELIGIBLE, amount=0
        ),
        f"decided claim {CLAIM} ineligible (illness inside the waiting period)",
        f"Decided claim {CLAIM} ineligible (illness inside the waiting period).",
        id="ineligible",
    ),
    pytest.param(
        ClaimPaid(claim=CLAIM, amount=5_000_000, period=date(2026, 3, 7)),
        f"paid claim {CLAIM}: 5000000 fen in period 2026-03-07",
        f"Paid claim {CLAIM}: 5,000,000 fen in period 2026-03-07.",
        id="pay",
    ),
]


def _both(description: Description) -> tuple[str, str]:
    return render(description, *TERMINAL), as_sentence(render(description, *PAGE))


@pytest.mark.parametrize(("body", "terminal", "page"), CASES)
def test_one_wording_in_two_formats(
    body: ClaimNoticed | ClaimDecided | ClaimPaid, terminal: str, page: str
) -> None:
    assert _both(describe(CLAIM, body)) == (terminal, page)


def test_a_drawn_panel() -> None:
    terminal, page = _both(describe(CLAIM, _panel()))
    assert terminal == (
        f"drew a panel of 3 for claim {CLAIM} (round 2); voting until 2026-03-04T05:06:07Z"
    )
    assert (
        page == f"Drew a panel of 3 for claim {CLAIM} (round 2); voting until 2026-03-04 05:06 UTC."
    )


def test_an_answer() -> None:
    assert _both(describe_answer(CLAIM, 41, 57)) == (
        f"answered objection 41 to claim {CLAIM} in entry 57",
        f"Answered objection 41 to claim {CLAIM} in entry 57.",
    )
