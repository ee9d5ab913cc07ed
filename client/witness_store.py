"""The witness's state: one SQLite database, ``witness.sqlite`` in the state
folder, shared by ``witness serve`` (every worker process) and ``witness
cosign``.

Two tables.  ``cosigned`` holds, per log and per witness key, the last
checkpoint that key cosigned.  ``evidence`` keeps what the witness refused
although it came signed: a checkpoint that forks from the one held, one
whose consistency proof fails, one whose signature fails (those last are
kept only up to :data:`MAX_UNSIGNED_EVIDENCE` a log, the newest, since
anyone can send them).

C2SP tlog-witness requires that the old-size check and the update be one
atomic step, or two requests could roll the log back.  :meth:`WitnessStore.advance`
is that step: ``BEGIN IMMEDIATE`` takes SQLite's write lock before the
held checkpoint is read, the caller's check runs, and the new checkpoint
is written and committed (the write-ahead log synced: ``synchronous=FULL``)
before the answer goes out.  A second process waits on the lock
(``busy_timeout``) and then reads what the first wrote.  An fsync costs
milliseconds, so the requests one process holds at once share a commit
(group commit), each still checked against the one before it.

The files ``logs/<origin>/witness/<key>.checkpoint`` that ``witness cosign``
kept before this store existed are migrated: the first time a key's log is
advanced with no row, the file's checkpoint becomes its row, and the file is
no longer read.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from client.state import StateDir
from client.witness_request import Held, Refusal
from verifiable.errors import MutualogError
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.note import Note

__all__ = [
    "MAX_UNSIGNED_EVIDENCE",
    "STORE_FILE",
    "Evidence",
    "Legacy",
    "WitnessStore",
    "WitnessStoreError",
    "witness_id",
]

STORE_FILE = "witness.sqlite"
MAX_UNSIGNED_EVIDENCE = 1000

_BUSY_TIMEOUT_MS = 60_000

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS cosigned (
        origin TEXT NOT NULL,
        witness TEXT NOT NULL,
        size INTEGER NOT NULL,
        root BLOB NOT NULL,
        note BLOB NOT NULL,
        timestamp INTEGER NOT NULL,
        PRIMARY KEY (origin, witness)
    )""",
    """CREATE TABLE IF NOT EXISTS evidence (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        origin TEXT NOT NULL,
        witness TEXT NOT NULL,
        received INTEGER NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL,
        held_size INTEGER,
        held_note BLOB,
        submitted BLOB NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS evidence_by_log ON evidence (origin, kind, id)",
)

T = TypeVar("T")

Legacy = Callable[[str, str, int], bytes | None]
"""Reads a checkpoint a witness key cosigned before the store existed:
``(origin, key name, key ID) -> note or None``."""


class WitnessStoreError(MutualogError):
    """The witness's database cannot be opened, read or written."""


@dataclass(frozen=True)
class Evidence:
    """One refused checkpoint, as kept."""

    id: int
    origin: str
    witness: str
    received: int
    kind: str
    detail: str
    held_size: int | None
    held_note: bytes | None
    submitted: bytes


@dataclass
class _Step:
    """One call of :meth:`WitnessStore.advance`, waiting for its commit."""

    origin: str
    witness: str
    decide: Callable[[Held | None], tuple[Held | None, Any]]
    received: int
    submitted: bytes
    done: bool = False
    result: Any = None
    error: BaseException | None = None


def witness_id(name: str, key_id: int) -> str:
    return f"{name}+{key_id:08x}"


class WitnessStore:
    """The database at ``path``; one connection per thread, opened on first use."""

    def __init__(self, path: Path, legacy: Legacy | None = None) -> None:
        self.path = path
        self._legacy = legacy
        self._local = threading.local()
        self._queue: list[_Step] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()
        self._lock_fd: int | None = None

    @classmethod
    def of(cls, state: StateDir) -> WitnessStore:
        return cls(state.root / STORE_FILE, state.load_cosigned)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            return db
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # isolation_level=None: transactions are begun here, by hand, so
            # that the write lock is taken before the first read.
            db = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000)
            db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute("COMMIT")
        except sqlite3.Error as e:
            raise WitnessStoreError(f"{self.path}: cannot open the witness database: {e}") from e
        self._local.db = db
        return db

    @contextlib.contextmanager
    def _writer(self) -> Iterator[None]:
        """The processes' turn to write, by ``flock`` on ``witness.sqlite.lock``.

        SQLite's own lock would do, but a process waiting on it polls,
        sleeping up to 100 ms between tries; a process waiting on ``flock``
        wakes as soon as the lock is free.  Threads of one process take
        their turn through ``_leader`` first (``flock`` does not tell them
        apart), and the file is opened after any fork, so no two
        processes share it."""
        if self._lock_fd is None:
            lock = self.path.with_name(self.path.name + ".lock")
            try:
                self._lock_fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as e:
                raise WitnessStoreError(f"{lock}: cannot open: {e.strerror or e}") from e
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close this thread's connection and the lock file."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- the held checkpoint -------------------------------------------------

    def held(self, origin: str, witness: str) -> Held | None:
        """The last checkpoint ``witness`` cosigned for ``origin`` (no lock)."""
        try:
            row = (
                self._db()
                .execute(
                    "SELECT size, root, note, timestamp FROM cosigned "
                    "WHERE origin = ? AND witness = ?",
                    (origin, witness),
                )
                .fetchone()
            )
        except sqlite3.Error as e:
            raise WitnessStoreError(f"{self.path}: cannot read: {e}") from e
        return None if row is None else Held(row[0], row[1], row[2], row[3])

    def advance(
        self,
        origin: str,
        witness: str,
        decide: Callable[[Held | None], tuple[Held | None, T]],
        *,
        received: int,
        submitted: bytes,
    ) -> T:
        """Run ``decide`` on the held checkpoint under the write lock; store
        the :class:`Held` it returns (if any) and commit before returning its
        other value.  A :class:`~client.witness_request.Refusal` that names
        evidence is kept as evidence (with ``submitted``, received at
        ``received``) and raised again; whatever else ``decide`` raises is
        raised again, with nothing stored for it.

        Group commit: the threads of one process that call this together
        share one transaction and one fsync.  Each waits for the lock of the
        one committing; the first to get it finding its step not done runs
        every step queued by then, in order, each seeing the ones before
        it.  Nothing is answered before the commit that holds it.
        """
        job = _Step(origin, witness, decide, received, submitted)
        with self._queue_lock:
            self._queue.append(job)
        with self._leader:
            if not job.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                with self._writer():
                    self._commit(batch)
        if job.error is not None:
            raise job.error
        return cast(T, job.result)

    def _commit(self, batch: list[_Step]) -> None:
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            for job in batch:
                self._run(db, job)
            db.execute("COMMIT")
        except (sqlite3.Error, WitnessStoreError) as e:
            self._rollback(db)
            for job in batch:
                job.result = None
                job.error = WitnessStoreError(f"{self.path}: cannot write: {e}")
        finally:
            for job in batch:
                job.done = True

    def _run(self, db: sqlite3.Connection, job: _Step) -> None:
        held = self.held(job.origin, job.witness) or self._migrate(db, job.origin, job.witness)
        try:
            new, job.result = job.decide(held)
        except Refusal as refusal:
            if refusal.evidence:
                why = str(refusal)
                self._insert_evidence(
                    db,
                    job.origin,
                    job.witness,
                    job.received,
                    refusal.evidence,
                    why,
                    held,
                    job.submitted,
                )
            job.error = refusal
            return
        except Exception as e:  # raised again in the thread that asked, as it is
            job.error = e
            return
        if new is not None:
            db.execute(
                "INSERT OR REPLACE INTO cosigned VALUES (?, ?, ?, ?, ?, ?)",
                (job.origin, job.witness, new.size, new.root, new.note, new.timestamp),
            )

    @staticmethod
    def _rollback(db: sqlite3.Connection) -> None:
        # After a COMMIT (a refusal kept as evidence) there is nothing to undo.
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")

    def _migrate(self, db: sqlite3.Connection, origin: str, witness: str) -> Held | None:
        if self._legacy is None:
            return None
        name, _, key_id = witness.rpartition("+")
        note = self._legacy(origin, name, int(key_id, 16))
        if note is None:
            return None
        # The file was written by this witness after its own checks; it is
        # parsed again only to index it.  Its cosignature's time is not kept
        # apart, so the row says 0: "before the store".
        checkpoint = Checkpoint.from_text(Note.from_bytes(note).text)
        held = Held(checkpoint.size, checkpoint.root_hash, note, 0)
        db.execute(
            "INSERT INTO cosigned VALUES (?, ?, ?, ?, ?, ?)",
            (origin, witness, held.size, held.root, held.note, held.timestamp),
        )
        return held

    def cosigned(self) -> list[tuple[str, str, int, int]]:
        """``(origin, witness, size, timestamp)`` of every log held."""
        rows = self._db().execute(
            "SELECT origin, witness, size, timestamp FROM cosigned ORDER BY origin, witness"
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    # -- evidence --------------------------------------------------------------

    def keep_evidence(
        self,
        origin: str,
        witness: str,
        received: int,
        kind: str,
        detail: str,
        submitted: bytes,
    ) -> None:
        """Keep a refused checkpoint beside the one held at that moment."""
        db = self._db()
        with self._leader, self._writer():
            try:
                db.execute("BEGIN IMMEDIATE")
                held = self.held(origin, witness)
                self._insert_evidence(db, origin, witness, received, kind, detail, held, submitted)
                db.execute("COMMIT")
            except sqlite3.Error as e:
                self._rollback(db)
                raise WitnessStoreError(f"{self.path}: cannot keep evidence: {e}") from e

    @staticmethod
    def _insert_evidence(
        db: sqlite3.Connection,
        origin: str,
        witness: str,
        received: int,
        kind: str,
        detail: str,
        held: Held | None,
        submitted: bytes,
    ) -> None:
        db.execute(
            "INSERT INTO evidence (origin, witness, received, kind, detail, held_size, "
            "held_note, submitted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                origin,
                witness,
                received,
                kind,
                detail,
                held.size if held else None,
                held.note if held else None,
                submitted,
            ),
        )
        if kind == "bad-signature":
            # Anyone can send these: keep the newest few, never fill the disk.
            db.execute(
                "DELETE FROM evidence WHERE origin = ? AND kind = ? AND id <= ("
                "SELECT id FROM evidence WHERE origin = ? AND kind = ? "
                "ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (origin, kind, origin, kind, MAX_UNSIGNED_EVIDENCE),
            )

    def evidence(self, origin: str | None = None) -> list[Evidence]:
        query = "SELECT * FROM evidence"
        args: tuple[str, ...] = ()
        if origin is not None:
            query += " WHERE origin = ?"
            args = (origin,)
        try:
            rows = self._db().execute(query + " ORDER BY id", args).fetchall()
        except sqlite3.Error as e:
            raise WitnessStoreError(f"{self.path}: cannot read: {e}") from e
        return [Evidence(*row) for row in rows]
