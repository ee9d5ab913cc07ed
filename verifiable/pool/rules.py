"""The pool's rulebook as typed data, and its schedule of changes.

The rulebook lives in the log: the first entry is a ``pool.rules`` entry and
every later change is another, in force from its ``effective`` time.  This
module gives the ``rules`` mapping of those bodies a meaning:

- :class:`Rules` is every parameter of the pool, a frozen dataclass whose
  defaults are modelled on Xianghubao's public plan terms (docs/rules.md gives
  each default and its source).  :meth:`Rules.from_json` reads a ``rules``
  mapping strictly, on top of a base rulebook: an unknown name, a value of the
  wrong type or out of range raises :class:`~verifiable.errors.MalformedError`;
  :meth:`Rules.to_json` writes every parameter back.
- :class:`Rulebook` is the schedule: which :class:`Rules` are in force at a
  given time, and whether a new ``pool.rules`` entry may join the schedule
  (its effective time must be after the entry's own time and after every
  change already scheduled).  A claim is judged all its life under the rules
  in force when it was filed, so a change never alters a filed claim.
- The period calendar (:func:`next_notice`): periods are named by their notice
  date; a period's moment is 00:00 UTC on that date.

Everything here is pure: times come from entries.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.bodies import MAX_DRAW_WITNESSES, AgeBand, PoolRules
from verifiable.log.cosignature import CosignatureVerifier
from verifiable.log.fields import (
    MAX_SAFE_INT,
    JSONValue,
    describe,
    format_time,
    read_bool,
    read_enum,
    read_int,
    read_object,
    read_token,
)

__all__ = [
    "DEFAULT_RULES",
    "RULE_NAMES",
    "BandCap",
    "RuleChange",
    "Rulebook",
    "Rules",
    "moment",
    "next_notice",
]

_NAME = "name"
_READ = "read"
_WRITE = "write"

MAX_PANEL_SIZE = 127
"""The largest first-instance panel: its appeal panel of 2n+1 = 255 is the
largest list a ``panel.drawn`` entry holds."""


@dataclass(frozen=True)
class BandCap:
    """The most aid a claim may be paid for a member of ``band``, in fen."""

    band: AgeBand
    cap: int


def _rule(
    name: str,
    read: Callable[[object, str], Any],
    write: Callable[[Any], JSONValue],
    default: Any,
) -> Any:
    return field(default=default, metadata={_NAME: name, _READ: read, _WRITE: write})


def _int(low: int, high: int) -> Callable[[object, str], int]:
    return lambda v, w: read_int(v, w, low=low, high=high)


def _same(value: Any) -> JSONValue:
    return value  # type: ignore[no-any-return]


def _list(value: object, where: str, max_len: int, min_len: int = 1) -> list[object]:
    if not isinstance(value, tuple | list):
        raise MalformedError(f"{where}: expected a list, got {describe(value)}")
    if not min_len <= len(value) <= max_len:
        raise MalformedError(
            f"{where}: expected a list of {min_len} to {max_len} items, got {len(value)}"
        )
    return list(value)


def _unique(items: tuple[Any, ...], where: str) -> None:
    seen: set[Any] = set()
    for i, item in enumerate(items):
        if item in seen:
            raise MalformedError(f"{where}[{i}]: duplicate item {item}")
        seen.add(item)


def _read_bands(value: object, where: str) -> tuple[AgeBand, ...]:
    items = _list(value, where, len(AgeBand), min_len=0)
    bands = tuple(read_enum(v, f"{where}[{i}]", AgeBand) for i, v in enumerate(items))
    _unique(bands, where)
    return bands


def _write_bands(value: tuple[AgeBand, ...]) -> JSONValue:
    return [b.value for b in value]


def _read_caps(value: object, where: str) -> tuple[BandCap, ...]:
    items = _list(value, where, len(AgeBand))
    caps: list[BandCap] = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise MalformedError(f"{at}: expected an object, got {describe(item)}")
        obj = read_object(dict(item), at, ("band", "cap"))
        caps.append(
            BandCap(
                band=read_enum(obj["band"], f"{at}.band", AgeBand),
                cap=read_int(obj["cap"], f"{at}.cap", low=1),
            )
        )
    _unique(tuple(c.band for c in caps), f"{where} band")
    return tuple(caps)


def _write_caps(value: tuple[BandCap, ...]) -> JSONValue:
    return [{"band": c.band.value, "cap": c.cap} for c in value]


def _read_tokens(value: object, where: str) -> tuple[str, ...]:
    items = _list(value, where, 128, min_len=0)
    tokens = tuple(read_token(v, f"{where}[{i}]") for i, v in enumerate(items))
    _unique(tokens, where)
    return tokens


def _read_days_of_month(value: object, where: str) -> tuple[int, ...]:
    items = _list(value, where, 12)
    days = tuple(read_int(v, f"{where}[{i}]", low=1, high=28) for i, v in enumerate(items))
    for i in range(1, len(days)):
        if days[i] <= days[i - 1]:
            raise MalformedError(
                f"{where}[{i}]: days must be strictly increasing, got {days[i]} after {days[i - 1]}"
            )
    return days


def _write_list(value: tuple[Any, ...]) -> JSONValue:
    return list(value)


def _read_witnesses(value: object, where: str) -> tuple[CosignatureVerifier, ...]:
    items = _list(value, where, MAX_DRAW_WITNESSES, min_len=0)
    keys: list[CosignatureVerifier] = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise MalformedError(
                f"{where}[{i}]: expected a verifier key string, got {describe(item)}"
            )
        try:
            keys.append(CosignatureVerifier.from_vkey(item))
        except MalformedError as e:
            raise MalformedError(f"{where}[{i}]: {e}") from e
    # A witness is known by its key name in a cosignature line: one key per name.
    _unique(tuple(k.name for k in keys), f"{where} name")
    return tuple(keys)


def _write_witnesses(value: tuple[CosignatureVerifier, ...]) -> JSONValue:
    return [k.to_vkey() for k in value]


_CATEGORIES = (
    "cancer",
    "heart_attack",
    "stroke",
    "organ_transplant",
    "kidney_failure",
    "coronary_bypass",
    "other_serious",
)


@dataclass(frozen=True)
class Rules:
    """Every parameter of the pool.  Durations are whole days; money is fen;
    rates are basis points (1/10,000)."""

    join_bands: tuple[AgeBand, ...] = _rule(
        "member.join_bands", _read_bands, _write_bands, tuple(AgeBand)
    )
    """Age bands that may join (the plan's ages 30 days to 59)."""
    waiting_days: int = _rule("member.waiting_days", _int(0, 3650), _same, 90)
    """Days from joining before an illness is covered."""
    caps: tuple[BandCap, ...] = _rule(
        "cover.caps",
        _read_caps,
        _write_caps,
        (
            BandCap(AgeBand.UNDER_18, 30_000_000),
            BandCap(AgeBand.FROM_18_TO_39, 30_000_000),
            BandCap(AgeBand.FROM_40_TO_59, 10_000_000),
        ),
    )
    """The most aid per claim, by the claimant's age band."""
    categories: tuple[str, ...] = _rule("cover.categories", _read_tokens, _write_list, _CATEGORIES)
    """Illness categories covered."""
    filing_days: int = _rule("claim.filing_days", _int(1, 3650), _same, 180)
    """A claim must be filed within this many days of the diagnosis."""
    objection_days: int = _rule("claim.objection_days", _int(0, 90), _same, 3)
    """Length of the objection window, from the notice."""
    objections_per_member: int = _rule("claim.objections_per_member", _int(0, 100), _same, 0)
    """Objections one member may make to one claim; 0: no limit.  The
    default is the behaviour of the pools started before the rule existed,
    whose rulebooks do not name it; a new pool's rulebook names it (one)."""
    juror_bands: tuple[AgeBand, ...] = _rule(
        "juror.bands",
        _read_bands,
        _write_bands,
        (AgeBand.FROM_18_TO_39, AgeBand.FROM_40_TO_59),
    )
    """Age bands that may qualify as jurors (adults)."""
    seasoning_days: int = _rule("juror.seasoning_days", _int(0, 3650), _same, 180)
    """Days of membership before a member may qualify as a juror."""
    panel_size: int = _rule("panel.size", _int(1, MAX_PANEL_SIZE), _same, 31)
    """Jurors on a first-instance panel (n); an appeal panel has 2n+1."""
    voting_days: int = _rule("panel.voting_days", _int(1, 90), _same, 3)
    """Length of the voting window, from the draw."""
    max_rounds: int = _rule("panel.max_rounds", _int(1, 10), _same, 3)
    """Panels drawn for one instance (first or appeal) before a missed quorum
    is final."""
    quorum_bp: int = _rule("vote.quorum_bp", _int(0, 9_999), _same, 5_000)
    """Quorum: more than this share of the panel must reveal a vote."""
    threshold_bp: int = _rule("vote.threshold_bp", _int(0, 9_999), _same, 5_000)
    """Approval: more than this share of the revealed votes must approve."""
    reason_required: bool = _rule("vote.reason_required", read_bool, _same, True)
    """Whether a revealed vote must give a reason (as Kleros asks)."""
    appeal_days: int = _rule("appeal.days", _int(0, 365), _same, 7)
    """Days after a rejection in which the claimant may appeal; 0: no appeals."""
    notice_days: tuple[int, ...] = _rule(
        "period.notice_days", _read_days_of_month, _write_list, (7, 21)
    )
    """Days of the month on which a period's notice is published; a period is
    named by its notice date and its roster is fixed at 00:00 UTC that day."""
    deduction_days: tuple[int, ...] = _rule(
        "period.deduction_days", _read_days_of_month, _write_list, (14, 28)
    )
    """Days of the month on which shares are deducted, one per notice day."""
    fee_rate_bp: int = _rule("share.fee_rate_bp", _int(0, 10_000), _same, 800)
    """The management fee, as a share of the aid paid in the period."""
    share_cap_per_claim: int = _rule("share.cap_per_claim_fen", _int(0, MAX_SAFE_INT), _same, 0)
    """The most a member pays per claim shared, in fen; 0: no cap."""
    overrides_allowed: tuple[str, ...] = _rule(
        "override.allowed", _read_tokens, _write_list, ("claim.withdraw", "note")
    )
    """The ``operator.override`` actions the rules allow."""
    witnesses: tuple[CosignatureVerifier, ...] = _rule(
        "draw.witnesses", _read_witnesses, _write_witnesses, ()
    )
    """The witnesses (C2SP cosignature verifier keys) whose cosignatures may
    seed a panel, in the order their cosignatures enter the seed."""
    witnesses_required: int = _rule(
        "draw.witnesses_required", _int(0, MAX_DRAW_WITNESSES), _same, 0
    )
    """How many of ``draw.witnesses`` must have cosigned the checkpoint a
    panel's seed comes from; 0: the seed is the log's root at the seed size."""

    def __post_init__(self) -> None:
        if self.witnesses_required > len(self.witnesses):
            raise MalformedError(
                f"draw.witnesses_required: {self.witnesses_required} of "
                f"{len(self.witnesses)} draw.witnesses required"
            )
        covered = {c.band for c in self.caps}
        for band in self.join_bands:
            if band not in covered:
                raise MalformedError(f"cover.caps: no cap for band {band.value}, which may join")
        if len(self.deduction_days) != len(self.notice_days):
            raise MalformedError(
                f"period.deduction_days: expected one per notice day "
                f"({len(self.notice_days)}), got {len(self.deduction_days)}"
            )
        for notice, deduct in zip(self.notice_days, self.deduction_days, strict=True):
            if deduct <= notice:
                raise MalformedError(
                    f"period.deduction_days: deduction day {deduct} is not after "
                    f"its notice day {notice}"
                )
        if not self.categories:
            raise MalformedError("cover.categories: at least one category is needed")

    @classmethod
    def from_json(
        cls, obj: Mapping[str, object], where: str = "rules", base: Rules | None = None
    ) -> Rules:
        """``base`` (default :data:`DEFAULT_RULES`) with the parameters named in
        ``obj`` replaced; every name must be known and every value valid."""
        base = DEFAULT_RULES if base is None else base
        by_name = {f.metadata[_NAME]: f for f in fields(cls)}
        unknown = sorted(k for k in obj if k not in by_name)
        if unknown:
            raise MalformedError(
                f"{where}: unknown rule(s) {', '.join(unknown)}; known rules: "
                f"{', '.join(sorted(by_name))}"
            )
        changes = {
            by_name[name].name: by_name[name].metadata[_READ](value, f"{where}.{name}")
            for name, value in obj.items()
        }
        try:
            return replace(base, **changes)
        except MalformedError as e:
            raise MalformedError(f"{where}: {e}") from e

    def to_json(self) -> dict[str, JSONValue]:
        """Every parameter under its rule name, as plain JSON values."""
        return {f.metadata[_NAME]: f.metadata[_WRITE](getattr(self, f.name)) for f in fields(self)}

    def cap(self, band: AgeBand) -> int | None:
        """The cap for ``band`` in fen, or ``None`` if the band has no cover."""
        for c in self.caps:
            if c.band is band:
                return c.cap
        return None

    def covered_from(self, joined: datetime) -> date:
        """The first day of cover for a member who joined at ``joined``: an
        illness diagnosed before it is inside the waiting period."""
        return joined.date() + timedelta(days=self.waiting_days)

    def seasoned_from(self, joined: datetime) -> datetime:
        """When a member who joined at ``joined`` may first qualify as a juror."""
        return joined + timedelta(days=self.seasoning_days)

    def objections_until(self, noticed: datetime) -> datetime:
        """The end of the objection window of a notice published at ``noticed``."""
        return noticed + timedelta(days=self.objection_days)

    def objection_allowed(self, earlier: int) -> bool:
        """Whether a member who has made ``earlier`` objections to a claim
        may make one more (``claim.objections_per_member``, 0: always)."""
        return not self.objections_per_member or earlier < self.objections_per_member

    def votes_until(self, drawn: datetime) -> datetime:
        """The end of the voting window of a panel drawn at ``drawn``."""
        return drawn + timedelta(days=self.voting_days)

    def appeal_until(self, decided: datetime) -> datetime:
        """The last moment to appeal a rejection decided at ``decided``."""
        return decided + timedelta(days=self.appeal_days)

    @property
    def appeals(self) -> bool:
        """Whether a rejection may be appealed at all (``appeal.days`` above 0)."""
        return self.appeal_days > 0

    @property
    def appeal_panel_size(self) -> int:
        """2n+1 jurors."""
        return 2 * self.panel_size + 1

    def panel_size_for(self, appeal: bool) -> int:
        """Jurors on a panel: n at first instance, 2n+1 on appeal."""
        return self.appeal_panel_size if appeal else self.panel_size

    def quorum(self, panel: int) -> int:
        """Revealed votes a panel of ``panel`` jurors needs: more than
        ``quorum_bp``/10,000 of the panel (a majority by default)."""
        return panel * self.quorum_bp // 10_000 + 1

    def approves(self, approvals: int, valid: int) -> bool:
        """More than ``threshold_bp``/10,000 of the ``valid`` votes approve."""
        return approvals * 10_000 > self.threshold_bp * valid

    def fee(self, aid: int) -> int:
        """The management fee on ``aid`` fen, rounded down to the fen."""
        return aid * self.fee_rate_bp // 10_000

    def capped_share(self, share: int, claims: int) -> int:
        """``share`` held to ``share.cap_per_claim_fen`` for each of the
        ``claims`` paid in the period (unchanged when no cap is set)."""
        if self.share_cap_per_claim:
            return min(share, claims * self.share_cap_per_claim)
        return share

    def deduction_date(self, period: date) -> date:
        """The day the shares of ``period`` (named by its notice date) are
        deducted: the deduction day paired with its notice day, in the same
        month.  A period named by a notice day these rules no longer have (the
        calendar changed) is deducted on the next deduction day after it."""
        if period.day in self.notice_days:
            day = self.deduction_days[self.notice_days.index(period.day)]
            return period.replace(day=day)
        later = [d for d in self.deduction_days if d > period.day]
        if later:
            return period.replace(day=later[0])
        following = (period.replace(day=28) + timedelta(days=4)).replace(day=1)
        return following.replace(day=self.deduction_days[0])


DEFAULT_RULES = Rules()
"""The default rulebook (docs/rules.md)."""

RULE_NAMES: tuple[str, ...] = tuple(f.metadata[_NAME] for f in fields(Rules))
"""Every rule name, in the order of :class:`Rules`."""


def moment(period: date) -> datetime:
    """00:00 UTC on a period's notice date: when its roster is fixed."""
    return datetime(period.year, period.month, period.day, tzinfo=UTC)


def next_notice(after: datetime, rules: Rules) -> date:
    """The first notice date whose moment is strictly after ``after``."""
    year, month = after.year, after.month
    for _ in range(3):
        for day in rules.notice_days:
            if moment(date(year, month, day)) > after:
                return date(year, month, day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("unreachable: every month has a notice day")  # pragma: no cover


@dataclass(frozen=True)
class RuleChange:
    """One ``pool.rules`` entry in the schedule: the whole rulebook as it
    stands from ``effective`` on."""

    seq: int
    time: datetime
    effective: datetime
    rules: Rules


class Rulebook:
    """The schedule of rulebooks, in order of effective time.

    ``in_force(t)`` is the rulebook of the latest change effective at or
    before ``t``.  Changes are appended with :meth:`adopt` after
    :meth:`propose` has checked them.
    """

    __slots__ = ("_changes", "_effective", "_last")

    def __init__(self) -> None:
        self._changes: list[RuleChange] = []
        self._effective: list[datetime] = []
        self._last: RuleChange | None = None

    @property
    def changes(self) -> tuple[RuleChange, ...]:
        """Every change adopted so far, the first being the genesis rulebook."""
        return tuple(self._changes)

    @property
    def latest(self) -> RuleChange | None:
        """The last change scheduled, which may not be in force yet."""
        return self._last

    def in_force(self, at: datetime) -> Rules | None:
        """The rules in force at ``at``, or ``None`` before the first."""
        last = self._last
        if last is None:
            return None
        if at >= last.effective:
            return last.rules
        i = bisect.bisect_right(self._effective, at)
        return self._changes[i - 1].rules if i else None

    def propose(self, seq: int, time: datetime, body: PoolRules) -> RuleChange:
        """Check a ``pool.rules`` entry at ``seq``/``time`` and return the
        change it makes, without adopting it.

        The first entry of the log (the genesis rulebook) takes effect at its
        own time; every later one at a time strictly after its own time and
        after every change already scheduled.  Its ``rules`` apply on top of
        the latest scheduled rulebook (on top of the defaults for genesis).
        """
        last = self._last
        if last is None:
            if seq != 0:
                raise RuleViolation(
                    "rules.genesis",
                    "the first pool.rules entry must be the first entry of the log",
                    seq=seq,
                    expected="seq 0",
                    actual=f"seq {seq}",
                )
            if body.effective != time:
                raise RuleViolation(
                    "rules.genesis",
                    "the genesis rulebook takes effect at its own time",
                    seq=seq,
                    expected=format_time(time),
                    actual=format_time(body.effective),
                )
            base = DEFAULT_RULES
        else:
            if body.effective <= time:
                raise RuleViolation(
                    "rules.effective_future",
                    "a rule change must take effect after the entry that makes it",
                    seq=seq,
                    expected=f"effective after {format_time(time)}",
                    actual=format_time(body.effective),
                )
            if body.effective <= last.effective:
                raise RuleViolation(
                    "rules.order",
                    "a rule change must take effect after every change already scheduled",
                    seq=seq,
                    expected=f"effective after {format_time(last.effective)}",
                    actual=format_time(body.effective),
                )
            base = last.rules
        rules = Rules.from_json(body.rules, f"entry {seq}: body.rules", base)
        return RuleChange(seq=seq, time=time, effective=body.effective, rules=rules)

    def adopt(self, change: RuleChange) -> None:
        """Add a change returned by :meth:`propose`."""
        self._changes.append(change)
        self._effective.append(change.effective)
        self._last = change

    def unadopt(self) -> None:
        """Remove the last change (the caller's undo of :meth:`adopt`)."""
        self._changes.pop()
        self._effective.pop()
        self._last = self._changes[-1] if self._changes else None
