"""verifiable.pool.log_index: the one index of a pool's log, checked against
plain scans of the simulated log of tests/verifiable/bundle_pool.py."""

from __future__ import annotations

import pytest

from tests.verifiable.pool.bundle_pool import pool, roster_ids
from verifiable.errors import MutualogError, VerificationError
from verifiable.pool.claim_check import CLAIM_TYPES
from verifiable.pool.log_index import LogIndex
from verifiable.pool.rules import moment


def test_fed_bytes_or_entries_the_index_is_the_same() -> None:
    p = pool()
    from_bytes = LogIndex()
    for data in p.entries:
        from_bytes.feed_bytes(data)
    assert from_bytes.size == p.index.size == len(p.entries)
    assert from_bytes.claims == p.index.claims
    assert from_bytes.closed == p.index.closed
    assert from_bytes.joined == p.index.joined


def test_rosters_and_deductions_follow_the_joins_and_leaves() -> None:
    p = pool()
    assert p.index.closed
    for period, (_, closed) in p.index.closed.items():
        ids = roster_ids(p.decoded, moment(period))
        assert p.index.roster(period) == ids
        assert len(ids) == closed.roster_size
        at = moment(period)
        assert all(p.index.sharing(m, at) for m in ids)
    assert [seq for seq, _ in p.index.closes()] == sorted(s for s, _ in p.index.closed.values())


def test_each_claims_record_holds_exactly_its_entries() -> None:
    p = pool()
    for claim, record in p.index.claims.items():
        want = [
            e.seq
            for e in p.decoded
            if (e.type == "claim.filed" or e.type in CLAIM_TYPES)
            and getattr(e.body, "claim", None) == claim
        ]
        assert record.seqs == want, claim
        assert record.filed_seq == want[0]
        panels = [e.seq for e in p.decoded if e.seq in want and e.type == "panel.drawn"]
        assert [panel.seq for panel in record.panels] == panels
        votes = [s for panel in record.panels for s in panel.sealed + panel.revealed]
        assert sorted(votes) == [
            s for s in want if p.decoded[s].type in ("vote.sealed", "vote.revealed")
        ]


def test_entries_out_of_order_or_off_the_chain_are_refused() -> None:
    p = pool()
    index = LogIndex()
    with pytest.raises(MutualogError, match="log index: entry 1 after 0 entries"):
        index.feed(p.decoded[1])
    index.feed_bytes(p.entries[0])
    with pytest.raises(VerificationError):
        index.feed_bytes(p.entries[2])
    assert index.size == 1
