"""The entry envelope: canonical encoding, strict decoding and the hash chain."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifiable.errors import MalformedError, MutualogError, VerificationError
from verifiable.log import bodies as b
from verifiable.log.entry import (
    GENESIS_PREV,
    MAX_ENTRY_SIZE,
    ChainHead,
    ChainVerifier,
    Entry,
    _encode,
    _plain,
    check_chain,
    entry_leaf_hash,
    make_entry,
    parse_entry,
)

T0 = datetime(2024, 3, 7, 8, 30, 0, tzinfo=UTC)
MEMBER = "0123456789abcdef0123456789abcdef"
CLAIM = "fedcba9876543210fedcba9876543210"
H = bytes(range(32))
DAY = date(2024, 3, 7)

# One body of every type, built directly as the sequencer would.
EXAMPLES: list[b.Body] = [
    b.PoolRules(effective=T0, rules={"panel.size": 31, "cover": ({"cap": 1},)}, reason="start"),
    b.MemberJoined(member=MEMBER, age_band=b.AgeBand.UNDER_18),
    b.MemberLeft(member=MEMBER, reason=b.LeaveReason.VOLUNTARY, refund=0),
    b.ClaimFiled(
        claim=CLAIM, member=MEMBER, category="stroke", amount=1, diagnosed=DAY, evidence=(H,)
    ),
    b.ClaimNoticed(
        claim=CLAIM,
        text="notice",
        amount=1,
        age_band=b.AgeBand.FROM_40_TO_59,
        category="stroke",
        objections_until=T0,
    ),
    b.ClaimObjected(claim=CLAIM, member=MEMBER, text="objection"),
    b.ClaimAnswered(claim=CLAIM, objection=5, text="answer"),
    b.ClaimAppealed(claim=CLAIM, reason="appeal"),
    b.JurorQualified(member=MEMBER),
    b.JurorRemoved(member=MEMBER, reason="left"),
    b.JuryPool(period=DAY, root=H, size=0),
    b.PanelDrawn(
        claim=CLAIM,
        round=1,
        appeal=True,
        pool_period=DAY,
        seed_size=9,
        seed=H,
        jurors=(MEMBER,),
        votes_until=T0,
    ),
    b.VoteSealed(claim=CLAIM, round=1, juror=MEMBER, commitment=H),
    b.VoteRevealed(claim=CLAIM, round=1, juror=MEMBER, choice=b.Choice.REJECT, reason="no", salt=H),
    b.ClaimDecided(
        claim=CLAIM, round=1, approvals=0, rejections=1, outcome=b.Outcome.REJECTED, amount=0
    ),
    b.ClaimPaid(claim=CLAIM, amount=1, period=DAY),
    b.PeriodClosed(
        period=DAY,
        claims_count=0,
        claims_total=0,
        claims_root=H,
        fee=0,
        fee_rate_bp=800,
        refunds=0,
        surplus_in=0,
        surplus_out=0,
        sharing=0,
        share=0,
        collected=0,
        roster_root=H,
        roster_size=0,
    ),
    b.OperatorOverride(action="note", target="rules", reason="why", details={}),
    b.DataErased(kind=b.ErasedKind.EVIDENCE, subject=CLAIM, documents=1, reason="asked"),
    b.VerifierPublished(sha256=H, size=1, build="mutualog-0.1.0"),
]


def _chain(n: int) -> list[bytes]:
    """n valid, chained entries of assorted types."""
    out: list[bytes] = []
    prev = GENESIS_PREV
    for seq in range(n):
        body = EXAMPLES[seq % len(EXAMPLES)]
        entry = make_entry(seq, prev, T0 + timedelta(seconds=seq), body.TYPE, body)
        assert entry.body == body
        data = entry.to_bytes()
        out.append(data)
        prev = entry_leaf_hash(data)
    return out


def _envelope(**changes: object) -> dict[str, Any]:
    env: dict[str, Any] = {
        "v": 1,
        "seq": 0,
        "prev": "00" * 32,
        "time": "2024-03-07T08:30:00Z",
        "type": "member.joined",
        "body": {"member": MEMBER, "age_band": "40-59"},
    }
    env.update(changes)
    return {k: v for k, v in env.items() if v is not _DROP}


_DROP = object()


def _bytes(obj: Any) -> bytes:
    return rfc8785.dumps(obj)


VALID_BYTES = _bytes(_envelope())


def test_valid_entry() -> None:
    entry = parse_entry(VALID_BYTES)
    assert entry == Entry(
        v=1,
        seq=0,
        prev=GENESIS_PREV,
        time=T0,
        type="member.joined",
        body=b.MemberJoined(member=MEMBER, age_band=b.AgeBand.FROM_40_TO_59),
    )
    assert entry.to_bytes() == VALID_BYTES
    assert entry.leaf_hash() == hashlib.sha256(b"\x00" + VALID_BYTES).digest()
    assert entry_leaf_hash(VALID_BYTES) == entry.leaf_hash()


def test_encoding_is_rfc8785() -> None:
    # Keys sorted, no whitespace, non-ASCII raw in UTF-8.
    body = b.ClaimObjected(claim=MEMBER, member=MEMBER, text="é\n")
    data = make_entry(0, GENESIS_PREV, T0, "claim.objected", body).to_bytes()
    assert data.startswith(b'{"body":{"claim":"')
    assert '"text":"é\\n"'.encode() in data
    assert data.endswith(
        b',"prev":"' + b"0" * 64 + b'","seq":0,"time":"2024-03-07T08:30:00Z"'
        b',"type":"claim.objected","v":1}'
    )


# --- malformed envelopes --------------------------------------------------------------

ENVELOPE_CASES = [
    *[
        pytest.param(
            _envelope(**{name: _DROP}), rf"missing field\(s\) {name}$", id=f"{name}-missing"
        )
        for name in ("v", "seq", "prev", "time", "type", "body")
    ],
    pytest.param(_envelope(extra=1), r'entry: unknown field\(s\) "extra"$', id="unknown-field"),
    pytest.param(
        _envelope(sig="x", aux=2), r'entry: unknown field\(s\) "aux", "sig"$', id="unknown-fields"
    ),
    pytest.param(_envelope(v="1"), r"entry: v: expected an integer, got string", id="v-string"),
    pytest.param(_envelope(v=True), r"entry: v: expected an integer, got true", id="v-bool"),
    pytest.param(_envelope(v=2), r"entry: v: unsupported format version 2, expected 1", id="v-2"),
    pytest.param(_envelope(v=0), r"entry: v: unsupported format version 0", id="v-0"),
    pytest.param(
        _envelope(seq="0"), r"entry: seq: expected an integer, got string", id="seq-string"
    ),
    pytest.param(_envelope(seq=-1), r"entry: seq: expected an integer in \[0, ", id="seq-negative"),
    pytest.param(_envelope(seq=None), r"entry: seq: expected an integer, got null", id="seq-null"),
    pytest.param(
        _envelope(prev="00" * 31), r"entry 0: prev: expected 64 lowercase hex", id="prev-short"
    ),
    pytest.param(
        _envelope(seq=3, prev="AB" * 32),
        r"entry 3: prev: expected 64 lowercase hex",
        id="prev-upper",
    ),
    pytest.param(
        _envelope(prev="0x" + "00" * 31), r"entry 0: prev: expected 64 lowercase", id="prev-0x"
    ),
    pytest.param(
        _envelope(prev=0),
        r"entry 0: prev: expected 64 lowercase hex characters, got 0",
        id="prev-int",
    ),
    pytest.param(
        _envelope(time="2024-03-07T08:30:00+08:00"),
        r"entry 0: time: expected a time YYYY-MM-DDTHH:MM:SSZ",
        id="time-offset",
    ),
    pytest.param(
        _envelope(time="2024-03-07T08:30:00.000Z"),
        r"entry 0: time: expected a time",
        id="time-fraction",
    ),
    pytest.param(
        _envelope(time="2024-02-30T08:30:00Z"),
        r"entry 0: time: '2024-02-30T08:30:00Z' is not a calendar time",
        id="time-feb-30",
    ),
    pytest.param(
        _envelope(time=1709800200),
        r"entry 0: time: expected a time .* got 1709800200",
        id="time-int",
    ),
    pytest.param(
        _envelope(type="member.died"),
        r"entry 0: type: expected one of .*member\.joined.*, got string \"member\.died\"",
        id="type-unknown",
    ),
    pytest.param(
        _envelope(type=["member.joined"]),
        r"entry 0: type: expected one of .* got a list of 1",
        id="type-list",
    ),
    pytest.param(
        _envelope(body=[]), r"entry 0: body: expected an object, got a list of 0", id="body-list"
    ),
    pytest.param(
        _envelope(body={"member": MEMBER}),
        r"entry 0: body: missing field\(s\) age_band",
        id="body-missing",
    ),
    pytest.param(
        _envelope(seq=5, body={"member": MEMBER, "age_band": "60+"}),
        r"entry 5: body\.age_band: expected one of",
        id="body-bad-field",
    ),
    pytest.param(
        _envelope(type="claim.paid"),
        r"entry 0: body: missing field\(s\) amount, claim, period",
        id="body-of-other-type",
    ),
    pytest.param([_envelope()], r"entry: expected an object, got a list of 1", id="array"),
    pytest.param("entry", r"entry: expected an object, got string", id="string"),
    pytest.param(None, r"entry: expected an object, got null", id="null"),
]


@pytest.mark.parametrize(("obj", "match"), ENVELOPE_CASES)
def test_malformed_envelope(obj: object, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        parse_entry(_bytes(obj))


def test_body_errors_name_expected_seq() -> None:
    data = _bytes(_envelope(seq="x"))
    with pytest.raises(MalformedError, match=r"^entry 4: seq: expected an integer"):
        parse_entry(data, seq=4)


# --- bytes that are not canonical JSON ------------------------------------------------


def _swap_first_keys(data: bytes) -> bytes:
    obj = parse_entry(data).to_json()
    body = obj.pop("body")
    # Python keeps insertion order, so "body" now comes last instead of first.
    return (
        b"{"
        + b",".join(_bytes(k) + b":" + _bytes(v) for k, v in obj.items())
        + b',"body":'
        + _bytes(body)
        + b"}"
    )


NON_CANONICAL: list[Any] = [
    pytest.param(
        VALID_BYTES + b"\n",
        r"canonical form: first difference at byte 214, expected b'', got b'\\n'",
        id="trailing-newline",
    ),
    pytest.param(
        b" " + VALID_BYTES,
        r"not in RFC 8785 canonical form: first difference at byte 0",
        id="leading-space",
    ),
    pytest.param(
        VALID_BYTES.replace(b'":', b'": '),
        r"not in RFC 8785 canonical form",
        id="space-after-colon",
    ),
    pytest.param(
        VALID_BYTES.replace(b",", b", "), r"not in RFC 8785 canonical form", id="space-after-comma"
    ),
    pytest.param(
        _swap_first_keys(VALID_BYTES),
        r"not in RFC 8785 canonical form: first difference at byte 2",
        id="key-order",
    ),
    pytest.param(
        VALID_BYTES.replace(b'"40-59"', b'"\\u0034\\u0030-59"'),
        r"not in RFC 8785 canonical form",
        id="escaped-ascii",
    ),
    pytest.param(
        VALID_BYTES.replace(b"member.joined", b"member\\u002ejoined"),
        r"not in RFC 8785 canonical form",
        id="escaped-dot",
    ),
    pytest.param(
        VALID_BYTES.replace(b"member.joined", b"member\\/joined"),
        r"not in RFC 8785 canonical form",
        id="escaped-solidus",
    ),
    pytest.param(
        VALID_BYTES.replace(b'"seq":0', b'"seq":-0'),
        r"not in RFC 8785 canonical form",
        id="negative-zero",
    ),
    pytest.param(
        VALID_BYTES.replace(b'"v":1', b'"v":1.0'),
        r"number 1\.0 has a fraction or exponent: floats are not allowed",
        id="float-1.0",
    ),
    pytest.param(
        VALID_BYTES.replace(b'"v":1', b'"v":1e0'),
        r"number 1e0 has a fraction or exponent",
        id="exponent-1e0",
    ),
    pytest.param(
        VALID_BYTES.replace(b'"seq":0', b'"seq":1e2'),
        r"number 1e2 has a fraction or exponent",
        id="exponent-1e2",
    ),
    pytest.param(
        VALID_BYTES.replace(b'"v":1', b'"v":NaN'),
        r"NaN is not JSON and floats are not allowed",
        id="nan",
    ),
    pytest.param(
        VALID_BYTES.replace(b'"v":1', b'"v":Infinity'), r"Infinity is not JSON", id="infinity"
    ),
    pytest.param(
        VALID_BYTES.replace(b'"v":1', b'"v":-Infinity'),
        r"-Infinity is not JSON",
        id="minus-infinity",
    ),
    pytest.param(VALID_BYTES.replace(b'"v":1', b'"v":01'), r"entry: not JSON: ", id="leading-zero"),
    pytest.param(
        VALID_BYTES.replace(b'"v":1}', b'"v":1,"v":1}'),
        r'entry: duplicate key "v"',
        id="duplicate-top",
    ),
    pytest.param(
        VALID_BYTES.replace(b'{"age_band"', b'{"age_band":"40-59","age_band"'),
        r'entry: duplicate key "age_band"',
        id="duplicate-nested",
    ),
    pytest.param(b"\xef\xbb\xbf" + VALID_BYTES, r"entry: not JSON: Unexpected UTF-8 BOM", id="bom"),
    pytest.param(
        VALID_BYTES.replace(b"40-59", b"40\xff59"),
        r"entry: not UTF-8: invalid byte at offset 23",
        id="invalid-utf8",
    ),
    pytest.param(
        VALID_BYTES.replace(b"40-59", b"40\xc0\xad59"), r"entry: not UTF-8", id="overlong-utf8"
    ),
    pytest.param(
        VALID_BYTES.replace(b"40-59", b"40\xed\xa0\x8059"), r"entry: not UTF-8", id="surrogate-utf8"
    ),
    pytest.param(
        VALID_BYTES.replace(b"40-59", b"40\\ud80059"),
        r"entry: cannot be encoded as RFC 8785 JSON",
        id="lone-surrogate-escape",
    ),
    pytest.param(
        VALID_BYTES.decode().encode("utf-16-le"), r"entry: not UTF-8|entry: not JSON", id="utf-16"
    ),
    pytest.param(b"", r"entry: not JSON: Expecting value", id="empty"),
    pytest.param(VALID_BYTES[:-1], r"entry: not JSON: ", id="truncated"),
    pytest.param(b"{'v': 1}", r"entry: not JSON: ", id="single-quotes"),
    pytest.param(
        VALID_BYTES.replace(b'"v":1', b'"v":9007199254740992'),
        r"entry: integer outside the JSON safe range",
        id="int-2^53",
    ),
    pytest.param(
        VALID_BYTES.replace(b'"v":1', b'"v":' + b"9" * 5000),
        r"entry: not JSON: .*digits",
        id="int-5000-digits",
    ),
    pytest.param(
        b"[" * 60_000 + b"]" * 5_000, r"entry: not JSON: nested too deeply", id="deep-nesting"
    ),
    pytest.param(
        VALID_BYTES.replace(b"40-59", b"40\x0959"),
        r"entry: not JSON: Invalid control character",
        id="raw-tab-in-string",
    ),
]


@pytest.mark.parametrize(("data", "match"), NON_CANONICAL)
def test_non_canonical_rejected(data: bytes, match: str) -> None:
    assert data != VALID_BYTES
    with pytest.raises(MalformedError, match=match):
        parse_entry(data)


def test_long_float_literal_is_shortened() -> None:
    data = VALID_BYTES.replace(b'"v":1', b'"v":1.' + b"5" * 100)
    with pytest.raises(MalformedError, match=r"number 1\.5{38}… has a fraction"):
        parse_entry(data)


def test_non_canonical_message_shows_bytes() -> None:
    data = VALID_BYTES.replace(b'"40-59"', b'"\\u0034\\u0030-59"')
    with pytest.raises(MalformedError, match=r"expected b'40-59.*got b'\\\\u0034"):
        parse_entry(data)


# --- size -----------------------------------------------------------------------------


def _override_of_size(size: int) -> bytes:
    """An operator.override entry padded to exactly ``size`` bytes."""

    def build(pad: int) -> bytes:
        body = {
            "action": "note",
            "target": "rules",
            "reason": "padding",
            "details": {"pad": "x" * pad},
        }
        return _bytes(_envelope(type="operator.override", body=body))

    data = build(0)
    data = build(size - len(data))
    assert len(data) == size
    return data


def test_size_limit_exact() -> None:
    data = _override_of_size(MAX_ENTRY_SIZE)
    assert parse_entry(data).to_bytes() == data


def test_size_limit_one_over() -> None:
    data = _override_of_size(MAX_ENTRY_SIZE + 1)
    with pytest.raises(MalformedError, match=r"entry: 65536 bytes, more than the 65535 allowed"):
        parse_entry(data)
    with pytest.raises(MalformedError, match=r"entry 7: 65536 bytes"):
        parse_entry(data, seq=7)


def test_make_entry_refuses_over_size() -> None:
    body = parse_entry(_override_of_size(MAX_ENTRY_SIZE)).body
    assert isinstance(body, b.OperatorOverride)
    big = replace(body, details={"pad": f"{body.details['pad']}x"})
    with pytest.raises(MalformedError, match=r"entry 0: 65536 bytes, more than the 65535"):
        make_entry(0, GENESIS_PREV, T0, "operator.override", big)


# --- the chain ------------------------------------------------------------------------


def test_chain_of_every_type() -> None:
    entries = _chain(40)
    head = check_chain(entries)
    assert head == ChainHead(40, entry_leaf_hash(entries[-1]))
    parsed = [parse_entry(e) for e in entries]
    assert {p.type for p in parsed} == set(b.BODY_TYPES)
    for i in range(1, 40):
        assert parsed[i].prev == parsed[i - 1].leaf_hash()


def test_empty_chain() -> None:
    assert check_chain([]) == ChainHead(0, GENESIS_PREV)


def test_resume_from_head() -> None:
    entries = _chain(10)
    middle = check_chain(entries[:4])
    assert check_chain(entries[4:], middle) == check_chain(entries)


CHAIN_BREAKS: list[Any] = [
    pytest.param(lambda es: es[:3] + es[4:], r"entry 4: seq: expected 3, got 4", id="skipped"),
    pytest.param(lambda es: es[:4] + es[3:], r"entry 3: seq: expected 4, got 3", id="repeated"),
    pytest.param(
        lambda es: [es[0], es[2], es[1], *es[3:]],
        r"entry 2: seq: expected 1, got 2",
        id="reordered",
    ),
    pytest.param(lambda es: es[1:], r"entry 1: seq: expected 0, got 1", id="missing-first"),
]


@pytest.mark.parametrize(("edit", "match"), CHAIN_BREAKS)
def test_chain_breaks(edit: Callable[[list[bytes]], list[bytes]], match: str) -> None:
    with pytest.raises(VerificationError, match=match):
        check_chain(edit(_chain(8)))


def test_wrong_prev() -> None:
    entries = _chain(5)
    # Re-link entry 3 to entry 1 instead of entry 2, with every other field intact.
    e3 = parse_entry(entries[3])
    forged = replace(e3, prev=entry_leaf_hash(entries[1])).to_bytes()
    expected = entry_leaf_hash(entries[2]).hex()
    with pytest.raises(
        VerificationError,
        match=rf"entry 3: prev: chain broken, expected leaf hash {expected} of entry 2, "
        rf"got {entry_leaf_hash(entries[1]).hex()}",
    ):
        check_chain([*entries[:3], forged, entries[4]])


def test_edited_entry_breaks_next_link() -> None:
    entries = _chain(5)
    e2 = parse_entry(entries[2])
    edited = replace(e2, time=e2.time + timedelta(seconds=1)).to_bytes()
    with pytest.raises(VerificationError, match=r"entry 3: prev: chain broken"):
        check_chain([*entries[:2], edited, *entries[3:]])


def test_genesis_prev_must_be_zero() -> None:
    data = _bytes(_envelope(prev="ab" * 32))
    with pytest.raises(
        VerificationError, match=r"entry 0: prev: the first entry links to 0{64}, got (ab){32}"
    ):
        parse_entry(data)


def test_parse_entry_checks_place() -> None:
    entries = _chain(3)
    assert parse_entry(entries[2], seq=2, prev=entry_leaf_hash(entries[1])).seq == 2
    with pytest.raises(VerificationError, match=r"entry 2: seq: expected 1, got 2"):
        parse_entry(entries[2], seq=1)
    with pytest.raises(VerificationError, match=r"entry 2: prev: chain broken"):
        parse_entry(entries[2], prev=GENESIS_PREV)


def test_verifier_state_unchanged_on_error() -> None:
    entries = _chain(4)
    verifier = ChainVerifier()
    verifier.feed(entries[0])
    before = verifier.state
    with pytest.raises(VerificationError, match=r"entry 2: seq: expected 1, got 2"):
        verifier.feed(entries[2])
    with pytest.raises(MalformedError, match=r"entry 1: not JSON"):
        verifier.feed(b"{")
    assert verifier.state == before
    assert verifier.feed(entries[1]).seq == 1
    assert verifier.state == ChainHead(2, entry_leaf_hash(entries[1]))


@pytest.mark.parametrize(
    ("start", "error", "match"),
    [
        pytest.param(
            ChainHead(-1, GENESIS_PREV),
            MalformedError,
            r"chain start: expected size >= 0 and a 32-byte head, got size -1",
            id="negative",
        ),
        pytest.param(
            ChainHead(3, b"\x00" * 31),
            MalformedError,
            r"chain start: .* got size 3 and 31 bytes",
            id="short-head",
        ),
        pytest.param(
            ChainHead(0, b"\x01" * 32),
            VerificationError,
            r"chain start: an empty log's head is 0{64}, got (01){32}",
            id="empty-not-genesis",
        ),
    ],
)
def test_verifier_bad_start(start: ChainHead, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        ChainVerifier(start)


# --- make_entry -----------------------------------------------------------------------


def test_make_entry() -> None:
    body = b.JurorQualified(member=MEMBER)
    entry = make_entry(0, GENESIS_PREV, T0, "juror.qualified", body)
    assert entry.body == body
    assert parse_entry(entry.to_bytes()) == entry


MAKE_CASES: list[Any] = [
    pytest.param(
        dict(type="member.joined"),
        r"entry 0: type 'member\.joined' does not match body JurorQualified",
        id="type-mismatch",
    ),
    pytest.param(dict(type="nope"), r"entry 0: type 'nope' does not match body", id="type-unknown"),
    pytest.param(
        dict(prev=b"\x00" * 31), r"entry 0: prev: expected 32 bytes, got 31", id="prev-short"
    ),
    pytest.param(
        dict(time=datetime(2024, 3, 7)),
        r"entry 0: time: expected UTC in whole seconds, got 2024-03-07T00:00:00$",
        id="naive-time",
    ),
    pytest.param(
        dict(time=datetime(2024, 3, 7, tzinfo=timezone(timedelta(hours=8)))),
        r"entry 0: time: expected UTC in whole seconds, got .*\+08:00",
        id="utc+8",
    ),
    pytest.param(
        dict(time=T0.replace(microsecond=5)),
        r"entry 0: time: expected UTC in whole seconds",
        id="microseconds",
    ),
    pytest.param(dict(seq=-1), r"entry -1: seq: expected an integer in \[0, ", id="negative-seq"),
    pytest.param(
        dict(seq=2**53),
        r"entry 9007199254740992: seq: expected an integer in \[0, ",
        id="huge-seq",
    ),
    pytest.param(
        dict(body=b.JurorQualified(member="X" * 32)),
        r"entry 0: body\.member: expected an id",
        id="invalid-body",
    ),
    pytest.param(
        dict(body=b.JurorRemoved(member=MEMBER, reason="\ud800"), type="juror.removed"),
        r"entry 0: body.reason: control character U\+D800",
        id="surrogate",
    ),
]


@pytest.mark.parametrize(("changes", "match"), MAKE_CASES)
def test_make_entry_refuses(changes: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = dict(
        seq=0,
        prev=GENESIS_PREV,
        time=T0,
        type="juror.qualified",
        body=b.JurorQualified(member=MEMBER),
    )
    args.update(changes)
    with pytest.raises(MalformedError, match=match):
        make_entry(**args)


def test_make_entry_checks_chain() -> None:
    with pytest.raises(VerificationError, match=r"entry 0: prev: the first entry links to 0{64}"):
        make_entry(0, b"\x01" * 32, T0, "juror.qualified", b.JurorQualified(member=MEMBER))


# --- round trips over generated entries -----------------------------------------------

ids = st.binary(min_size=16, max_size=16).map(bytes.hex)
hashes = st.binary(min_size=32, max_size=32)
fen = st.integers(0, 2**53 - 1)
positive_fen = st.integers(1, 2**53 - 1)
counts = st.integers(0, 2**53 - 1)
rounds = st.integers(1, 2**53 - 1)
dates = st.dates(min_value=date(1, 1, 1))
times = st.datetimes(timezones=st.just(UTC)).map(lambda t: t.replace(microsecond=0))
tokens = st.from_regex(r"[a-z][a-z0-9_.-]{0,31}", fullmatch=True)
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_chars = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=_BIDI)


def texts(max_len: int, min_len: int = 1, multiline: bool = True) -> st.SearchStrategy[str]:
    alphabet = st.one_of(_chars, st.just("\n")) if multiline else _chars
    return st.text(alphabet, min_size=min_len, max_size=min(max_len, 60))


shape_keys = st.from_regex(r"[a-z][a-z0-9_.]{0,12}", fullmatch=True)
shape_scalars = st.one_of(st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=20), st.booleans())


def shape_values(depth: int) -> st.SearchStrategy[Any]:
    if depth >= 4:
        return shape_scalars
    return st.one_of(
        shape_scalars,
        st.lists(st.deferred(lambda: shape_values(depth + 1)), max_size=3).map(tuple),
        st.dictionaries(shape_keys, st.deferred(lambda: shape_values(depth + 1)), max_size=3),
    )


shapes = st.dictionaries(shape_keys, shape_values(1), max_size=4)
age_bands = st.sampled_from(b.AgeBand)


@st.composite
def decided(draw: st.DrawFn) -> b.ClaimDecided:
    outcome = draw(st.sampled_from(b.Outcome))
    low = 0 if outcome is b.Outcome.INELIGIBLE else 1
    round_ = draw(st.integers(low, 2**53 - 1))
    approvals = 0 if round_ == 0 else draw(st.integers(0, 255))
    rejections = 0 if round_ == 0 else draw(st.integers(0, 255 - approvals))
    amount = draw(positive_fen) if outcome is b.Outcome.APPROVED else 0
    return b.ClaimDecided(
        claim=draw(ids),
        round=round_,
        approvals=approvals,
        rejections=rejections,
        outcome=outcome,
        amount=amount,
    )


BODY_STRATEGIES: Mapping[str, st.SearchStrategy[b.Body]] = {
    "pool.rules": st.builds(b.PoolRules, effective=times, rules=shapes, reason=texts(2000)),
    "member.joined": st.builds(b.MemberJoined, member=ids, age_band=age_bands),
    "member.left": st.builds(
        b.MemberLeft, member=ids, reason=st.sampled_from(b.LeaveReason), refund=fen
    ),
    "claim.filed": st.builds(
        b.ClaimFiled,
        claim=ids,
        member=ids,
        category=tokens,
        amount=positive_fen,
        diagnosed=dates,
        evidence=st.lists(hashes, min_size=1, max_size=32, unique=True).map(tuple),
        age_band=st.none() | age_bands,
    ),
    "claim.noticed": st.builds(
        b.ClaimNoticed,
        claim=ids,
        text=texts(2000),
        amount=fen,
        age_band=age_bands,
        category=tokens,
        objections_until=times,
    ),
    "claim.objected": st.builds(b.ClaimObjected, claim=ids, member=ids, text=texts(2000)),
    "claim.answered": st.builds(b.ClaimAnswered, claim=ids, objection=counts, text=texts(2000)),
    "claim.appealed": st.builds(b.ClaimAppealed, claim=ids, reason=texts(2000)),
    "juror.qualified": st.builds(b.JurorQualified, member=ids),
    "juror.removed": st.builds(b.JurorRemoved, member=ids, reason=texts(500)),
    "jury.pool": st.builds(b.JuryPool, period=dates, root=hashes, size=counts),
    "panel.drawn": st.builds(
        b.PanelDrawn,
        claim=ids,
        round=rounds,
        appeal=st.booleans(),
        pool_period=dates,
        seed_size=rounds,
        seed=hashes,
        jurors=st.lists(ids, min_size=1, max_size=255, unique=True).map(tuple),
        votes_until=times,
    ),
    "vote.sealed": st.builds(b.VoteSealed, claim=ids, round=rounds, juror=ids, commitment=hashes),
    "vote.revealed": st.builds(
        b.VoteRevealed,
        claim=ids,
        round=rounds,
        juror=ids,
        choice=st.sampled_from(b.Choice),
        reason=texts(500, min_len=0),
        salt=hashes,
    ),
    "claim.decided": decided(),
    "claim.paid": st.builds(b.ClaimPaid, claim=ids, amount=positive_fen, period=dates),
    "period.closed": st.builds(
        b.PeriodClosed,
        period=dates,
        claims_count=counts,
        claims_total=fen,
        claims_root=hashes,
        fee=fen,
        fee_rate_bp=st.integers(0, 10_000),
        refunds=fen,
        surplus_in=fen,
        surplus_out=fen,
        sharing=counts,
        share=fen,
        collected=fen,
        roster_root=hashes,
        roster_size=counts,
    ),
    "operator.override": st.builds(
        b.OperatorOverride,
        action=tokens,
        target=texts(200, multiline=False),
        reason=texts(2000),
        details=shapes,
    ),
    "data.erased": st.one_of(
        st.builds(
            b.DataErased,
            kind=st.just(b.ErasedKind.MEMBER),
            subject=ids,
            documents=st.just(0),
            reason=texts(500, multiline=False),
        ),
        st.builds(
            b.DataErased,
            kind=st.just(b.ErasedKind.EVIDENCE),
            subject=ids,
            documents=st.integers(1, b.MAX_EVIDENCE),
            reason=texts(500, multiline=False),
        ),
    ),
    "verifier.published": st.builds(
        b.VerifierPublished, sha256=hashes, size=st.integers(1, 2**53 - 1), build=tokens
    ),
}


def test_every_type_has_a_strategy() -> None:
    assert set(BODY_STRATEGIES) == set(b.BODY_TYPES)


any_body = st.sampled_from(sorted(BODY_STRATEGIES)).flatmap(lambda t: BODY_STRATEGIES[t])


@st.composite
def entries(draw: st.DrawFn) -> tuple[int, bytes, datetime, b.Body]:
    seq = draw(st.integers(0, 2**53 - 1))
    prev = GENESIS_PREV if seq == 0 else draw(hashes)
    return seq, prev, draw(times), draw(any_body)


HYPOTHESIS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HYPOTHESIS
@given(entries())
def test_round_trip(args: tuple[int, bytes, datetime, b.Body]) -> None:
    seq, prev, time, body = args
    entry = make_entry(seq, prev, time, body.TYPE, body)
    assert entry.body == body
    data = entry.to_bytes()
    assert len(data) <= MAX_ENTRY_SIZE
    assert parse_entry(data) == entry  # parse(encode(x)) == x
    assert parse_entry(data).to_bytes() == data  # encode(parse(b)) == b
    assert data == rfc8785.dumps(entry.to_json())


@HYPOTHESIS
@given(entries(), st.data())
def test_mutations_raise_only_our_errors(
    args: tuple[int, bytes, datetime, b.Body], data: st.DataObject
) -> None:
    """Flip, drop or insert a byte: either a (different) valid entry or one of
    our errors, never a stray ValueError or KeyError."""
    seq, prev, time, body = args
    encoded = bytearray(make_entry(seq, prev, time, body.TYPE, body).to_bytes())
    at = data.draw(st.integers(0, len(encoded) - 1))
    how = data.draw(st.sampled_from(["flip", "drop", "insert"]))
    if how == "flip":
        encoded[at] ^= 1 << data.draw(st.integers(0, 7))
    elif how == "drop":
        del encoded[at]
    else:
        encoded.insert(at, data.draw(st.integers(0, 255)))
    try:
        parsed = parse_entry(bytes(encoded))
    except MutualogError:
        return
    assert parsed.to_bytes() == bytes(encoded)


# --- the fast canonical encoder against rfc8785 -----------------------------------------

_TRICKY_STRINGS = [
    "".join(map(chr, range(0x80))),  # every control character, quote and backslash
    "\x7f\u0080\u00ff\u2028\u2029\ufeff\uffff",
    "é中文𝄞😀",  # BMP and beyond it
    "\\u0000 not an escape",
    "",
]


@pytest.mark.parametrize(
    "obj",
    [
        *_TRICKY_STRINGS,
        {"k": _TRICKY_STRINGS},
        {"b": [True, False, None], "a": {"z": 1, "y": [], "x": {}}},
        {"max": 2**53 - 1, "min": -(2**53) + 1, "zero": 0, "neg": -5},
        {"Z": 1, "_": 2, "a": 3, "A": 4, "0": 5, " ": 6, "~": 7},
        # Outside the fast path, so rfc8785 encodes them: floats, tuples,
        # non-ASCII keys (sorted by UTF-16 unit, not code point), subclasses.
        {"f": 1.0, "g": -0.0, "h": 1e21, "i": 0.1},
        {"t": (1, "x")},
        {"\ufb01": 1, "😀": 2, "é": 3, "e": 4},
        {"e": b.AgeBand.FROM_18_TO_39},
        [True, 1, "1", None],
    ],
)
def test_fast_encoder_matches_rfc8785(obj: Any) -> None:
    assert _encode(obj, "x") == rfc8785.dumps(obj)


def test_fast_encoder_takes_the_fast_path_only_where_it_is_exact() -> None:
    assert _plain({"a": ["x", 1, True, None, {"b": 2**53 - 1}]})
    assert not _plain({"a": 2**53})
    assert not _plain({"a": 1.0})
    assert not _plain({"é": 1})
    assert not _plain({1: "a"})
    assert not _plain(("a",))
    assert not _plain({"a": b.AgeBand.FROM_18_TO_39})


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({"a": 2**53}, "safe range"),
        ({"a": [-(2**53)]}, "safe range"),
        ({"a": "\ud800"}, "cannot be encoded"),
        ({1: "a"}, "cannot be encoded"),
        ({"a": float("nan")}, "cannot be encoded"),
    ],
)
def test_fast_encoder_refuses_what_rfc8785_refuses(obj: Any, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        _encode(obj, "x")


def test_every_code_point_encodes_as_rfc8785() -> None:
    text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert _encode({"s": text}, "x") == rfc8785.dumps({"s": text})


def test_make_entry_caches_the_bytes_it_checked() -> None:
    body = b.MemberJoined(member=MEMBER, age_band=b.AgeBand.FROM_40_TO_59)
    entry = make_entry(3, b"\x01" * 32, T0, "member.joined", body)
    assert entry.to_bytes() == rfc8785.dumps(entry.to_json())
    assert parse_entry(entry.to_bytes()) == entry
