"""verifiable.pool.log_index: the one index of a pool's log, checked against
plain scans of the simulated log of tests/verifiable/bundle_pool.py."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from tests.verifiable.pool.bundle_pool import pool, roster_ids
from tests.verifiable.pool.test_store import CodecStore
from verifiable.errors import MutualogError, VerificationError
from verifiable.log.bodies import AgeBand, LeaveReason, MemberJoined, MemberLeft, PeriodClosed
from verifiable.pool.claim_check import CLAIM_TYPES
from verifiable.pool.log_index import LogIndex
from verifiable.pool.roster import roster_root
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


def _closed(period: date) -> PeriodClosed:
    return PeriodClosed(period, 0, 0, bytes(32), 0, 0, 0, 0, 0, 0, 0, 0, bytes(32), 0)


def test_a_roster_of_several_chunks_is_read_a_chunk_at_a_time() -> None:
    # 10,000 members joining over three periods, some leaving: each period's
    # roster is summarized at its close, and every chunk read back from the
    # members is that part of the roster, for the old periods too.
    rng = random.Random(14)
    index = LogIndex()
    periods = [date(2026, 1, 7), date(2026, 2, 7), date(2026, 3, 7)]
    ids = sorted({f"{rng.getrandbits(128):032x}" for _ in range(10_000)})
    seq = 0
    for n, period in enumerate(periods):
        at = moment(period)
        for member in ids[n::3]:
            index.feed_body(
                seq,
                at - timedelta(days=1),
                MemberJoined.TYPE,
                MemberJoined(member, AgeBand.FROM_18_TO_39),
            )
            seq += 1
        for member in ids[0::3][: n * 300 : 7]:
            if index.members[member].left is None:
                left = MemberLeft(member, LeaveReason.VOLUNTARY, 0)
                index.feed_body(seq, at - timedelta(hours=1), MemberLeft.TYPE, left)
                seq += 1
        index.feed_body(seq, at + timedelta(hours=1), PeriodClosed.TYPE, _closed(period))
        seq += 1
    for period in periods:
        roster = index.roster(period)
        summary = index.rosters[period]
        assert (summary.root, summary.size) == roster_root(roster)
        for chunk in range(len(summary.firsts)):
            begin, end = summary.chunk_range(chunk)
            assert index.roster_chunk(period, chunk) == roster[begin:end]
    assert len(index.rosters[periods[-1]].firsts) == 3  # 9,000-odd members


def test_an_index_kept_as_bytes_reads_back_the_same() -> None:
    # Every record through its codec, as the server's database keeps it.
    p = pool()
    kept = LogIndex(CodecStore())
    for data in p.entries:
        kept.feed_bytes(data)
    assert dict(kept.claims.items()) == dict(p.index.claims.items())
    assert dict(kept.members.items()) == dict(p.index.members.items())
    assert dict(kept.closed.items()) == dict(p.index.closed.items())
    assert dict(kept.rosters.items()) == dict(p.index.rosters.items())
    assert dict(kept.pools.items()) == dict(p.index.pools.items())
    assert dict(kept.paid.items()) == dict(p.index.paid.items())
    assert dict(kept.lapses.items()) == dict(p.index.lapses.items())
    assert dict(kept.qualified.items()) == dict(p.index.qualified.items())
    assert kept.rules == p.index.rules
    for name in ("claims", "case:paid", "case:approved", "decided:approved"):
        assert kept.count(name) == p.index.count(name)
    members = sorted(p.index.members)
    for member in members[:: max(1, len(members) // 50)]:
        assert kept.member_claims(member) == p.index.member_claims(member)
    for period in p.index.pools:
        pool_view, mine = kept.pool(period), p.index.pool(period)
        assert pool_view is not None and mine is not None
        for i in range(len(mine)):
            assert pool_view.proof(i) == mine.proof(i)
