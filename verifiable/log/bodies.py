"""The bodies of log entries, one frozen dataclass per entry type (format v1).

Each body is the ``body`` member of an entry (see :mod:`verifiable.log.entry`), a
JSON object in RFC 8785 canonical form whose fields are all required and whose
unknown fields are refused.  A body class lists its fields once, each with the
:class:`~verifiable.log.fields.Codec` that reads and writes it, so ``from_json`` and
``to_json`` cannot drift apart.  This module checks shape, types and bounds
only, plus the few constraints that tie fields of one body together; whether
an entry is allowed *here* in the log (the claimant is not on the panel, the
paid amount matches the decision) is the rulebook's job at replay.

A few fields are optional: the ``witnessed`` checkpoint of a ``panel.drawn``
(:class:`SeedCheckpoint`), which the rules call for exactly when they name
witnesses for the draw (``draw.witnesses_required`` above 0); the
``age_band`` of a ``claim.filed``, present exactly when the claimant's band
on the date of diagnosis is not the band they joined in; and the ``facts``,
``summary`` and ``redacted`` of a ``claim.noticed``.  Entries written
before any of them have no such field and read as they always did.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, Self

from verifiable.errors import MalformedError
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.cosignature import Cosignature
from verifiable.log.fields import (
    BOOL,
    CLAIM_ID,
    COUNT,
    DATE,
    FEN,
    HASH,
    JSON_SHAPE,
    MEMBER_ID,
    POSITIVE_COUNT,
    POSITIVE_FEN,
    SIGNED_FEN,
    TIME,
    TOKEN,
    Codec,
    JSONValue,
    ShapeValue,
    enum_codec,
    int_codec,
    list_codec,
    read_list,
    read_object,
    text_codec,
)
from verifiable.log.notice_facts import FACTS, NoticeFacts

__all__ = [
    "BODY_TYPES",
    "MAX_DRAW_WITNESSES",
    "MAX_EVIDENCE",
    "MAX_PANEL",
    "AgeBand",
    "Body",
    "Choice",
    "ClaimAnswered",
    "ClaimAppealed",
    "ClaimDecided",
    "ClaimFiled",
    "ClaimNoticed",
    "ClaimObjected",
    "ClaimPaid",
    "DataErased",
    "ErasedKind",
    "JurorQualified",
    "JurorRemoved",
    "JuryPool",
    "LeaveReason",
    "MemberJoined",
    "MemberLeft",
    "OperatorOverride",
    "Outcome",
    "PanelDrawn",
    "PeriodClosed",
    "PoolRules",
    "SeedCheckpoint",
    "VerifierPublished",
    "VoteRevealed",
    "VoteSealed",
    "parse_body",
]

MAX_EVIDENCE = 32
"""Evidence commitments per claim."""

MAX_PANEL = 255
"""Jurors per panel; an appeal panel of 2n+1 for the default n = 31 is 63."""

MAX_DRAW_WITNESSES = 16
"""Witnesses a rulebook may name for the draw, and cosignatures a
``panel.drawn`` may carry."""

_CODEC = "codec"
_OPTIONAL = "optional"


def _m(codec: Codec[Any], *, optional: bool = False) -> Mapping[str, Any]:
    return {_CODEC: codec, _OPTIONAL: optional}


class AgeBand(StrEnum):
    """The public age band of a member; the exact age never enters the log."""

    UNDER_18 = "0-17"
    FROM_18_TO_39 = "18-39"
    FROM_40_TO_59 = "40-59"


class LeaveReason(StrEnum):
    """Why a membership ended."""

    VOLUNTARY = "voluntary"
    WAITING_PERIOD = "waiting_period"
    AGE_LIMIT = "age_limit"
    REMOVED = "removed"


class Choice(StrEnum):
    """A juror's vote."""

    APPROVE = "approve"
    REJECT = "reject"


class ErasedKind(StrEnum):
    """What private data an erasure deleted."""

    MEMBER = "member"  # a member's name, ID number and phone
    EVIDENCE = "evidence"  # a claim's evidence documents and their salts


class Outcome(StrEnum):
    """How a claim was decided."""

    APPROVED = "approved"
    REJECTED = "rejected"
    NO_QUORUM = "no_quorum"
    INELIGIBLE = "ineligible"


AGE_BAND = enum_codec(AgeBand)
NOTICE_TEXT = text_codec(2000)
VOTE_REASON = text_codec(500, min_len=0)
ROUND = POSITIVE_COUNT


def _required(type_name: str) -> tuple[Any, ...]:
    return tuple(f for f in fields(BODY_TYPES[type_name]) if not f.metadata[_OPTIONAL])


@functools.cache
def _names(type_name: str) -> frozenset[str]:
    """The names of the required fields of the body of type ``type_name``."""
    return frozenset(f.name for f in _required(type_name))


@functools.cache
def _optional(type_name: str) -> tuple[tuple[str, Callable[[object, str], Any]], ...]:
    """The optional fields of the body of type ``type_name``: name, decoder."""
    return tuple(
        (f.name, f.metadata[_CODEC].decode)
        for f in fields(BODY_TYPES[type_name])
        if f.metadata[_OPTIONAL]
    )


@functools.lru_cache(maxsize=256)
def _decoders(
    type_name: str, where: str
) -> tuple[tuple[str, Callable[[object, str], Any], str], ...]:
    """Each field of the body of type ``type_name``: its name, its decoder and
    its path under ``where``.  Replay reads every entry with the same
    ``where``, so this is computed once per type there; other callers pass
    one ``where`` per entry and merely cycle the cache."""
    return tuple(
        (f.name, f.metadata[_CODEC].decode, f"{where}.{f.name}") for f in _required(type_name)
    )


@dataclass(frozen=True)
class Body:
    """Base of every entry body.  Subclasses set ``TYPE`` and declare each
    field with ``field(metadata=_m(codec))``."""

    TYPE: ClassVar[str] = ""

    @classmethod
    def from_json(cls, obj: object, where: str) -> Self:
        """Read a body from decoded JSON; ``where`` prefixes error paths."""
        optional = _optional(cls.TYPE)
        present: dict[str, object] = {}
        if optional and isinstance(obj, dict):
            present = {name: obj[name] for name, _ in optional if name in obj}
            if present:
                obj = {k: v for k, v in obj.items() if k not in present}
        raw = read_object(obj, where, _names(cls.TYPE))
        values: dict[str, Any] = {
            name: decode(raw[name], path) for name, decode, path in _decoders(cls.TYPE, where)
        }
        for name, decode in optional:
            values[name] = decode(present[name], f"{where}.{name}") if name in present else None
        # What the frozen dataclass's __init__ does (every field is required,
        # none has a default or a __post_init__), without its setattr call
        # per field: replay decodes every entry of the log through here.
        body = object.__new__(cls)
        body.__dict__.update(values)
        body._check(where)
        return body

    def _check(self, where: str) -> None:
        """Constraints across fields, for the bodies that have them."""

    def to_json(self) -> dict[str, JSONValue]:
        """The body as plain JSON values, ready for RFC 8785 encoding; an
        optional field that is ``None`` is left out."""
        return {
            f.name: f.metadata[_CODEC].encode(value)
            for f in fields(self)
            if (value := getattr(self, f.name)) is not None or not f.metadata[_OPTIONAL]
        }


@dataclass(frozen=True)
class PoolRules(Body):
    """The rulebook or a change to it, in force from ``effective`` on.

    Only the JSON shape of ``rules`` is checked here; the rulebook module
    gives its keys meaning."""

    TYPE: ClassVar[str] = "pool.rules"
    effective: datetime = field(metadata=_m(TIME))
    rules: Mapping[str, ShapeValue] = field(metadata=_m(JSON_SHAPE))
    reason: str = field(metadata=_m(NOTICE_TEXT))


@dataclass(frozen=True)
class MemberJoined(Body):
    """A new member, under a pseudonymous id."""

    TYPE: ClassVar[str] = "member.joined"
    member: str = field(metadata=_m(MEMBER_ID))
    age_band: AgeBand = field(metadata=_m(AGE_BAND))


@dataclass(frozen=True)
class MemberLeft(Body):
    """A membership that ended, with the shares refunded (fen)."""

    TYPE: ClassVar[str] = "member.left"
    member: str = field(metadata=_m(MEMBER_ID))
    reason: LeaveReason = field(metadata=_m(enum_codec(LeaveReason)))
    refund: int = field(metadata=_m(FEN))


@dataclass(frozen=True)
class ClaimFiled(Body):
    """A claim: what is asked for, and salted commitments to the evidence."""

    TYPE: ClassVar[str] = "claim.filed"
    claim: str = field(metadata=_m(CLAIM_ID))
    member: str = field(metadata=_m(MEMBER_ID))
    category: str = field(metadata=_m(TOKEN))
    amount: int = field(metadata=_m(POSITIVE_FEN))
    diagnosed: date = field(metadata=_m(DATE))
    evidence: tuple[bytes, ...] = field(
        metadata=_m(list_codec(HASH, min_len=1, max_len=MAX_EVIDENCE, unique=True))
    )
    #: The claimant's band on ``diagnosed``, only where it is not the band
    #: of their ``member.joined`` (a member who joined at 17 and was
    #: diagnosed at 18): the claim's cap follows the age at diagnosis.
    age_band: AgeBand | None = field(default=None, metadata=_m(AGE_BAND, optional=True))


@dataclass(frozen=True)
class ClaimNoticed(Body):
    """The public, redacted notice of a claim, open to objections until
    ``objections_until``."""

    TYPE: ClassVar[str] = "claim.noticed"
    claim: str = field(metadata=_m(CLAIM_ID))
    text: str = field(metadata=_m(NOTICE_TEXT))
    amount: int = field(metadata=_m(FEN))
    age_band: AgeBand = field(metadata=_m(AGE_BAND))
    category: str = field(metadata=_m(TOKEN))
    objections_until: datetime = field(metadata=_m(TIME))
    #: The structured facts (:mod:`verifiable.log.notice_facts`), the
    #: operator's investigation summary, and the commitments of the redacted
    #: copies of the evidence the panel is shown, one per document of the
    #: filing in its order: notice facts v1.  Notices written before have
    #: none of them.
    facts: NoticeFacts | None = field(default=None, metadata=_m(FACTS, optional=True))
    summary: str | None = field(default=None, metadata=_m(NOTICE_TEXT, optional=True))
    redacted: tuple[bytes, ...] | None = field(
        default=None,
        metadata=_m(list_codec(HASH, min_len=1, max_len=MAX_EVIDENCE, unique=True), optional=True),
    )


@dataclass(frozen=True)
class ClaimObjected(Body):
    """A member's objection to a noticed claim."""

    TYPE: ClassVar[str] = "claim.objected"
    claim: str = field(metadata=_m(CLAIM_ID))
    member: str = field(metadata=_m(MEMBER_ID))
    text: str = field(metadata=_m(NOTICE_TEXT))


@dataclass(frozen=True)
class ClaimAnswered(Body):
    """The answer to an objection; ``objection`` is the seq of its
    ``claim.objected`` entry."""

    TYPE: ClassVar[str] = "claim.answered"
    claim: str = field(metadata=_m(CLAIM_ID))
    objection: int = field(metadata=_m(COUNT))
    text: str = field(metadata=_m(NOTICE_TEXT))


@dataclass(frozen=True)
class ClaimAppealed(Body):
    """The claimant's one appeal, to a panel of 2n+1."""

    TYPE: ClassVar[str] = "claim.appealed"
    claim: str = field(metadata=_m(CLAIM_ID))
    reason: str = field(metadata=_m(NOTICE_TEXT))


@dataclass(frozen=True)
class JurorQualified(Body):
    """A member who may now be drawn as a juror."""

    TYPE: ClassVar[str] = "juror.qualified"
    member: str = field(metadata=_m(MEMBER_ID))


@dataclass(frozen=True)
class JurorRemoved(Body):
    """A juror no longer qualified (left, lost good standing, ...)."""

    TYPE: ClassVar[str] = "juror.removed"
    member: str = field(metadata=_m(MEMBER_ID))
    reason: str = field(metadata=_m(text_codec(500)))


@dataclass(frozen=True)
class JuryPool(Body):
    """A period's juror pool: the RFC 9162 Merkle root over the sorted ids of
    the qualified jurors, and how many there are."""

    TYPE: ClassVar[str] = "jury.pool"
    period: date = field(metadata=_m(DATE))
    root: bytes = field(metadata=_m(HASH))
    size: int = field(metadata=_m(COUNT))


@dataclass(frozen=True)
class SeedCheckpoint:
    """The witnessed checkpoint a panel's seed comes from (format v1, panel
    draw v2): the checkpoint's note ``text``, the ``cosignatures`` by the
    rulebook's witnesses that the seed is derived from (in the rulebook's
    order), and the RFC 9162 consistency ``proof`` from the checkpoint's
    size to the log's size just before the ``panel.drawn`` entry, so that
    a replay checks the checkpoint's root against the log it is reading."""

    checkpoint: Checkpoint
    cosignatures: tuple[Cosignature, ...]
    proof: tuple[bytes, ...]

    @property
    def text(self) -> str:
        """The note text the witnesses cosigned."""
        return self.checkpoint.to_text()

    @classmethod
    def from_json(cls, value: object, where: str) -> SeedCheckpoint:
        raw = read_object(value, where, ("checkpoint", "cosignatures", "proof"))
        text = raw["checkpoint"]
        if not isinstance(text, str) or len(text) > 1000:
            raise MalformedError(f"{where}.checkpoint: expected a checkpoint's note text")
        checkpoint = _parsed(Checkpoint.from_text, text, f"{where}.checkpoint")
        if checkpoint.to_text() != text:
            raise MalformedError(f"{where}.checkpoint: not in its one canonical form")
        lines = read_list(
            raw["cosignatures"],
            f"{where}.cosignatures",
            _read_cosignature,
            min_len=1,
            max_len=MAX_DRAW_WITNESSES,
            unique=True,
        )
        proof = read_list(raw["proof"], f"{where}.proof", HASH.decode, max_len=64)
        return cls(checkpoint, lines, proof)

    def to_json(self) -> JSONValue:
        return {
            "checkpoint": self.text,
            "cosignatures": [c.to_line() for c in self.cosignatures],
            "proof": [p.hex() for p in self.proof],
        }


def _parsed(parse: Callable[[str], Any], text: str, where: str) -> Any:
    try:
        return parse(text)
    except MalformedError as e:
        raise MalformedError(f"{where}: {e}") from e


def _read_cosignature(value: object, where: str) -> Cosignature:
    if not isinstance(value, str) or len(value) > 300:
        raise MalformedError(f"{where}: expected a cosignature line")
    cosignature: Cosignature = _parsed(Cosignature.from_line, value, where)
    if cosignature.to_line() != value:
        raise MalformedError(f"{where}: not in its one canonical form")
    return cosignature


_SEED_CHECKPOINT: Codec[SeedCheckpoint] = Codec(SeedCheckpoint.from_json, SeedCheckpoint.to_json)


@dataclass(frozen=True)
class PanelDrawn(Body):
    """A panel drawn from ``pool_period``'s jury pool with ``seed``;
    ``jurors`` in draw order.  ``seed_size`` is the size the rules fix once
    the claim is ready for its draw.  Without witnesses in the rules the
    seed is the log's root at that size; with them, ``witnessed`` holds the
    cosigned checkpoint the seed is derived from
    (:func:`verifiable.pool.sortition.witnessed_seed`)."""

    TYPE: ClassVar[str] = "panel.drawn"
    claim: str = field(metadata=_m(CLAIM_ID))
    round: int = field(metadata=_m(ROUND))
    appeal: bool = field(metadata=_m(BOOL))
    pool_period: date = field(metadata=_m(DATE))
    seed_size: int = field(metadata=_m(POSITIVE_COUNT))
    seed: bytes = field(metadata=_m(HASH))
    jurors: tuple[str, ...] = field(
        metadata=_m(list_codec(MEMBER_ID, min_len=1, max_len=MAX_PANEL, unique=True))
    )
    votes_until: datetime = field(metadata=_m(TIME))
    witnessed: SeedCheckpoint | None = field(
        default=None, metadata=_m(_SEED_CHECKPOINT, optional=True)
    )


@dataclass(frozen=True)
class VoteSealed(Body):
    """A juror's sealed vote: a commitment opened later by ``vote.revealed``."""

    TYPE: ClassVar[str] = "vote.sealed"
    claim: str = field(metadata=_m(CLAIM_ID))
    round: int = field(metadata=_m(ROUND))
    juror: str = field(metadata=_m(MEMBER_ID))
    commitment: bytes = field(metadata=_m(HASH))


@dataclass(frozen=True)
class VoteRevealed(Body):
    """The opening of a sealed vote: the choice, the juror's reason (may be
    empty; the rules may ask for one) and the salt."""

    TYPE: ClassVar[str] = "vote.revealed"
    claim: str = field(metadata=_m(CLAIM_ID))
    round: int = field(metadata=_m(ROUND))
    juror: str = field(metadata=_m(MEMBER_ID))
    choice: Choice = field(metadata=_m(enum_codec(Choice)))
    reason: str = field(metadata=_m(VOTE_REASON))
    salt: bytes = field(metadata=_m(HASH))


@dataclass(frozen=True)
class ClaimDecided(Body):
    """The decision on a claim.

    ``round`` 0 means decided by rule with no panel, which only an
    ``ineligible`` outcome may be (illness inside the waiting period);
    ``amount`` is positive exactly when the claim is approved.
    """

    TYPE: ClassVar[str] = "claim.decided"
    claim: str = field(metadata=_m(CLAIM_ID))
    round: int = field(metadata=_m(COUNT))
    approvals: int = field(metadata=_m(int_codec(0, MAX_PANEL)))
    rejections: int = field(metadata=_m(int_codec(0, MAX_PANEL)))
    outcome: Outcome = field(metadata=_m(enum_codec(Outcome)))
    amount: int = field(metadata=_m(FEN))

    def _check(self, where: str) -> None:
        votes = self.approvals + self.rejections
        if votes > MAX_PANEL:
            raise MalformedError(
                f"{where}: approvals + rejections is {votes}, more than a panel of {MAX_PANEL}"
            )
        if self.round == 0:
            if self.outcome is not Outcome.INELIGIBLE:
                raise MalformedError(
                    f"{where}.round: round 0 (no panel) is only for outcome ineligible, "
                    f"got outcome {self.outcome.value}"
                )
            if votes:
                raise MalformedError(f"{where}: round 0 has no panel, got {votes} vote(s)")
        if self.outcome is Outcome.APPROVED and self.amount == 0:
            raise MalformedError(f"{where}.amount: an approved claim needs an amount > 0, got 0")
        if self.outcome is not Outcome.APPROVED and self.amount != 0:
            raise MalformedError(
                f"{where}.amount: expected 0 for outcome {self.outcome.value}, got {self.amount}"
            )


@dataclass(frozen=True)
class ClaimPaid(Body):
    """Aid paid on a decided claim, in the period whose notice date is ``period``."""

    TYPE: ClassVar[str] = "claim.paid"
    claim: str = field(metadata=_m(CLAIM_ID))
    amount: int = field(metadata=_m(POSITIVE_FEN))
    period: date = field(metadata=_m(DATE))


@dataclass(frozen=True)
class PeriodClosed(Body):
    """A period's cost-sharing: the paid claims (count, total, Merkle root of
    their list), the fee, refunds, surplus carried in and out, the per-member
    share and the Merkle root of the sorted roster of sharing members.  The
    arithmetic between them is checked by the rulebook at replay.

    ``surplus_in`` and ``surplus_out`` are signed: a negative balance is a
    deficit carried forward (aid paid beyond what a capped share collects, or
    a period with nobody to share it)."""

    TYPE: ClassVar[str] = "period.closed"
    period: date = field(metadata=_m(DATE))
    claims_count: int = field(metadata=_m(COUNT))
    claims_total: int = field(metadata=_m(FEN))
    claims_root: bytes = field(metadata=_m(HASH))
    fee: int = field(metadata=_m(FEN))
    fee_rate_bp: int = field(metadata=_m(int_codec(0, 10_000)))
    refunds: int = field(metadata=_m(FEN))
    surplus_in: int = field(metadata=_m(SIGNED_FEN))
    surplus_out: int = field(metadata=_m(SIGNED_FEN))
    sharing: int = field(metadata=_m(COUNT))
    share: int = field(metadata=_m(FEN))
    collected: int = field(metadata=_m(FEN))
    roster_root: bytes = field(metadata=_m(HASH))
    roster_size: int = field(metadata=_m(COUNT))


@dataclass(frozen=True)
class OperatorOverride(Body):
    """Any manual intervention by the operator, with its reason, so that it is
    at least public."""

    TYPE: ClassVar[str] = "operator.override"
    action: str = field(metadata=_m(TOKEN))
    target: str = field(metadata=_m(text_codec(200, multiline=False)))
    reason: str = field(metadata=_m(NOTICE_TEXT))
    details: Mapping[str, ShapeValue] = field(metadata=_m(JSON_SHAPE))


@dataclass(frozen=True)
class DataErased(Body):
    """Private data deleted off the log on request: a member's identity
    (``kind`` member, ``subject`` the member id, ``documents`` 0) or a
    claim's evidence documents with their salts (``kind`` evidence,
    ``subject`` the claim id, ``documents`` how many).  The log's entries
    and commitments stay as they were; this entry makes the erasure public.
    ``reason`` is public too, so it names no one."""

    TYPE: ClassVar[str] = "data.erased"
    kind: ErasedKind = field(metadata=_m(enum_codec(ErasedKind)))
    subject: str = field(metadata=_m(MEMBER_ID))
    documents: int = field(metadata=_m(int_codec(0, MAX_EVIDENCE)))
    reason: str = field(metadata=_m(text_codec(500, multiline=False)))

    def _check(self, where: str) -> None:
        if self.kind is ErasedKind.MEMBER and self.documents != 0:
            raise MalformedError(
                f"{where}.documents: expected 0 for kind member, got {self.documents}"
            )
        if self.kind is ErasedKind.EVIDENCE and self.documents == 0:
            raise MalformedError(
                f"{where}.documents: expected 1 to {MAX_EVIDENCE} for kind evidence, got 0"
            )


@dataclass(frozen=True)
class VerifierPublished(Body):
    """The SHA-256 of the verifier page the pool's server serves at
    ``/verifier``, its length in bytes and the release whose build writes
    those bytes, so that anyone can compare the page they were served, or a
    copy they saved, with what the log says it is.  The page holds nothing
    private, and neither does this entry."""

    TYPE: ClassVar[str] = "verifier.published"
    sha256: bytes = field(metadata=_m(HASH))
    size: int = field(metadata=_m(POSITIVE_COUNT))
    build: str = field(metadata=_m(TOKEN))


BODY_TYPES: Mapping[str, type[Body]] = MappingProxyType(
    {
        cls.TYPE: cls
        for cls in (
            PoolRules,
            MemberJoined,
            MemberLeft,
            ClaimFiled,
            ClaimNoticed,
            ClaimObjected,
            ClaimAnswered,
            ClaimAppealed,
            JurorQualified,
            JurorRemoved,
            JuryPool,
            PanelDrawn,
            VoteSealed,
            VoteRevealed,
            ClaimDecided,
            ClaimPaid,
            PeriodClosed,
            OperatorOverride,
            DataErased,
            VerifierPublished,
        )
    }
)
"""Every entry type of format v1, by its ``type`` name."""


def parse_body(type: str, obj: object, where: str) -> Body:
    """Read the body of an entry of type ``type``."""
    cls = BODY_TYPES.get(type)
    if cls is None:
        raise MalformedError(f"{where}: unknown entry type {type!r}")
    return cls.from_json(obj, where)
