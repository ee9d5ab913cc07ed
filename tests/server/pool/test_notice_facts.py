"""The server's side of a notice's facts: what the place is coarsened
against (the log's claims of one band, category and month) and a province
that is not one refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.db import make_engine, upgrade
from server.pool.errors import PoolInputError
from server.pool.notice_facts import NoticeDetails, published, sharing_claims
from server.pool_app import current_pool
from server.private.evidence import Upload
from tests.clock import FixedClock
from tests.server.pool_helpers import PDF, RULES, add_members, make_pool_app
from verifiable.log.notice_facts import HospitalGrade


def test_claims_of_one_band_category_and_month_are_counted(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    upgrade(engine)
    clock = FixedClock(datetime(2026, 3, 1, 9, tzinfo=UTC))
    app = make_pool_app(engine, tmp_path, clock)
    try:
        with app.app_context():
            pool = current_pool()
            pool.start(RULES)
            members = list(add_members(pool, 4, "claimant", clock()))
            clock.advance(days=14)
            pdf = [Upload(PDF, "application/pdf", "a.pdf")]
            day = clock().date()
            cancer = [pool.file_claim(m, "cancer", 1_000_000, day, pdf) for m in members[:3]]
            stroke = pool.file_claim(members[3], "stroke", 1_000_000, day, pdf)
            state = pool.state()
            view = state.claim(cancer[0])
            other = state.claim(stroke)
            assert view is not None and other is not None
            assert (sharing_claims(state, view), sharing_claims(state, other)) == (3, 1)
            details = NoticeDetails(HospitalGrade.TERTIARY_A, "44", "核实无误。")
            assert published(state, view, details) == (None, None)
            with pytest.raises(PoolInputError, match="not a GB/T 2260 mainland province"):
                published(state, view, NoticeDetails(HospitalGrade.TERTIARY_A, "71", "x"))
    finally:
        app.extensions["mutualog"].engine.dispose()
        engine.dispose()
