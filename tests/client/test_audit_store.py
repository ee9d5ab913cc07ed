"""The audit's pool state in SQLite (``client.audit_store``): the same answers
as the in-memory store through marks, saves and an emptied cache, and a
saved file that was changed is never taken up."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from client.audit_store import (
    PAGE_SIZE,
    SavedPoint,
    SqliteStore,
    load,
    open_fresh,
    saved_position,
)
from client.state import AuditProgress
from verifiable.pool.store import Codec, Kind, MemoryStore
from verifiable.pool.store_codecs import FLAG, TEXT

WORDS: Kind[str] = Kind("word", TEXT)
MARKS: Kind[bool] = Kind("mark", FLAG)
LISTS: Kind[list[int]] = Kind(
    "list",
    Codec(lambda v: ",".join(map(str, v)).encode(), lambda b: [int(x) for x in b.split(b",")]),
)
KINDS: list[Kind[Any]] = [WORDS, MARKS, LISTS]


def _point(position: int = 512, head: bytes = b'{"head":1}') -> SavedPoint:
    progress = AuditProgress(b"note\n", position, bytes(range(32)), (bytes(32), bytes(32)), True)
    return SavedPoint(progress, head)


def _same(store: SqliteStore, memory: MemoryStore, keys: list[str]) -> None:
    for kind in KINDS:
        assert store.count(kind) == memory.count(kind), kind
        assert list(store.scan(kind)) == list(memory.scan(kind)), kind
        for key in keys:
            assert store.get(kind, key) == memory.get(kind, key), (kind, key)
            assert store.has(kind, key) == memory.has(kind, key), (kind, key)


def _change(
    rng: random.Random, memory: MemoryStore, keys: list[str]
) -> tuple[list[Any], dict[str, int]]:
    changes: list[Any] = []
    counts: dict[str, int] = {}
    for _ in range(rng.randrange(1, 6)):
        kind, key = rng.choice(KINDS), rng.choice(keys)
        if any(c[0] is kind and c[1] == key for c in changes):
            continue
        value: Any = None
        if rng.random() < 0.7:
            value = {"word": f"w{rng.randrange(99)}", "mark": True, "list": [rng.randrange(9)]}[
                kind.name
            ]
        delta = (value is not None) - memory.has(kind, key)
        if delta:
            counts[kind.name] = counts.get(kind.name, 0) + delta
        changes.append((kind, key, value))
    return changes, counts


@pytest.mark.parametrize("cache", [4, 1000], ids=["small-cache", "all-cached"])
def test_the_store_answers_as_the_memory_store_does(tmp_path: Path, cache: int) -> None:
    rng = random.Random(cache)
    path = tmp_path / "state.sqlite"
    store, memory = open_fresh(path, cache), MemoryStore()
    saved = MemoryStore()
    keys = [f"k{i:03d}" for i in range(40)]
    for step in range(400):
        changes, counts = _change(rng, memory, keys)
        store.write(changes, counts)
        memory.write(changes, counts)
        if step % 7 == 0:
            store.mark(_point(256 * (step + 1)))
            marked = MemoryStore()
            for kind in KINDS:
                marked.write([(kind, k, v) for k, v in memory.scan(kind)], {})
        if step % 23 == 0 and store.save() is not None:
            saved = marked
        if step % 10 == 0:
            _same(store, memory, keys)
    _same(store, memory, keys)
    store.close()
    # What was saved is the state at the last saved mark, whole.
    loaded = load(path, cache)
    assert not isinstance(loaded, str)
    again, point = loaded
    assert saved_position(path) == point.progress.position
    _same(again, saved, keys)
    again.close()


def _saved_file(tmp_path: Path) -> Path:
    path = tmp_path / "state.sqlite"
    store = open_fresh(path)
    store.write(
        [(WORDS, "a", "alpha"), (WORDS, "b", "beta"), (MARKS, "a", True), (LISTS, "x", [1, 2])],
        {"word": 2, "mark": 1, "list": 1},
    )
    store.mark(_point())
    assert store.save() == _point()
    store.close()
    return path


def test_a_saved_file_loads(tmp_path: Path) -> None:
    loaded = load(_saved_file(tmp_path))
    assert not isinstance(loaded, str)
    store, point = loaded
    assert point == _point()
    assert store.get(WORDS, "b") == "beta" and store.count(WORDS) == 2 and store.records == 4
    store.close()


def _sql(statement: str) -> Any:
    def change(path: Path) -> None:
        with sqlite3.connect(path) as conn:
            conn.execute(statement)
        conn.close()

    return change


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(b"alpha")
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_flip, "does not match its checksum"),
        (_sql("UPDATE records SET value = X'6265746121' WHERE key = 'b'"), "its checksum"),
        (_sql("DELETE FROM records WHERE kind = 'mark'"), "counts differ"),
        (_sql("INSERT INTO records VALUES ('word', 'c', X'00', 0)"), "its checksum"),
        (_sql("UPDATE saved SET head = X'7b7d'"), "does not match its seal"),
        (_sql("UPDATE saved SET size = 768"), "does not match its seal"),
        (_sql("UPDATE saved SET size = 300"), "malformed"),
        (_sql("UPDATE saved SET format = 2"), "format 2"),
        (lambda p: p.write_bytes(p.read_bytes()[:2000]), "malformed|not a database"),
        (lambda p: p.write_bytes(b"x" * 4096), "not a database"),
    ],
    ids=[
        "byte-flipped",
        "value-changed",
        "record-dropped",
        "record-added",
        "head",
        "position",
        "position-not-tile",
        "format",
        "truncated",
        "not-sqlite",
    ],
)
def test_a_changed_file_is_refused(tmp_path: Path, damage: Any, message: str) -> None:
    path = _saved_file(tmp_path)
    damage(path)
    reason = load(path)
    assert isinstance(reason, str)
    assert reason.startswith("saved audit state not usable (")
    import re

    assert re.search(message, reason), reason


def test_nothing_saved(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    assert load(path) == "" and saved_position(path) is None
    store = open_fresh(path)
    store.write([(WORDS, "a", "alpha")], {"word": 1})
    assert store.save() is None  # nothing marked
    store.close()
    assert load(path) == "" and saved_position(path) is None


def test_a_new_file_has_the_larger_pages(tmp_path: Path) -> None:
    path = _saved_file(tmp_path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
