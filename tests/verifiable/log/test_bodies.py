"""Entry bodies: one valid example per type, and a table of malformed ones."""

from __future__ import annotations

import copy
import dataclasses
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from verifiable.errors import MalformedError
from verifiable.log import fields
from verifiable.log.bodies import (
    BODY_TYPES,
    AgeBand,
    ClaimDecided,
    ClaimFiled,
    MemberJoined,
    Outcome,
    PoolRules,
    parse_body,
)
from verifiable.log.fields import describe, format_time, read_list, read_shape, read_text

ID_A = "0123456789abcdef0123456789abcdef"
ID_B = "fedcba9876543210fedcba9876543210"
ID_C = "00000000000000000000000000000001"
H1 = "11" * 32
H2 = "22" * 32
T1 = "2024-03-07T00:00:00Z"

VALID: dict[str, dict[str, Any]] = {
    "pool.rules": {
        "effective": T1,
        "rules": {
            "share.fee_rate_bp": 800,
            "plan.name": "default",
            "waiting.enabled": True,
            "cover": [{"max_age": 39, "cap": 30_000_000}, {"max_age": 59, "cap": 10_000_000}],
        },
        "reason": "initial rulebook",
    },
    "member.joined": {"member": ID_A, "age_band": "18-39"},
    "member.left": {"member": ID_A, "reason": "waiting_period", "refund": 123},
    "claim.filed": {
        "claim": ID_B,
        "member": ID_A,
        "category": "cancer",
        "amount": 30_000_000,
        "diagnosed": "2024-02-29",
        "evidence": [H1, H2],
    },
    "claim.noticed": {
        "claim": ID_B,
        "text": "Member, 18-39, cancer.\nRequested ¥300,000.",
        "amount": 30_000_000,
        "age_band": "18-39",
        "category": "cancer",
        "objections_until": T1,
    },
    "claim.objected": {"claim": ID_B, "member": ID_C, "text": "I know this person is well."},
    "claim.answered": {"claim": ID_B, "objection": 17, "text": "The hospital record says not."},
    "claim.appealed": {"claim": ID_B, "reason": "The panel missed page 3."},
    "juror.qualified": {"member": ID_C},
    "juror.removed": {"member": ID_C, "reason": "left the pool"},
    "jury.pool": {"period": "2024-03-07", "root": H1, "size": 900_000},
    "panel.drawn": {
        "claim": ID_B,
        "round": 1,
        "appeal": False,
        "pool_period": "2024-03-07",
        "seed_size": 1234,
        "seed": H2,
        "jurors": [ID_C, ID_A],
        "votes_until": T1,
    },
    "vote.sealed": {"claim": ID_B, "round": 1, "juror": ID_C, "commitment": H1},
    "vote.revealed": {
        "claim": ID_B,
        "round": 1,
        "juror": ID_C,
        "choice": "approve",
        "reason": "",
        "salt": H2,
    },
    "claim.decided": {
        "claim": ID_B,
        "round": 1,
        "approvals": 20,
        "rejections": 5,
        "outcome": "approved",
        "amount": 30_000_000,
    },
    "claim.paid": {"claim": ID_B, "amount": 30_000_000, "period": "2024-03-07"},
    "period.closed": {
        "period": "2024-03-07",
        "claims_count": 1,
        "claims_total": 30_000_000,
        "claims_root": H1,
        "fee": 2_400_000,
        "fee_rate_bp": 800,
        "refunds": 0,
        "surplus_in": 0,
        "surplus_out": 17,
        "sharing": 1000,
        "share": 32_401,
        "collected": 32_401_000,
        "roster_root": H2,
        "roster_size": 1000,
    },
    "operator.override": {
        "action": "claim.void",
        "target": ID_B,
        "reason": "Filed twice by mistake.",
        "details": {"duplicate_of": ID_A},
    },
    "data.erased": {
        "kind": "evidence",
        "subject": ID_A,
        "documents": 2,
        "reason": "Erased at the claimant's request.",
    },
    "verifier.published": {"sha256": H1, "size": 143_211, "build": "mutualog-0.1.0"},
}


def test_every_type_has_an_example() -> None:
    assert set(VALID) == set(BODY_TYPES)


@pytest.mark.parametrize("type_", sorted(VALID))
def test_valid_body_round_trips(type_: str) -> None:
    body = parse_body(type_, copy.deepcopy(VALID[type_]), "body")
    assert type(body) is BODY_TYPES[type_]
    assert type_ == body.TYPE
    assert body.to_json() == VALID[type_]
    assert parse_body(type_, body.to_json(), "body") == body


@pytest.mark.parametrize("type_", sorted(VALID))
def test_decoded_body_equals_the_constructed_one(type_: str) -> None:
    body = parse_body(type_, copy.deepcopy(VALID[type_]), "body")
    cls = BODY_TYPES[type_]
    built = cls(**{f.name: getattr(body, f.name) for f in dataclasses.fields(cls)})
    assert body == built and hash(body.TYPE) == hash(built.TYPE)
    assert vars(body) == vars(built)


def test_typed_values() -> None:
    filed = parse_body("claim.filed", VALID["claim.filed"], "body")
    assert isinstance(filed, ClaimFiled)
    assert filed.evidence == (bytes.fromhex(H1), bytes.fromhex(H2))
    assert filed.diagnosed == date(2024, 2, 29)
    rules = parse_body("pool.rules", VALID["pool.rules"], "body")
    assert isinstance(rules, PoolRules)
    assert rules.effective == datetime(2024, 3, 7, tzinfo=UTC)
    cover = rules.rules["cover"]
    assert isinstance(cover, tuple)
    assert cover[0] == {"max_age": 39, "cap": 30_000_000}
    joined = parse_body("member.joined", VALID["member.joined"], "body")
    assert joined == MemberJoined(member=ID_A, age_band=AgeBand.FROM_18_TO_39)


def test_shape_values_are_frozen() -> None:
    rules = parse_body("pool.rules", copy.deepcopy(VALID["pool.rules"]), "body")
    assert isinstance(rules, PoolRules)
    with pytest.raises(TypeError):
        rules.rules["x"] = 1  # type: ignore[index]
    assert isinstance(rules.rules["cover"], tuple)


def _wrong_type(value: object) -> object:
    # A JSON value of a different kind from the valid one.
    if isinstance(value, str):
        return 7
    if isinstance(value, bool):
        return 1
    return "7"


def _generated_cases() -> list[Any]:
    cases = []
    for type_, valid in sorted(VALID.items()):
        for name in valid:
            missing = {k: v for k, v in valid.items() if k != name}
            cases.append(
                pytest.param(
                    type_,
                    missing,
                    rf"body: missing field\(s\) {name}$",
                    id=f"{type_}-{name}-missing",
                )
            )
            wrong = {**valid, name: _wrong_type(valid[name])}
            cases.append(
                pytest.param(
                    type_, wrong, rf"body\.{name}: expected ", id=f"{type_}-{name}-wrong-type"
                )
            )
            null = {**valid, name: None}
            cases.append(
                pytest.param(
                    type_, null, rf"body\.{name}: expected .*got null", id=f"{type_}-{name}-null"
                )
            )
        cases.append(
            pytest.param(
                type_,
                {**valid, "extra": 1},
                r'body: unknown field\(s\) "extra"$',
                id=f"{type_}-unknown",
            )
        )
        cases.append(pytest.param(type_, [valid], r"body: expected an object", id=f"{type_}-list"))
    return cases


def _with(type_: str, **changes: object) -> dict[str, Any]:
    return {**VALID[type_], **changes}


BOUNDS = [
    # ids, hashes
    ("member.joined", _with("member.joined", member=ID_A.upper()), r"body\.member: expected an id"),
    ("member.joined", _with("member.joined", member=ID_A[:-1]), r"body\.member: expected an id"),
    ("member.joined", _with("member.joined", member=ID_A + "0"), r"body\.member: expected an id"),
    ("jury.pool", _with("jury.pool", root=H1[:-1]), r"body\.root: expected 64 lowercase hex"),
    ("jury.pool", _with("jury.pool", root=H1.replace("1", "A")), r"body\.root: expected 64"),
    ("jury.pool", _with("jury.pool", root="g" * 64), r"body\.root: expected 64 lowercase hex"),
    # money and counts
    (
        "member.left",
        _with("member.left", refund=-1),
        r"body\.refund: expected an amount in fen in \[0, ",
    ),
    ("member.left", _with("member.left", refund=2**53), r"body\.refund: .*got 9007199254740992"),
    (
        "member.left",
        _with("member.left", refund=True),
        r"body\.refund: expected an amount.*got true",
    ),
    (
        "claim.filed",
        _with("claim.filed", amount=0),
        r"body\.amount: expected an amount in fen in \[1, ",
    ),
    (
        "claim.paid",
        _with("claim.paid", amount=0),
        r"body\.amount: expected an amount in fen in \[1, ",
    ),
    (
        "claim.answered",
        _with("claim.answered", objection=-1),
        r"body\.objection: expected an integer in \[0",
    ),
    ("jury.pool", _with("jury.pool", size=False), r"body\.size: expected an integer, got false"),
    ("panel.drawn", _with("panel.drawn", round=0), r"body\.round: expected an integer in \[1, "),
    (
        "panel.drawn",
        _with("panel.drawn", seed_size=0),
        r"body\.seed_size: expected an integer in \[1",
    ),
    ("panel.drawn", _with("panel.drawn", appeal=0), r"body\.appeal: expected true or false, got 0"),
    ("vote.sealed", _with("vote.sealed", round=0), r"body\.round: expected an integer in \[1, "),
    (
        "period.closed",
        _with("period.closed", fee_rate_bp=10_001),
        r"body\.fee_rate_bp: .*\[0, 10000\]",
    ),
    (
        "claim.decided",
        _with("claim.decided", approvals=256),
        r"body\.approvals: .*\[0, 255\], got 256",
    ),
    # dates and times
    (
        "claim.filed",
        _with("claim.filed", diagnosed="2023-02-29"),
        r"body\.diagnosed: '2023-02-29' is not a calendar date",
    ),
    (
        "claim.filed",
        _with("claim.filed", diagnosed="2024-2-29"),
        r"body\.diagnosed: expected a date YYYY-MM-DD",
    ),
    (
        "claim.filed",
        _with("claim.filed", diagnosed="2024-02-29T00:00:00Z"),
        r"body\.diagnosed: expected a date",
    ),
    (
        "claim.filed",
        _with("claim.filed", diagnosed="\uff12\uff10\uff12\uff14-02-29"),
        r"body\.diagnosed: expected a date",
    ),
    (
        "claim.filed",
        _with("claim.filed", diagnosed="0000-01-01"),
        r"body\.diagnosed: .* not a calendar date",
    ),
    (
        "claim.paid",
        _with("claim.paid", period="20240307"),
        r"body\.period: expected a date YYYY-MM-DD",
    ),
    (
        "claim.noticed",
        _with("claim.noticed", objections_until="2024-03-07T00:00:00+00:00"),
        r"body\.objections_until: expected a time YYYY-MM-DDTHH:MM:SSZ",
    ),
    (
        "claim.noticed",
        _with("claim.noticed", objections_until="2024-03-07T00:00:00.5Z"),
        r"body\.objections_until: expected a time",
    ),
    (
        "claim.noticed",
        _with("claim.noticed", objections_until="2024-03-07t00:00:00z"),
        r"body\.objections_until: expected a time",
    ),
    (
        "claim.noticed",
        _with("claim.noticed", objections_until="2024-03-07 00:00:00Z"),
        r"body\.objections_until: expected a time",
    ),
    (
        "claim.noticed",
        _with("claim.noticed", objections_until="2016-12-31T23:59:60Z"),
        r"body\.objections_until: '2016-12-31T23:59:60Z' is not a calendar time",
    ),
    (
        "claim.noticed",
        _with("claim.noticed", objections_until="2024-03-07T24:00:00Z"),
        r"body\.objections_until: .* not a calendar time",
    ),
    (
        "panel.drawn",
        _with("panel.drawn", votes_until="2024-13-01T00:00:00Z"),
        r"body\.votes_until: .* not a calendar time",
    ),
    # texts and tokens
    (
        "claim.noticed",
        _with("claim.noticed", text=""),
        r"body\.text: expected a text of 1 to 2000 characters, got 0",
    ),
    (
        "claim.noticed",
        _with("claim.noticed", text="x" * 2001),
        r"body\.text: expected a text of 1 to 2000 characters, got 2001",
    ),
    (
        "claim.objected",
        _with("claim.objected", text="a\tb"),
        r"body\.text: control character U\+0009 at position 1",
    ),
    (
        "claim.objected",
        _with("claim.objected", text="a\r\nb"),
        r"body\.text: control character U\+000D",
    ),
    (
        "claim.objected",
        _with("claim.objected", text="ok\x85"),
        r"body\.text: control character U\+0085 at position 2",
    ),
    (
        "claim.objected",
        _with("claim.objected", text="abc\u202edcba"),
        r"body\.text: control character U\+202E",
    ),
    (
        "claim.objected",
        _with("claim.objected", text="\ud800"),
        r"body\.text: control character U\+D800",
    ),
    (
        "operator.override",
        _with("operator.override", target="a\nb"),
        r"body\.target: control character U\+000A",
    ),
    (
        "operator.override",
        _with("operator.override", target=""),
        r"body\.target: expected a text of 1 to 200",
    ),
    (
        "operator.override",
        _with("operator.override", reason=""),
        r"body\.reason: expected a text of 1 to 2000",
    ),
    (
        "operator.override",
        _with("operator.override", action="Claim.Void"),
        r"body\.action: expected a lowercase token",
    ),
    (
        "vote.revealed",
        _with("vote.revealed", reason="x" * 501),
        r"body\.reason: expected a text of 0 to 500 characters, got 501",
    ),
    (
        "juror.removed",
        _with("juror.removed", reason=""),
        r"body\.reason: expected a text of 1 to 500",
    ),
    (
        "claim.filed",
        _with("claim.filed", category="Cancer"),
        r"body\.category: expected a lowercase token",
    ),
    (
        "claim.filed",
        _with("claim.filed", category="c" * 33),
        r"body\.category: expected a lowercase token",
    ),
    (
        "claim.filed",
        _with("claim.filed", category="1st"),
        r"body\.category: expected a lowercase token",
    ),
    # enums
    (
        "member.joined",
        _with("member.joined", age_band="60-69"),
        r"body\.age_band: expected one of 0-17, 18-39, 40-59, got string \"60-69\"",
    ),
    (
        "member.left",
        _with("member.left", reason="Voluntary"),
        r"body\.reason: expected one of voluntary, waiting_period, age_limit, removed",
    ),
    (
        "vote.revealed",
        _with("vote.revealed", choice="abstain"),
        r"body\.choice: expected one of approve, reject",
    ),
    (
        "claim.decided",
        _with("claim.decided", outcome="pending"),
        r"body\.outcome: expected one of approved, rejected, no_quorum, ineligible",
    ),
    # lists
    (
        "claim.filed",
        _with("claim.filed", evidence=[]),
        r"body\.evidence: expected a list of 1 to 32 items, got 0",
    ),
    (
        "claim.filed",
        _with("claim.filed", evidence=[f"{i:064x}" for i in range(33)]),
        r"body\.evidence: expected a list of 1 to 32 items, got 33",
    ),
    (
        "claim.filed",
        _with("claim.filed", evidence=[H1, H2, H1]),
        rf"body\.evidence\[2\]: duplicate item {H1} \(also at \[0\]\)",
    ),
    (
        "claim.filed",
        _with("claim.filed", evidence=[H1, H2, "x"]),
        r"body\.evidence\[2\]: expected 64 lowercase hex",
    ),
    (
        "panel.drawn",
        _with("panel.drawn", jurors=[]),
        r"body\.jurors: expected a list of 1 to 255 items, got 0",
    ),
    (
        "panel.drawn",
        _with("panel.drawn", jurors=[f"{i:032x}" for i in range(256)]),
        r"body\.jurors: expected a list of 1 to 255 items, got 256",
    ),
    (
        "panel.drawn",
        _with("panel.drawn", jurors=[ID_A, ID_C, ID_A]),
        rf"body\.jurors\[2\]: duplicate item {ID_A} \(also at \[0\]\)",
    ),
    ("panel.drawn", _with("panel.drawn", jurors=[ID_A, 5]), r"body\.jurors\[1\]: expected an id"),
    # free-form objects
    ("pool.rules", _with("pool.rules", rules={"Fee": 1}), r"body\.rules: key 'Fee' does not match"),
    ("pool.rules", _with("pool.rules", rules={"": 1}), r"body\.rules: key '' does not match"),
    (
        "pool.rules",
        _with("pool.rules", rules={"a": {"b-c": 1}}),
        r"body\.rules\[\"a\"\]: key 'b-c' does not match",
    ),
    (
        "pool.rules",
        _with("pool.rules", rules={"fee": None}),
        r"body\.rules\[\"fee\"\]: expected an integer, string, boolean, list or object, got null",
    ),
    (
        "pool.rules",
        _with("pool.rules", rules={"fee": 0.08}),
        r"body\.rules\[\"fee\"\]: expected an integer, string, .* got a float",
    ),
    (
        "pool.rules",
        _with("pool.rules", rules={"fee": [1, None]}),
        r"body\.rules\[\"fee\"\]\[1\]: expected an integer, string",
    ),
    (
        "pool.rules",
        _with("pool.rules", rules={"fee": -(2**53)}),
        r"body\.rules\[\"fee\"\]: expected an integer in \[-9007199254740991, 9007199254740991\]",
    ),
    (
        "pool.rules",
        _with("pool.rules", rules={"a": [[[[1]]]]}),
        r"body\.rules\[\"a\"\]\[0\]\[0\]\[0\]: nested deeper than 4 levels",
    ),
    (
        "pool.rules",
        _with("pool.rules", rules={"a": {"b": {"c": {"d": {}}}}}),
        r"body\.rules\[\"a\"\]\[\"b\"\]\[\"c\"\]\[\"d\"\]: nested deeper than 4",
    ),
    (
        "pool.rules",
        _with("pool.rules", rules=[]),
        r"body\.rules: expected an object, got a list of 0",
    ),
    (
        "operator.override",
        _with("operator.override", details="none"),
        r"body\.details: expected an object, got string",
    ),
    # constraints across fields
    (
        "claim.decided",
        _with("claim.decided", amount=0),
        r"body\.amount: an approved claim needs an amount > 0, got 0",
    ),
    (
        "claim.decided",
        _with("claim.decided", outcome="rejected"),
        r"body\.amount: expected 0 for outcome rejected, got 30000000",
    ),
    (
        "claim.decided",
        _with("claim.decided", outcome="no_quorum", amount=5),
        r"body\.amount: expected 0 for outcome no_quorum, got 5",
    ),
    (
        "claim.decided",
        _with("claim.decided", round=0),
        r"body\.round: round 0 \(no panel\) is only for outcome ineligible, got outcome approved",
    ),
    (
        "claim.decided",
        _with("claim.decided", round=0, outcome="ineligible", amount=0),
        r"body: round 0 has no panel, got 25 vote\(s\)",
    ),
    (
        "claim.decided",
        _with("claim.decided", approvals=200, rejections=56),
        r"body: approvals \+ rejections is 256, more than a panel of 255",
    ),
]


@pytest.mark.parametrize(("type_", "obj", "match"), _generated_cases())
def test_malformed_generated(type_: str, obj: object, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        parse_body(type_, obj, "body")


@pytest.mark.parametrize(
    ("type_", "obj", "match"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(BOUNDS)],
)
def test_malformed_bounds(type_: str, obj: object, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        parse_body(type_, obj, "body")


@pytest.mark.parametrize(
    ("type_", "obj"),
    [
        pytest.param("vote.revealed", _with("vote.revealed", reason=""), id="empty-vote-reason"),
        pytest.param("claim.noticed", _with("claim.noticed", text="x" * 2000), id="notice-2000"),
        pytest.param("claim.noticed", _with("claim.noticed", amount=0), id="notice-amount-0"),
        pytest.param(
            "claim.decided",
            _with(
                "claim.decided", round=0, approvals=0, rejections=0, outcome="ineligible", amount=0
            ),
            id="ineligible-no-panel",
        ),
        pytest.param(
            "claim.decided",
            _with("claim.decided", outcome="ineligible", amount=0),
            id="ineligible-by-panel",
        ),
        pytest.param("member.left", _with("member.left", refund=2**53 - 1), id="max-money"),
        pytest.param(
            "period.closed",
            _with("period.closed", surplus_in=-(2**53 - 1), surplus_out=-5),
            id="deficit-carried",
        ),
        pytest.param(
            "claim.filed",
            _with("claim.filed", evidence=[f"{i:064x}" for i in range(32)]),
            id="32-evidence",
        ),
        pytest.param(
            "panel.drawn",
            _with("panel.drawn", jurors=[f"{i:032x}" for i in range(255)]),
            id="255-jurors",
        ),
        pytest.param(
            "claim.objected",
            _with("claim.objected", text="第一行\n第二行 \u200d👩‍⚕️"),
            id="unicode-multiline",
        ),
        pytest.param("pool.rules", _with("pool.rules", rules={}), id="empty-rules"),
        pytest.param("pool.rules", _with("pool.rules", rules={"a": [[{"b": -5}]]}), id="depth-4"),
        pytest.param(
            "claim.noticed",
            _with("claim.noticed", objections_until="2024-02-29T23:59:59Z"),
            id="leap-day",
        ),
    ],
)
def test_valid_edges(type_: str, obj: dict[str, Any]) -> None:
    body = parse_body(type_, obj, "body")
    assert body.to_json() == obj


def test_unknown_type() -> None:
    with pytest.raises(
        MalformedError, match=r"entry 3: body: unknown entry type 'claim\.withdrawn'"
    ):
        parse_body("claim.withdrawn", {}, "entry 3: body")


def test_where_prefixes_paths() -> None:
    obj = _with("claim.filed", evidence=[H1, "zz"])
    with pytest.raises(MalformedError, match=re.escape("entry 9: body.evidence[1]: expected 64")):
        parse_body("claim.filed", obj, "entry 9: body")


def test_decided_helpers() -> None:
    body = parse_body("claim.decided", VALID["claim.decided"], "body")
    assert isinstance(body, ClaimDecided)
    assert body.outcome is Outcome.APPROVED


# --- the field readers used directly -------------------------------------------------


def test_describe() -> None:
    assert describe(None) == "null"
    assert describe(True) == "true"
    assert describe(3) == "3"
    assert describe("x" * 50) == 'string "' + "x" * 40 + '…"'
    assert describe((1, 2)) == "a list of 2"
    assert describe({}) == "an object"
    assert describe(1.5) == "a float"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(datetime(2024, 1, 1, 12), id="naive"),
        pytest.param(datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=8))), id="utc+8"),
        pytest.param(datetime(2024, 1, 1, 12, 0, 0, 1, tzinfo=UTC), id="microseconds"),
    ],
)
def test_format_time_refuses_non_canonical(value: datetime) -> None:
    with pytest.raises(MalformedError, match=r"must be UTC in whole seconds"):
        format_time(value)


def test_format_time_pads_years() -> None:
    assert format_time(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0999-01-02T03:04:05Z"


def test_read_text_single_line() -> None:
    with pytest.raises(MalformedError, match=r"t: control character U\+000A at position 0"):
        read_text("\n", "t", max_len=5, multiline=False)
    assert read_text("a\nb", "t", max_len=5) == "a\nb"


def test_read_list_and_shape() -> None:
    with pytest.raises(MalformedError, match=r"xs: expected a list, got an object"):
        read_list({}, "xs", lambda v, w: v, max_len=3)
    with pytest.raises(MalformedError, match=r"r: expected an object, got 5"):
        read_shape(5, "r")


def test_describe_escapes_lone_surrogates() -> None:
    assert describe("a\ud800") == 'string "a\\ud800"'


def test_text_refusal_is_unicode_cc_cs_and_bidi_controls() -> None:
    # read_text finds refused characters with one regex; it must refuse
    # exactly categories Cc and Cs and the bidirectional controls.
    bidi = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    refused = [
        chr(cp)
        for cp in range(0x110000)
        if unicodedata.category(chr(cp)) in ("Cc", "Cs") or chr(cp) in bidi
    ]
    text = "".join(c for c in refused if c != "\n")
    assert len(refused) == 65 + 2048 + 9
    for multiline, pattern in ((True, fields._TEXT_REFUSED), (False, fields._LINE_REFUSED)):
        found = pattern.findall("".join(refused))
        assert found == [c for c in refused if multiline is False or c != "\n"]
    refused_set = set(refused)
    everything_else = "".join(c for c in map(chr, range(0x110000)) if c not in refused_set)
    assert fields._LINE_REFUSED.search(everything_else) is None
    with pytest.raises(MalformedError, match=r"t: control character U\+0000 at position 1"):
        read_text("a" + text, "t", max_len=5000)


def test_signed_fen() -> None:
    assert fields.read_signed_fen(-(2**53 - 1), "s") == -(2**53 - 1)
    with pytest.raises(
        MalformedError, match=r"s: expected an amount in fen in \[-9007199254740991, "
    ):
        fields.read_signed_fen(-(2**53), "s")
    with pytest.raises(MalformedError, match=r"s: expected an amount in integer fen, got true"):
        fields.read_signed_fen(True, "s")
