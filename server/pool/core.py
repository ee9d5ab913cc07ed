"""The rulebook kept in step with the stored log, and the one way the pool
appends.

:class:`PoolCore` holds a :class:`verifiable.pool.replay.Replayer` beside the
log, its state in the database (:mod:`server.pool.state_store`): a process
takes it up by reading the state's head row, not by replaying, and takes it
up again whenever the log has grown, whichever process appended.

The replayer is also the sequencer's ``validate`` hook: under the log's write
lock, on the append's connection, the hook takes the state up at the head it
was given and feeds it the candidate entries, so an entry that breaks a rule
raises :class:`~verifiable.errors.RuleViolation` and the whole batch is
refused with nothing written; the records the entries change and the head
row are written in the append's transaction, and commit with the entries or
not at all.  If an append fails after the hook accepted part of a batch,
the replayer is ahead of the log and is taken up again on next use.

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
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from server.db import read_connection
from server.log_index import stored_index
from server.pool.errors import PoolInputError, PoolRefusedError, PoolUnavailableError
from server.pool.state_store import (
    DbStateStore,
    catch_up,
    feed_stored,
    other_form_stored,
    read_state_head,
    take_up,
    write_state_head,
)
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
        self.states = DbStateStore(engine)
        # The connection of the append under way in this thread, for the
        # state's reads and writes in the validate hook.
        self._appending = threading.local()
        self.sequencer = _StateSequencer(
            self._appending,
            self._failed,
            engine,
            signer,
            signer.name,
            self._append_clock,
            validate=self._validate,
            files=files,
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

    def _take_up(self, target: int) -> Replayer:
        """The stored state at ``target`` entries or later; inside an
        append, exactly at ``target``, on the append's connection."""
        conn: Connection | None = getattr(self._appending, "conn", None)
        if conn is None:
            with read_connection(self.engine) as c:
                head = read_state_head(c)
            if head is not None and head.size >= target:
                return take_up(self.states, head)
            # The log grew without its state (a load, an older instance).
            return catch_up(self.engine, self.states)
        if other_form_stored(conn):
            # Rebuilt outside any append (the next read does it): never fed
            # from entry 0 over the records of another form.
            raise StoredLogError(
                "pool: the stored state is of another form: it is rebuilt on the next read, "
                "or by mutualog-server state rebuild"
            )
        with self.states.bound(conn):
            replayer = take_up(self.states, read_state_head(conn))
            if replayer.size > target:
                raise StoredLogError(
                    f"pool: the stored state reflects {replayer.size} entries, the log "
                    f"{target}: rebuild it (mutualog-server state rebuild)"
                )
            feed_stored(self.engine, conn, replayer, target)
        return replayer

    def synced(self, size: int | None = None) -> Replayer:
        """The replayer at ``size`` entries (default: the stored log's size)
        or later; :class:`PoolUnavailableError` if they do not replay."""
        with self.lock:
            replayer = self._replayer
            target = self.store.size() if size is None else size
            if replayer is not None and replayer.size == target:
                return replayer
            self._replayer = None  # until taken up: a failure takes it up again
            try:
                replayer = self._take_up(target)
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
        conn: Connection | None = getattr(self._appending, "conn", None)
        assert conn is not None, "the state's sequencer hands the hook its connection"
        with self.lock:
            stored = read_state_head(conn)
            if self._replayer is not None and (
                stored is None or stored.size != self._replayer.size
            ):
                # The stored state is not the one held here (a rebuild wrote
                # it at an older size and has not caught up yet): take it up.
                self._replayer = None
            replayer = self.synced(head.size)
            with self.states.bound(conn):
                for entry in entries:
                    replayer.feed(entry)
                write_state_head(conn, replayer)

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
            self._pinned = at
            try:
                return self.sequencer.append(items, within)
            finally:
                self._pinned = None

    def _failed(self) -> None:
        """An append failed: a replayer fed its entries is ahead of the log
        (its records were rolled back with the transaction)."""
        with self.lock:
            self._replayer = None

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


class _StateSequencer(Sequencer):
    """The pool's sequencer: an append hands its connection to the state
    (through ``appending``, one per thread) before the validate hook runs, so
    the state is read and written in the append's own transaction."""

    def __init__(
        self,
        appending: threading.local,
        failed: Callable[[], None],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._appending = appending
        self._failed = failed

    def append(
        self, items: Sequence[tuple[str, Body]], within: Within | None = None
    ) -> AppendResult:
        appending = self._appending

        def inside(conn: Connection, seq: int) -> None:
            appending.conn = conn
            if within is not None:
                within(conn, seq)

        try:
            return super().append(items, inside)
        except BaseException:
            self._failed()
            raise
        finally:
            appending.conn = None
