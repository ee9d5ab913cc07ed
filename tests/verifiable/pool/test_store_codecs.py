"""The member record's codec: its fast paths give the bytes and the member
the general JSON path gives, and bytes of any other form still decode (or
fail) as JSON says."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from verifiable.errors import MalformedError
from verifiable.log.bodies import AgeBand
from verifiable.log.fields import format_time, read_time
from verifiable.pool.members import MEMBERS, Member
from verifiable.pool.roster import roster_leaf
from verifiable.pool.store_codecs import dumps, loads

encode, decode = MEMBERS.codec.encode, MEMBERS.codec.decode


def _general_encode(m: Member) -> bytes:
    return dumps(
        [m.id, m.band.value, format_time(m.joined), m.joined_seq, m.leaf.hex(), m.juror, m.ending]
    )


def _general_decode(data: bytes) -> Member:
    i, band, joined, seq, leaf, juror, ending = loads(data, "member")
    return Member(
        i, AgeBand(band), read_time(joined, "state"), seq, bytes.fromhex(leaf), juror, ending
    )


def _members(n: int) -> list[Member]:
    rng = random.Random(14)
    out = []
    for k in range(n):
        member_id = rng.randbytes(16).hex()
        joined = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**9))
        seq = rng.choice([0, 1, rng.randrange(10**6), 2**53 - 1])
        band = rng.choice(list(AgeBand))
        flags = (k % 2 == 0, k % 3 == 0)
        out.append(Member(member_id, band, joined, seq, roster_leaf(member_id), *flags))
    return out


def test_fast_paths_match_the_general_json_path() -> None:
    members = _members(500)
    # Years under 1000 are padded, as format_time pads them.
    members.append(
        Member("a" * 32, AgeBand.FROM_18_TO_39, datetime(999, 2, 3, tzinfo=UTC), 5, b"\1")
    )
    for m in members:
        raw = encode(m)
        assert raw == _general_encode(m)
        assert decode(raw) == _general_decode(raw) == m
        assert encode(decode(raw)) == raw


def test_a_time_at_offset_zero_in_another_zone_encodes_as_utc() -> None:
    zone = timezone(timedelta(0), "Z0")
    m = Member("b" * 32, AgeBand.UNDER_18, datetime(2024, 5, 6, 7, 8, 9, tzinfo=zone), 3, b"\2")
    assert encode(m) == _general_encode(m)
    assert b'"2024-05-06T07:08:09Z"' in encode(m)


@pytest.mark.parametrize(
    ("joined", "match"),
    [
        (datetime(2024, 1, 1, 0, 0, 0, 5, tzinfo=UTC), "whole seconds"),
        (datetime(2024, 1, 1), "must be UTC"),
        (datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=8))), "must be UTC"),
    ],
    ids=["microseconds", "naive", "another-offset"],
)
def test_a_time_with_no_canonical_form_is_refused(joined: datetime, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        encode(Member("c" * 32, AgeBand.FROM_18_TO_39, joined, 1, b"\3"))


def test_values_outside_the_fast_form_take_the_general_path() -> None:
    odd = Member(
        'q"\\\u00e9\n', AgeBand.FROM_40_TO_59, datetime(2024, 1, 1, tzinfo=UTC), -4, b"", True
    )
    raw = encode(odd)
    assert raw == _general_encode(odd)
    assert decode(raw) == odd


@pytest.mark.parametrize(
    "raw",
    [
        b'[ "%s","18-39","2024-01-01T00:00:00Z",7,"00ff",true,false]',
        b'["%s","18-39","2024-01-01T00:00:00Z",7.0,"00ff",true,false]',
        b'["%s","18-39","2024-01-01T00:00:00Z",7,"00FF",true,false]',
        b'["%s","18-39","2024-01-01T00:00:00Z",7,"00ff",1,0]',
    ],
    ids=["space", "float-seq", "upper-hex", "numbers-for-booleans"],
)
def test_bytes_in_another_json_form_decode_as_json_says(raw: bytes) -> None:
    data = raw.replace(b"%s", b"d" * 32)
    assert decode(data) == _general_decode(data)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b'["%s","18-39","2024-02-30T00:00:00Z",7,"00",true,false]', "calendar"),
        (b'["%s","18-39","2024-01-01T24:00:00Z",7,"00",true,false]', "calendar"),
        (b'["%s","18-39","2024-01-01 00:00:00Z",7,"00",true,false]', "a time"),
        (b'["%s","99-99","2024-01-01T00:00:00Z",7,"00",true,false]', "AgeBand"),
        (b'["%s","18-39","2024-01-01T00:00:00Z",7,"0",true,false]', "hexadecimal"),
        (b'["%s","18-39","2024-01-01T00:00:00Z",7,"00",true]', "unpack"),
        (b'["%s","18-39","2024-01-01T00:00:00Z",7,"00"', "not JSON"),
    ],
    ids=[
        "no-such-day",
        "hour-24",
        "space-for-T",
        "unknown-band",
        "odd-hex",
        "six-fields",
        "truncated",
    ],
)
def test_a_record_that_is_no_member_is_refused(raw: bytes, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        decode(raw.replace(b"%s", b"e" * 32))


def test_the_fast_encoding_is_compact_sorted_json() -> None:
    m = _members(1)[0]
    assert json.loads(encode(m))[0] == m.id
