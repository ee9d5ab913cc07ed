"""The sequencer: the one writer that turns entry bodies into log entries.

An append is one database transaction under the log's write lock
(:func:`server.db.write_transaction`: ``BEGIN IMMEDIATE`` on SQLite,
``pg_advisory_xact_lock`` on PostgreSQL), so any number of processes on any
number of machines may call :meth:`Sequencer.append` and the log still grows
one batch at a time.  Inside it the sequencer

1. reads the head: the latest checkpoint's size, the last entry (its leaf
   hash and time) and the compact range of stored subtree hashes, and runs
   the caller's ``within`` statements, if any (a one-time submission token
   stored under its unique constraint): they commit with the entries or
   not at all, and a refusal there appends nothing;
2. builds each entry with :func:`verifiable.log.entry.make_entry` — ``seq`` the
   next index, ``prev`` the previous leaf hash, ``time`` the clock in whole
   seconds but never before the previous entry's — which is the format check
   every reader applies;
3. runs the ``validate`` hook (the pool's rulebook) on the new entries;
4. extends the RFC 9162 tree from the compact range
   (:class:`verifiable.log.merkle.CompactTree`) and stores the entries and every
   complete subtree they finish;
5. signs a C2SP checkpoint for the new size and stores it;
6. commits; then, when it keeps the log's files in a folder
   (:mod:`server.tilefiles`), has them brought up to the committed log:
   by default it wakes the folder's publisher thread and returns, so the
   append does not wait for the files' fsyncs; ``inline``, it publishes
   before returning.

Everything is in the one transaction, so a failure or a crash at any point
leaves the log exactly as the last commit left it: no entry without its
subtree hashes and checkpoint, no checkpoint ahead of its entries.
docs/storage.md has the full argument.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine

from server.db import write_transaction
from server.storage import (
    LogHead,
    _insert,
    _insert_checkpoint,
    _latest_checkpoint,
    _read_head,
)
from server.tilefiles import TileFiles
from verifiable.errors import MalformedError, MutualogError
from verifiable.log.bodies import BODY_TYPES, Body
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import FORMAT_VERSION, MAX_ENTRY_SIZE, Entry, make_entry
from verifiable.log.note import Ed25519Signer

__all__ = [
    "AppendResult",
    "BatchError",
    "ClockError",
    "EmptyBatchError",
    "EntryTooLargeError",
    "InvalidEntryError",
    "Sequencer",
    "Validator",
    "Within",
]

Validator = Callable[[Sequence[Entry], LogHead], None]
"""The rulebook's hook: given the batch's entries, built and numbered, and
the head of the log before them, return ``None`` to accept or raise (a
:class:`verifiable.errors.RuleViolation`) to refuse the whole batch."""

Within = Callable[[Connection, int], None]
"""The caller's own statements in an append's transaction, given the
connection and the seq the batch's first entry will get; raise to refuse
the batch with nothing written."""


class BatchError(MalformedError):
    """A batch the sequencer refuses before writing anything."""


class EmptyBatchError(BatchError):
    """An append of no entries (it would sign a checkpoint for nothing)."""


class EntryTooLargeError(BatchError):
    """An entry whose encoding exceeds ``MAX_ENTRY_SIZE`` bytes."""


class InvalidEntryError(BatchError):
    """An entry type unknown, or a body that does not match its type's format."""


class ClockError(MutualogError):
    """The clock gave a time without a time zone: a configuration bug."""


@dataclass(frozen=True)
class AppendResult:
    """What an append committed: entries ``first_seq`` to ``size - 1``, and
    the signed checkpoint note of the new ``size``."""

    first_seq: int
    size: int
    checkpoint: bytes


class Sequencer:
    """Appends batches to the log in ``engine``, signing checkpoints for
    ``origin`` with ``signer``.

    ``clock`` returns the current time as an aware ``datetime``.  Holds no
    state between appends — the head is read under the lock every time — so
    any number of sequencers, in any number of processes, may share a log.
    With ``files``, each commit is followed by a publish of the log's files
    (:meth:`server.tilefiles.TileFiles.publish_after_commit`: in the
    background unless ``files`` publishes inline).
    """

    def __init__(
        self,
        engine: Engine,
        signer: Ed25519Signer,
        origin: str,
        clock: Callable[[], datetime],
        validate: Validator | None = None,
        files: TileFiles | None = None,
    ) -> None:
        self._engine = engine
        self._signer = signer
        self._origin = origin
        self._clock = clock
        self._validate = validate
        self._files = files

    def __repr__(self) -> str:
        # The signer's repr hides its seed, but a key has no business in a log
        # line at all; the origin says which log this is.
        return f"Sequencer(origin={self._origin!r})"

    def append(
        self, items: Sequence[tuple[str, Body]], within: Within | None = None
    ) -> AppendResult:
        """Append ``(type, body)`` pairs as one batch, atomically; ``within``
        runs in the same transaction, under the lock, before the entries are
        built.

        Raises :class:`EmptyBatchError`, :class:`InvalidEntryError` or
        :class:`EntryTooLargeError` (with the position in the batch), or
        whatever ``within`` or ``validate`` raises; in every case nothing is
        written.
        """
        if not items:
            raise EmptyBatchError("append: the batch is empty")
        for position, (type_, body) in enumerate(items):
            # Cheap checks before taking the lock; make_entry repeats them.
            if BODY_TYPES.get(type_) is not body.__class__:
                raise InvalidEntryError(
                    f"append: batch item {position}: type {type_!r} does not match body "
                    f"{body.__class__.__name__}"
                )
        with write_transaction(self._engine) as conn:
            head = _read_head(conn)
            if within is not None:
                within(conn, head.size)
            time = self._now(head.time)
            entries, data, leaf_hashes = self._build(items, head, time)
            if self._validate is not None:
                self._validate(entries, head)
            tree = head.tree()
            finished = tree.extend(leaf_hashes)
            _insert(conn, head.size, data, leaf_hashes, finished)
            note = self._sign(tree.size, tree.root())
            _insert_checkpoint(conn, tree.size, note)
        self._publish()
        return AppendResult(first_seq=head.size, size=tree.size, checkpoint=note)

    def ensure_checkpoint(self) -> bytes:
        """The latest checkpoint, signing one for the current size first if
        the log has none yet (a fresh log gets its size-0 checkpoint, so
        ``/checkpoint`` has something to serve before the first append)."""
        with write_transaction(self._engine) as conn:
            head = _read_head(conn)
            existing = _latest_checkpoint(conn)
            if existing is not None:
                return existing
            note = self._sign(head.size, head.tree().root())
            _insert_checkpoint(conn, head.size, note)
        self._publish()
        return note

    def _publish(self) -> None:
        if self._files is not None:
            self._files.publish_after_commit(self._engine)

    def _now(self, previous: datetime | None) -> datetime:
        now = self._clock()
        if now.utcoffset() is None:
            raise ClockError(f"sequencer clock returned {now.isoformat()}, without a time zone")
        now = now.astimezone(UTC).replace(microsecond=0)
        # Entry times never go backwards, whatever the clocks of the machines
        # taking turns as sequencer say.
        return now if previous is None or now >= previous else previous

    def _build(
        self, items: Sequence[tuple[str, Body]], head: LogHead, time: datetime
    ) -> tuple[list[Entry], list[bytes], list[bytes]]:
        """The batch's entries, their bytes and their leaf hashes.  Each leaf
        hash is computed once: it is the next entry's ``prev`` and the tree's
        leaf."""
        entries: list[Entry] = []
        data: list[bytes] = []
        leaf_hashes: list[bytes] = []
        prev = head.leaf_hash
        sha = hashlib.sha256
        seq = head.size
        for position, (type_, body) in enumerate(items):
            try:
                entry = make_entry(seq, prev, time, type_, body)
            except MalformedError as e:
                raise _classify(e, position, seq, prev, time, type_, body) from e
            encoded = entry.to_bytes()
            prev = sha(b"\x00" + encoded).digest()
            entries.append(entry)
            data.append(encoded)
            leaf_hashes.append(prev)
            seq += 1
        return entries, data, leaf_hashes

    def _sign(self, size: int, root: bytes) -> bytes:
        return sign_checkpoint(Checkpoint(self._origin, size, root), self._signer)


def _classify(
    error: MalformedError,
    position: int,
    seq: int,
    prev: bytes,
    time: datetime,
    type_: str,
    body: Body,
) -> BatchError:
    where = f"append: batch item {position} (would be entry {seq})"
    try:
        size = len(Entry(FORMAT_VERSION, seq, prev, time, type_, body).to_bytes())
    except MalformedError:
        size = 0
    if size > MAX_ENTRY_SIZE:
        return EntryTooLargeError(f"{where}: {size} bytes, more than the {MAX_ENTRY_SIZE} allowed")
    return InvalidEntryError(f"{where}: {error}")
