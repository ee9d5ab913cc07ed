"""The rulebook kept in step with the stored log, and the one way the pool
appends.

:class:`PoolCore` holds a :class:`verifiable.pool.replay.Replayer` beside the
log.  It is built by replaying the stored entries the first time it is used
(once per process) and catches up from the last ``seq`` it saw whenever the
log has grown, whichever process appended.

The replayer is also the sequencer's ``validate`` hook: under the log's write
lock the hook catches the replayer up to the head it was given and feeds it
the candidate entries, so an entry that breaks a rule raises
:class:`~verifiable.errors.RuleViolation` and the whole batch is refused with
nothing written.  If an append fails after the hook accepted part of a batch,
the replayer is ahead of the log and is rebuilt on next use.

Each operation of the rooms (:mod:`server.pool`) reads what it needs from the
state, fixes the entry's time with :meth:`PoolCore.now` (the sequencer is
given exactly that time, so a body that depends on it — a panel's window, an
objection window — matches its entry), and appends with
:meth:`PoolCore.append`, all under :attr:`PoolCore.lock`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine

from server.log_index import CATCH_UP_CHUNK, stored_index
from server.pool.errors import PoolInputError, PoolRefusedError, PoolUnavailableError
from server.sequencer import AppendResult, Sequencer, Within
from server.storage import LogHead, LogStore, StoredLogError
from server.tilefiles import TileFiles
from verifiable.errors import MalformedError, MutualogError
from verifiable.log.bodies import Body, parse_body
from verifiable.log.entry import Entry, parse_entry
from verifiable.log.note import Ed25519Signer
from verifiable.pool.log_index import ClaimRecord
from verifiable.pool.replay import Replayer
from verifiable.pool.state import ClaimView, PoolState

__all__ = ["BodyT", "PoolCore", "checked", "require", "whole_seconds"]

BodyT = TypeVar("BodyT", bound=Body)


def whole_seconds(at: datetime) -> datetime:
    """``at`` in UTC to the second: an entry's time has no fraction."""
    return at.astimezone(UTC).replace(microsecond=0)


class PoolCore:
    """The log in ``engine``, signed by ``signer``, with the rulebook replayed
    beside it.

    ``clock`` returns the current aware time.  Safe to share between the
    threads of one process; several processes may each have one.  The rooms
    hold :attr:`lock` (re-entrant) from reading the state to appending.
    """

    def __init__(
        self,
        engine: Engine,
        signer: Ed25519Signer,
        clock: Callable[[], datetime],
        identity_key: Callable[[], bytes] | None = None,
        files: TileFiles | None = None,
    ) -> None:
        self.engine = engine
        self.store = LogStore(engine)
        self._identity_key = identity_key
        self.lock = threading.RLock()
        self._clock = clock
        self._replayer: Replayer | None = None
        self._pinned: datetime | None = None
        self._fed = 0
        self.sequencer = Sequencer(
            engine, signer, signer.name, self._append_clock, validate=self._validate, files=files
        )

    def identity_key(self) -> bytes:
        """The key of the ID numbers' hash (:mod:`server.private.identity_key`);
        a pool built without one takes no members."""
        if self._identity_key is None:
            raise PoolUnavailableError("this pool has no identity key: it cannot take members")
        try:
            return self._identity_key()
        except MutualogError as e:
            # A key file that cannot be made or read is the deployment's
            # fault, not the member's: 503 with the reason, never a refusal.
            raise PoolUnavailableError(f"the pool cannot take members: {e}") from e

    def _append_clock(self) -> datetime:
        return self._pinned if self._pinned is not None else self._clock()

    def _catch_up(self, replayer: Replayer, size: int) -> None:
        while replayer.size < size:
            start = replayer.size
            chunk = self.store.entries(start, min(size, start + CATCH_UP_CHUNK))
            if not chunk:
                raise StoredLogError(f"pool: the stored log has no entry {start} below size {size}")
            for data in chunk:
                replayer.feed_bytes(data)

    def synced(self, size: int | None = None) -> Replayer:
        """The replayer caught up to ``size`` entries (default: the stored
        log's size); :class:`PoolUnavailableError` if they do not replay."""
        with self.lock:
            replayer = self._replayer
            target = self.store.size() if size is None else size
            if replayer is None or replayer.size > target:
                replayer = Replayer()
            self._replayer = None  # until caught up: a failure rebuilds
            try:
                self._catch_up(replayer, target)
            except MutualogError as e:
                # What is stored breaks the rules or cannot be read: no page
                # of the pool can be trusted, so none is served (503, not 500).
                raise PoolUnavailableError(
                    f"the stored log does not replay under the pool's rules: {e}"
                ) from e
            self._replayer = replayer
            return replayer

    def state(self) -> PoolState:
        """The pool's state after every entry stored so far."""
        return self.synced().state

    def _validate(self, entries: Sequence[Entry], head: LogHead) -> None:
        # Runs under the log's write lock: head is the committed log.
        with self.lock:
            replayer = self.synced(head.size)
            for entry in entries:
                replayer.feed(entry)
                self._fed += 1

    def now(self, state: PoolState) -> datetime:
        """The time the next entry gets: now, in whole seconds, never before
        the last entry of ``state``."""
        now = whole_seconds(self._clock())
        last = state.time
        return now if last is None or now >= last else last

    def append(
        self, items: Sequence[tuple[str, Body]], at: datetime, within: Within | None = None
    ) -> AppendResult:
        """Append ``items`` at time ``at`` through the sequencer, the rulebook
        checking each; ``within`` runs in the append's transaction
        (:meth:`server.sequencer.Sequencer.append`)."""
        with self.lock:
            self._pinned, self._fed = at, 0
            try:
                result = self.sequencer.append(items, within)
            except BaseException:
                if self._fed:
                    self._replayer = None  # ahead of the log: rebuild on next use
                raise
            finally:
                self._pinned, self._fed = None, 0
            return result

    def one(self, body: Body, at: datetime, within: Within | None = None) -> int:
        """Append one entry; its seq."""
        return self.append([(body.TYPE, body)], at, within).first_seq

    def body(self, seq: int, kind: type[BodyT]) -> BodyT:
        """The body of the stored entry ``seq``, which must be a ``kind``."""
        data = self.store.entry(seq)
        if data is None:
            raise StoredLogError(f"pool: the stored log has no entry {seq}")
        body = parse_entry(data, seq=seq).body
        if not isinstance(body, kind):
            raise StoredLogError(f"pool: entry {seq} is {body.TYPE}, not {kind.TYPE}")
        return body

    def record(self, claim_id: str) -> ClaimRecord | None:
        """Where the claim's entries are in the log: the texts the rulebook's
        state does not keep (its notice, the answers) are read from there.
        The log's one index, shared with the public pages and the bundles."""
        with stored_index(self.engine).at() as index:
            return index.claims.get(claim_id)


def require(state: PoolState, claim_id: str) -> ClaimView:
    """The claim ``claim_id`` of ``state``, else a refusal."""
    view = state.claim(claim_id)
    if view is None:
        raise PoolRefusedError(f"there is no claim {claim_id}", "claim.unknown", claim=claim_id)
    return view


def checked(body: BodyT, what: str) -> BodyT:
    """``body`` if every field is one the log accepts, else a refusal that
    names the field (``notice.text: expected a text of 1 to 2000 ...``)."""
    try:
        parse_body(body.TYPE, body.to_json(), what)
    except MalformedError as e:
        raise PoolInputError(str(e), "input.malformed", detail=str(e)) from e
    return body
