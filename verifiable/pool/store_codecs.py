"""The bytes of the state's records (:mod:`verifiable.pool.store`).

Each kind of record has an explicit codec to and from compact JSON, with
times and dates written as the log writes them, hashes in hex, enums as
their values and log bodies in their canonical JSON form.  A store that
keeps bytes (the server's database) uses these; the in-memory store keeps
the objects and never calls them.  Nothing here is pickled: a record reads
back the same on any version of Python, and a reader can see what it holds.

A claim's rules are written whole (the rules of its filing); decoding keeps
the last few rulebooks read, so a pool's handful of rulebooks is parsed once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from verifiable.errors import MalformedError
from verifiable.log.bodies import (
    AgeBand,
    Choice,
    ErasedKind,
    Outcome,
    PeriodClosed,
    VoteSealed,
    parse_body,
)
from verifiable.log.fields import format_date, format_time, read_date, read_time
from verifiable.pool.claim_machine import Course, Panel, Stage
from verifiable.pool.rules import Rules
from verifiable.pool.store import Codec

if TYPE_CHECKING:
    from verifiable.pool.claims import Claim
    from verifiable.pool.members import Member

__all__ = [
    "FLAG",
    "TEXT",
    "claim_codec",
    "dumps",
    "loads",
    "member_codec",
    "rules_from_json",
]

T = TypeVar("T")


def dumps(obj: object) -> bytes:
    """Compact JSON, keys sorted, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes, what: str) -> Any:
    """The JSON value of a stored record of ``what``."""
    try:
        return json.loads(data)
    except ValueError as e:
        raise MalformedError(f"state: a stored {what} is not JSON: {e}") from e


FLAG: Codec[bool] = Codec(lambda _: b"", lambda _: True)
"""A key that is present: no value."""

TEXT: Codec[str] = Codec(str.encode, bytes.decode)


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


def _read_time(value: object) -> datetime | None:
    return None if value is None else read_time(value, "state")


def _date(value: date | None) -> str | None:
    return None if value is None else format_date(value)


def _read_date(value: object) -> date | None:
    return None if value is None else read_date(value, "state")


def member_codec(
    make: type[Member],
) -> tuple[Callable[[Member], bytes], Callable[[bytes], Member]]:
    """The codec of :class:`verifiable.pool.members.Member` (passed in, to
    keep the import one way).

    A store of a million members encodes and decodes a member per join and
    per save, so each has a fast path for the one form a member's record
    takes (hex id, a known band, a time in whole UTC seconds, a count and two
    booleans), written out by hand: the same bytes as :func:`dumps` and
    :func:`format_time`, the same member as :func:`loads` and
    :func:`~verifiable.log.fields.read_time`.  Anything else takes the
    general path, which also raises for what has no encoding."""
    bands = {band: dumps(band.value).decode() for band in AgeBand}
    by_value = {band.value.encode(): band for band in AgeBand}
    from_iso = datetime.fromisoformat

    def encode(m: Member) -> bytes:
        i, band, t, seq = m.id, bands.get(m.band), m.joined.isoformat(), m.joined_seq
        if (
            band is not None
            and len(t) == 25
            and t.endswith("+00:00")
            and i.isascii()
            and i.isalnum()
            and type(seq) is int
            and type(m.juror) is bool
            and type(m.ending) is bool
        ):
            return (
                f'["{i}",{band},"{t[:19]}Z",{seq},"{m.leaf.hex()}",'
                f"{_JSON_BOOL[m.juror]},{_JSON_BOOL[m.ending]}]"
            ).encode()
        return _encode_member(m)

    def decode(data: bytes) -> Member:
        match = _MEMBER.fullmatch(data)
        if match is not None:
            i, band, joined, seq, leaf, juror, ending = match.groups()
            known = by_value.get(band)
            if known is not None:
                try:
                    # The pattern fixed the time's form; fromisoformat (C) is
                    # what read_time returns, and refuses impossible dates.
                    return make(
                        i.decode(),
                        known,
                        from_iso(joined.decode()),
                        int(seq),
                        bytes.fromhex(leaf.decode()),
                        juror == b"true",
                        ending == b"true",
                    )
                except ValueError:
                    pass  # the general path says what is wrong
        return _decode_member(make, data)

    return encode, decode


def _encode_member(m: Member) -> bytes:
    return dumps(
        [m.id, m.band.value, format_time(m.joined), m.joined_seq, m.leaf.hex(), m.juror, m.ending]
    )


def _decode_member(make: type[Member], data: bytes) -> Member:
    o = loads(data, "member")
    try:
        i, band, joined, seq, leaf, juror, ending = o
        band, leaf = AgeBand(band), bytes.fromhex(leaf)
        return make(i, band, read_time(joined, "state"), seq, leaf, juror, ending)
    except (ValueError, TypeError) as e:
        raise MalformedError(f"state: a stored member is malformed: {e}") from e


_JSON_BOOL = {True: "true", False: "false"}

_MEMBER = re.compile(
    rb'\["([0-9a-zA-Z]*)","([^"\\]*)",'
    rb'"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)",'
    rb'(0|-?[1-9][0-9]{0,17}),"([0-9a-f]*)",(true|false),(true|false)\]'
)
"""A member's record in the form its fast encoding writes."""


_RULES_KEPT = 16
_rules_cache: dict[str, Rules] = {}


def rules_from_json(text: str) -> Rules:
    """The rules written as ``text`` (:meth:`Rules.to_json`), parsed once."""
    rules = _rules_cache.get(text)
    if rules is None:
        rules = Rules.from_json(json.loads(text), "state.rules")
        if len(_rules_cache) >= _RULES_KEPT:
            _rules_cache.pop(next(iter(_rules_cache)))
        _rules_cache[text] = rules
    return rules


def _panel_json(p: Panel | None) -> object:
    if p is None:
        return None
    return {
        "round": p.round,
        "appeal": p.appeal,
        "jurors": list(p.jurors),
        "votes_until": format_time(p.votes_until),
        "sealed": {j: v.to_json() for j, v in p.sealed.items()},
        "revealed": {j: c.value for j, c in p.revealed.items()},
        "approvals": p.approvals,
        "rejections": p.rejections,
    }


def _panel(obj: Any) -> Panel | None:
    if obj is None:
        return None
    sealed: dict[str, VoteSealed] = {}
    for juror, vote in obj["sealed"].items():
        body = parse_body(VoteSealed.TYPE, vote, "state.sealed")
        assert isinstance(body, VoteSealed)
        sealed[juror] = body
    jurors = tuple(obj["jurors"])
    return Panel(
        obj["round"],
        obj["appeal"],
        jurors,
        read_time(obj["votes_until"], "state"),
        frozenset(jurors),
        sealed,
        {j: Choice(c) for j, c in obj["revealed"].items()},
        obj["approvals"],
        obj["rejections"],
    )


def claim_codec(
    make: type[Claim],
) -> tuple[Callable[[Claim], bytes], Callable[[bytes], Claim]]:
    """The codec of :class:`verifiable.pool.claims.Claim`."""
    return _encode_claim, lambda data: _decode_claim(make, data)


def _encode_claim(c: Claim) -> bytes:
    course = c.course
    return dumps(
        {
            "id": c.id,
            "member": c.member,
            "band": c.band.value,
            "category": c.category,
            "requested": c.requested,
            "diagnosed": format_date(c.diagnosed),
            "filed_seq": c.filed_seq,
            "filed": format_time(c.filed),
            "rules": json.dumps(c.rules.to_json(), sort_keys=True),
            "covered_from": format_date(c.covered_from),
            "course": [
                course.stage.value,
                course.round,
                course.appeal,
                course.instance_rounds,
                course.appealed,
            ],
            "notice_amount": c.notice_amount,
            "objections_until": _time(c.objections_until),
            "objections": [[s, m] for s, m in c.objections.items()],
            "answered": sorted(c.answered),
            "seed_size": c.seed_size,
            "seed": None if c.seed is None else c.seed.hex(),
            "past_jurors": sorted(c.past_jurors),
            "panel": _panel_json(c.panel),
            "decided": _time(c.decided),
            "outcome": None if c.outcome is None else c.outcome.value,
            "amount": c.amount,
            "paid_period": _date(c.paid_period),
            "evidence": c.evidence,
            "commitments": [h.hex() for h in c.commitments],
            "joined": _time(c.joined),
        }
    )


def _decode_claim(make: type[Claim], data: bytes) -> Claim:
    o = loads(data, "claim")
    stage, rnd, appeal, instance_rounds, appealed = o["course"]
    diagnosed = _read_date(o["diagnosed"])
    covered_from = _read_date(o["covered_from"])
    filed = _read_time(o["filed"])
    assert diagnosed is not None and covered_from is not None and filed is not None
    return make(
        id=o["id"],
        member=o["member"],
        band=AgeBand(o["band"]),
        category=o["category"],
        requested=o["requested"],
        diagnosed=diagnosed,
        filed_seq=o["filed_seq"],
        filed=filed,
        rules=rules_from_json(o["rules"]),
        covered_from=covered_from,
        course=Course(Stage(stage), rnd, appeal, instance_rounds, appealed),
        notice_amount=o["notice_amount"],
        objections_until=_read_time(o["objections_until"]),
        objections={s: m for s, m in o["objections"]},
        answered=set(o["answered"]),
        seed_size=o["seed_size"],
        seed=None if o["seed"] is None else bytes.fromhex(o["seed"]),
        past_jurors=set(o["past_jurors"]),
        panel=_panel(o["panel"]),
        decided=_read_time(o["decided"]),
        outcome=None if o["outcome"] is None else Outcome(o["outcome"]),
        amount=o["amount"],
        paid_period=_read_date(o["paid_period"]),
        evidence=o["evidence"],
        commitments=tuple(bytes.fromhex(h) for h in o["commitments"]),
        joined=_read_time(o["joined"]),
    )


def closed_codec() -> Codec[tuple[PeriodClosed, datetime]]:
    """A closed period: its ``period.closed`` body and its moment."""

    def encode(value: tuple[PeriodClosed, datetime]) -> bytes:
        body, at = value
        return dumps([body.to_json(), format_time(at)])

    def decode(data: bytes) -> tuple[PeriodClosed, datetime]:
        obj, at = loads(data, "closed period")
        body = parse_body(PeriodClosed.TYPE, obj, "state.closed")
        assert isinstance(body, PeriodClosed)
        return body, read_time(at, "state")

    return Codec(encode, decode)


def erased_kind(value: str) -> ErasedKind:
    """An :class:`ErasedKind` from its value."""
    return ErasedKind(value)
