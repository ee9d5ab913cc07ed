"""Loading a log that is made here, not received: a generated pool of
millions of members, written at the speed of the database's bulk path.

:meth:`server.storage.LogStore.load` restores a log whose checkpoint is
already signed, in one transaction, and the sequencer appends in batches of
a thousand under its lock.  A generated log of ten million entries wants
neither: its checkpoint can only be signed once its last entry is known,
and one transaction of gigabytes doubles the writes in SQLite's WAL.  So
:func:`load_generated` streams the entries into an empty database:

- leaf hashes and the complete subtree hashes in one pass through
  :class:`verifiable.log.merkle.CompactTree`, stored with the storage
  layer's own insert (COPY on PostgreSQL, ``executemany`` on SQLite);
- a commit every :data:`COMMIT_EVERY` entries;
- the index on ``entries.leaf_hash`` dropped first and built once at the
  end (a sort, instead of ten million inserts at random places in a B-tree
  larger than the cache);
- the checkpoint signed for the final size and root, in the last
  transaction, with the index.

Until that last commit the database holds entries past its latest
checkpoint (none), which the sequencer and :class:`LogStore` refuse as a
:class:`~server.storage.StoredLogError`: an interrupted load is never
served; delete the database and run it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select, text

from server.db import write_transaction
from server.storage import (
    LoadError,
    LogNotEmptyError,
    _chunks,
    _entries,
    _insert,
    _insert_checkpoint,
    _latest_checkpoint,
)
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import MAX_ENTRY_SIZE
from verifiable.log.merkle import CompactTree
from verifiable.log.note import Ed25519Signer

__all__ = ["COMMIT_EVERY", "LoadedLog", "load_generated"]

#: Entries per transaction.
COMMIT_EVERY = 500_000
#: Entries per insert batch inside a transaction.
_CHUNK = 20_000

_DROP_INDEX = "DROP INDEX ix_entries_leaf_hash"
_CREATE_INDEX = "CREATE INDEX ix_entries_leaf_hash ON entries (leaf_hash)"


def _check_empty(conn: Connection) -> None:
    has_entry = conn.execute(select(_entries.c.seq).limit(1)).first() is not None
    if has_entry or _latest_checkpoint(conn) is not None:
        raise LogNotEmptyError(
            "generate: the database already holds a log; generate only into an empty one"
        )


@dataclass(frozen=True)
class LoadedLog:
    """What :func:`load_generated` stored: the size, root and signed note."""

    size: int
    root_hash: bytes
    checkpoint_note: bytes


def load_generated(
    engine: Engine,
    entries: Iterable[bytes],
    signer: Ed25519Signer,
    origin: str,
    progress: Callable[[int], None] | None = None,
) -> LoadedLog:
    """Store ``entries`` (a whole log, genesis first, chained) into the empty
    log of ``engine`` and sign its checkpoint for ``origin``.

    The entries are trusted to chain (they come from a generator whose
    output the tests replay); their sizes are checked, as every load does.
    ``progress(n)`` is called after each commit with the entries stored so
    far.  Raises :class:`LogNotEmptyError` if the database holds a log.
    """
    tree = CompactTree()
    sha = hashlib.sha256
    batches = _chunks(entries, _CHUNK)
    more, first = True, True
    while more:
        with write_transaction(engine) as conn:
            if first:
                _check_empty(conn)
                conn.execute(text(_DROP_INDEX))
                first = False
            stop = tree.size + COMMIT_EVERY
            while tree.size < stop:
                chunk = next(batches, None)
                if chunk is None:
                    more = False
                    break
                seq = tree.size
                for i, data in enumerate(chunk):
                    if len(data) > MAX_ENTRY_SIZE:
                        raise LoadError(
                            f"generate: entry {seq + i} is {len(data)} bytes, "
                            f"more than the {MAX_ENTRY_SIZE} allowed"
                        )
                leaf_hashes = [sha(b"\x00" + data).digest() for data in chunk]
                _insert(conn, seq, chunk, leaf_hashes, tree.extend(leaf_hashes))
            if not more:
                if tree.size == 0:
                    raise LoadError("generate: no entries offered")
                root = tree.root()
                note = sign_checkpoint(Checkpoint(origin, tree.size, root), signer)
                conn.execute(text(_CREATE_INDEX))
                _insert_checkpoint(conn, tree.size, note)
        if progress is not None:
            progress(tree.size)
    return LoadedLog(tree.size, root, note)
