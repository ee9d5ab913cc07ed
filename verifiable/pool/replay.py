"""Replay: derive the state of the pool from its log, or name the first entry
that breaks the format, the chain or a rule.

``replay(entries)`` is the auditor's function and :class:`Replayer` the
incremental form a server keeps beside its log.  For each entry, in order:

1. the bytes are decoded strictly (RFC 8785 canonical form, the v1 envelope,
   the body of its type) and their place in the hash chain is checked
   (``seq`` and ``prev``), as :class:`verifiable.log.entry.ChainVerifier` does;
2. the entry is applied to :class:`verifiable.pool.state.PoolState`, which checks
   every rule;
3. its leaf hash is appended to an RFC 9162 compact tree
   (:class:`verifiable.log.merkle.CompactTree`), which supplies the log's root
   hash whenever an entry fixes a panel's seed, so a full replay needs no
   outside help.

Memory is the pool's live state plus the compact range (at most 64 hashes),
whatever the length of the log.  An entry that fails leaves the replayer as
it was.

Decoding takes a fast path, about twice as fast as
:func:`verifiable.log.entry.parse_entry`: the canonical-form check re-encodes with
the standard library's C JSON encoder (sorted keys, no spaces, UTF-8), which
gives the ``rfc8785`` bytes for every value an entry can hold once its fields
are read — ASCII keys, integers within ±(2**53 - 1), strings without lone
surrogates, no floats; byte equality with the input already excludes
duplicate keys, so the decoder needs no per-object hook; and the envelope is
read without building error paths, the last entry's time reused.  The fast
path accepts exactly what ``parse_entry`` accepts; anything it does not
accept goes through :class:`~verifiable.log.entry.ChainVerifier`, which gives the
precise error (tests compare the two on mutated entries).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

from verifiable.errors import MalformedError, RuleViolation, VerificationError
from verifiable.log.bodies import BODY_TYPES, Body, parse_body
from verifiable.log.entry import (
    FORMAT_VERSION,
    GENESIS_PREV,
    MAX_ENTRY_SIZE,
    ChainHead,
    ChainVerifier,
    Entry,
)
from verifiable.log.fields import read_time, sorted_json_text
from verifiable.log.merkle import CompactTree
from verifiable.pool.periods import Ledger, check_conservation
from verifiable.pool.state import OverrideRecord, PoolState
from verifiable.pool.verifier_page import PagePublication

if TYPE_CHECKING:
    from verifiable.pool.log_index import LogIndex

__all__ = [
    "POOL_ENTRY_TYPES",
    "RULEBOOK_TYPE",
    "PoolSummary",
    "ReplayResult",
    "Replayer",
    "decode_entry",
    "replay",
    "require_rulebook",
]

_sha256 = hashlib.sha256


def _refuse(literal: str) -> NoReturn:
    raise MalformedError(f"{literal} is not allowed in entries")


# The decoder's C scanner: one JSON value from a position, without the
# Python-level wrapper of JSONDecoder.decode (the caller checks the end).
_JSON = json.JSONDecoder(parse_float=_refuse, parse_constant=_refuse)
_scan_json: Callable[[str, int], tuple[object, int]] = _JSON.scan_once  # type: ignore[attr-defined]


class _FastDecoder:
    """``parse_entry`` for the well-formed entries of a log read in order,
    faster; ``None`` for anything it does not accept (the caller then asks
    ``parse_entry`` why).  Error paths here need no messages: every refusal
    is re-decoded by ``parse_entry``."""

    __slots__ = ("_time", "_time_text")

    def __init__(self) -> None:
        # Entries appended together share their time: keep the last one read.
        self._time_text = ""
        self._time: datetime | None = None

    def decode(self, data: bytes, seq: int, prev: bytes) -> tuple[datetime, Body] | None:
        """The time and body of entry ``seq`` (whose ``prev`` must be
        ``prev``; its other envelope fields follow), or ``None``."""
        if len(data) > MAX_ENTRY_SIZE:
            return None
        try:
            text = data.decode("utf-8")
            obj, end = _scan_json(text, 0)
            # Six keys, each read by name below: exactly the envelope's.
            if end != len(text) or type(obj) is not dict or len(obj) != 6:
                return None
            if sorted_json_text(obj) != text:  # text is data, decoded
                return None
            v, s = obj["v"], obj["seq"]
            if type(v) is not int or v != FORMAT_VERSION or type(s) is not int or s != seq:
                return None
            if obj["prev"] != prev.hex():
                return None
            type_ = obj["type"]
            if type(type_) is not str or type_ not in BODY_TYPES:
                return None
            stamp = obj["time"]
            if stamp == self._time_text and self._time is not None:
                time = self._time
            else:
                time = read_time(stamp, "time")
                self._time_text, self._time = stamp, time
            body = parse_body(type_, obj["body"], "body")
        except (MalformedError, ValueError, KeyError, RecursionError, StopIteration):
            # ValueError covers JSONDecodeError and UnicodeError; the scanner
            # raises StopIteration where no JSON value starts; KeyError is a
            # missing envelope field.
            return None
        return time, body


def decode_entry(data: bytes, seq: int, prev: bytes) -> Entry:
    """Decode entry ``seq`` whose ``prev`` must be ``prev``: exactly
    ``parse_entry(data, seq=seq, prev=prev)``, faster for well-formed entries."""
    parts = _FastDecoder().decode(data, seq, prev)
    if parts is None:
        return ChainVerifier(ChainHead(seq, prev)).feed(data)
    time, body = parts
    return Entry(v=FORMAT_VERSION, seq=seq, prev=prev, time=time, type=body.TYPE, body=body)


@dataclass(frozen=True)
class PoolSummary:
    """The headline figures of a replayed pool."""

    entries: int
    members: int
    members_left: int
    jurors: int
    claims: int
    claims_by_stage: tuple[tuple[str, int], ...]
    periods_closed: int
    ledger: Ledger
    overrides: tuple[OverrideRecord, ...]
    verifier_page: PagePublication | None = None
    """The verifier page's hash in force: the last ``verifier.published``."""


@dataclass(frozen=True)
class ReplayResult:
    """What a replay ends with: the state, where the chain ends, the log's
    root hash, and a summary."""

    state: PoolState
    head: ChainHead
    root: bytes
    summary: PoolSummary


def summarize(state: PoolState) -> PoolSummary:
    """A :class:`PoolSummary` of ``state``."""
    stages = Counter(c.stage.value for c in state.claims())
    return PoolSummary(
        entries=state.size,
        members=state.member_count,
        members_left=len(state.members.gone),
        jurors=state.juror_count,
        claims=sum(stages.values()),
        claims_by_stage=tuple(sorted(stages.items())),
        periods_closed=len(state.closed_periods),
        ledger=state.ledger,
        overrides=tuple(state.overrides),
        verifier_page=state.pages.latest,
    )


class Replayer:
    """Checks and applies entries one at a time, in log order.

    A server keeps one beside its log: it builds the next entry with
    :func:`verifiable.log.entry.make_entry` at ``seq = size`` and ``prev = head``,
    calls :meth:`feed`, and appends the entry only if ``feed`` returns.  If
    the append then fails, the replayer is ahead of the log and must be
    rebuilt from it.

    ``check_seeds=False`` takes each panel's ``seed`` field as given instead
    of checking it against the log's root (the draw from it is still checked);
    it is for tests that edit a history and re-chain it.
    """

    __slots__ = ("_decoder", "_head", "_range", "_root_at", "_size", "index", "state")

    def __init__(self, *, check_seeds: bool = True) -> None:
        self._decoder = _FastDecoder()
        self._head = GENESIS_PREV
        self._size = 0
        # The compact range of the log's Merkle tree: the hashes of
        # merkle.root_subtrees(size), as CompactTree keeps them.
        self._range: list[bytes] = []
        self._root_at = self.root_at if check_seeds else None
        self.state = PoolState()
        # The log's index, fed each entry the state accepts, when a server
        # keeps one beside its state (:mod:`verifiable.pool.log_index`).
        self.index: LogIndex | None = None

    @classmethod
    def taken_up(
        cls, state: PoolState, head: ChainHead, compact_range: Sequence[bytes]
    ) -> Replayer:
        """A replayer going on from ``state``, which reflects the log's first
        ``head.size`` entries, whose Merkle tree's compact range is
        ``compact_range`` (the hashes of ``merkle.root_subtrees(head.size)``)."""
        if state.size != head.size:
            raise VerificationError(
                f"replay: a state at size {state.size} taken up at size {head.size}"
            )
        replayer = cls()
        replayer.state = state
        replayer._head, replayer._size = head.head, head.size
        replayer._range = list(compact_range)
        return replayer

    @property
    def size(self) -> int:
        """Entries accepted so far: the ``seq`` of the next one."""
        return self._size

    @property
    def compact_range(self) -> tuple[bytes, ...]:
        """The hashes of ``merkle.root_subtrees(size)``, as a store keeps them."""
        return tuple(self._range)

    @property
    def head(self) -> ChainHead:
        """Where the chain ends: the next entry's ``prev`` is ``head.head``."""
        return ChainHead(self._size, self._head)

    def tree(self) -> CompactTree:
        """The log's Merkle tree so far, as a :class:`CompactTree`."""
        return CompactTree.from_compact_range(self._size, self._range)

    def root(self) -> bytes:
        """The RFC 9162 root hash of the log accepted so far."""
        return self.tree().root()

    def root_at(self, size: int) -> bytes:
        """The root hash at ``size``, which must be the current size: the only
        one :meth:`PoolState.apply` asks for."""
        if size != self._size:
            raise VerificationError(
                f"replay: the root at size {size} is asked for at size {self._size}"
            )
        return self.root()

    def feed(self, data: bytes | Entry) -> Entry:
        """Check the next entry (its bytes, or a decoded entry, which is
        re-encoded) and accept it; on any error nothing changes."""
        raw = data.to_bytes() if isinstance(data, Entry) else data
        seq, prev = self._size, self._head
        parts = self._decoder.decode(raw, seq, prev)
        if parts is None:
            entry = ChainVerifier(ChainHead(seq, prev)).feed(raw)
        else:
            time, body = parts
            entry = Entry(FORMAT_VERSION, seq, prev, time, body.TYPE, body)
        self._accept(raw, seq, entry.time, entry.body)
        return entry

    def feed_bytes(self, raw: bytes, leaf: bytes | None = None) -> None:
        """:meth:`feed` for an entry's bytes, without building its
        :class:`Entry`: the hot loop of :func:`replay` and of an audit (the
        same steps as :meth:`_accept`, inline).  ``leaf`` is the entry's leaf
        hash, ``SHA-256(0x00 || raw)``, when the caller has already computed
        it (an audit, checking the entry against its tile), so that it is
        not computed twice."""
        seq, prev = self._size, self._head
        parts = self._decoder.decode(raw, seq, prev)
        if parts is None:
            entry = ChainVerifier(ChainHead(seq, prev)).feed(raw)
            parts = entry.time, entry.body
        self.state.apply_body(seq, parts[0], parts[1], self._root_at)
        if self.index is not None:
            self.index.feed_body(seq, parts[0], parts[1].TYPE, parts[1])
        if leaf is None:
            leaf = _sha256(b"\x00" + raw).digest()
        self._head = leaf
        stack, h, index = self._range, leaf, seq
        while index & 1:
            h = _sha256(b"\x01" + stack.pop() + h).digest()
            index >>= 1
        stack.append(h)
        self._size = seq + 1

    def _accept(self, raw: bytes, seq: int, time: datetime, body: Body) -> None:
        self.state.apply_body(seq, time, body, self._root_at)
        if self.index is not None:
            self.index.feed_body(seq, time, body.TYPE, body)
        leaf = self._head = _sha256(b"\x00" + raw).digest()
        # CompactTree.append without its report of finished subtrees: each
        # trailing 1 bit of the old size merges the new subtree with the last.
        stack, h, index = self._range, leaf, seq
        while index & 1:
            h = _sha256(b"\x01" + stack.pop() + h).digest()
            index >>= 1
        stack.append(h)
        self._size = seq + 1

    def result(self) -> ReplayResult:
        """The state so far, with the money identity checked."""
        summary = summarize(self.state)
        check_conservation(summary.ledger)
        return ReplayResult(self.state, self.head, self.root(), summary)


RULEBOOK_TYPE = "pool.rules"

POOL_ENTRY_TYPES: frozenset[str] = frozenset(BODY_TYPES)
"""The entry types that make a log a pool's.  Every type of format v1 is a
pool's: an entry of any of them only means something under a rulebook.  A
format that grows a type of the log itself (with no pool meaning) leaves it
out of this set."""


def require_rulebook(seq: int, type: str, *, pool: bool) -> None:
    """Refuse, ``rules.genesis``, an entry that shows a pool's log not
    beginning with its rulebook.

    The caller calls it for each entry of a log whose entry 0 is not
    ``pool.rules`` (and for entry 0 itself: ``type`` is then that entry's
    type), ``pool`` saying whether the log is known to be a pool's (pinned as
    one).  A pool's log must never check as a log of bare entries: an
    operator who drops, moves or replaces the rulebook and re-signs would
    otherwise have every rule skipped.
    """
    if type == RULEBOOK_TYPE and seq == 0:
        return
    if pool or type in POOL_ENTRY_TYPES:
        why = "the log is pinned as a pool's" if pool else f"it holds a {type} entry"
        raise RuleViolation(
            "rules.genesis",
            f"a pool's log begins with its rulebook ({why})",
            seq=seq,
            expected="pool.rules at entry 0",
            actual=f"{type} at entry {seq}" if seq else type,
        )


def replay(entries: Iterable[bytes | Entry], *, check_seeds: bool = True) -> ReplayResult:
    """Replay a whole log from its first entry.

    Raises :class:`~verifiable.errors.MalformedError` for an entry that does
    not decode, :class:`~verifiable.errors.VerificationError` for a broken
    chain, and :class:`~verifiable.errors.RuleViolation` for a broken rule.
    """
    replayer = Replayer(check_seeds=check_seeds)
    feed, feed_bytes = replayer.feed, replayer.feed_bytes
    for data in entries:
        if isinstance(data, bytes):
            feed_bytes(data)
        else:
            feed(data)
    return replayer.result()
