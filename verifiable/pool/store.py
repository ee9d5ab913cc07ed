"""Where the rulebook keeps the pool's state: a store of records by kind and key.

:class:`~verifiable.pool.state.PoolState` is the one implementation of the
rules.  What grows with the pool — members, jurors, the juror pool's ids,
claims, closed periods, overrides, erasures — it reads and writes through
the few operations of :class:`StateStore`: get by kind and key, the count
of a kind, and a scan of a kind in key order (used only where the rules
need order: the roster, the juror pool, claims in filing order).  The
handful of figures that stay small whatever the pool's size (the rulebook,
the open and due periods, the seeds waiting to be fixed) stay on the state
object itself.

Two stores: :class:`MemoryStore` keeps the records as objects in dicts (the
tests, the client's audit); the server keeps them in its database
(``server.pool.state_store``), through each kind's :class:`Codec`, so the
rules are never written twice.

:class:`WriteBuffer` gives an entry's apply its all-or-nothing property: an
apply reads through it and writes into it, and the buffer reaches the store
in one :meth:`StateStore.write` only when every rule has passed.  A record
of a mutable kind read inside an apply is a working copy the handlers may
change in place; the copy is written back at commit.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, overload

__all__ = [
    "Change",
    "Codec",
    "Kind",
    "MemoryStore",
    "StateStore",
    "StoredMap",
    "StoredSequence",
    "StoredSet",
    "WriteBuffer",
    "seq_key",
]

V = TypeVar("V")


@dataclass(frozen=True)
class Codec(Generic[V]):
    """A record's bytes and back: what a store that keeps bytes uses."""

    encode: Callable[[V], bytes]
    decode: Callable[[bytes], V]


@dataclass(frozen=True, eq=False)
class Kind(Generic[V]):
    """A kind of record: its name (a table's discriminator), its codec and,
    for a mutable value, how a working copy is made."""

    name: str
    codec: Codec[V]
    copy: Callable[[V], V] | None = None

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"

    # A kind is a constant of the rules, one object per kind: a copy of a
    # state shares it.
    def __copy__(self) -> Kind[V]:
        return self

    def __deepcopy__(self, memo: object) -> Kind[V]:
        return self


Change = tuple[Kind[Any], str, Any]
"""One write of a buffer: kind, key and the new value, ``None`` to delete."""


def seq_key(n: int) -> str:
    """A key that sorts as the number ``n`` (0 to 10**15 - 1) does."""
    return f"{n:015d}"


class StateStore(Protocol):
    """The operations the rules need of a store."""

    def get(self, kind: Kind[V], key: str) -> V | None:
        """The record, or ``None``."""

    def has(self, kind: Kind[Any], key: str) -> bool:
        """Whether the record exists."""

    def count(self, kind: Kind[Any]) -> int:
        """How many records of ``kind``."""

    def scan(self, kind: Kind[V], start: str = "") -> Iterator[tuple[str, V]]:
        """Every record of ``kind`` whose key is ``start`` or after, in key order."""

    def write(self, changes: Sequence[Change], counts: Mapping[str, int]) -> None:
        """Apply an apply's writes, and add ``counts`` (each kind's change in
        number of records) to the counts, all at once."""


class MemoryStore:
    """A :class:`StateStore` in dicts, records kept as objects.

    A scan in key order keeps the sorted keys of the last scan and sorts only
    what came since (one long sorted run and a short tail: nearly linear), so
    the roster of every period costs about one pass over the members."""

    __slots__ = ("_data", "_kinds", "_sorted")

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}
        self._kinds: dict[str, Kind[Any]] = {}
        # Per kind, a cache of its order: the keys sorted at the last scan,
        # the keys added since, and whether any was removed since.
        self._sorted: dict[str, _Order] = {}

    def get(self, kind: Kind[V], key: str) -> V | None:
        d = self._data.get(kind.name)
        return None if d is None else d.get(key)

    def has(self, kind: Kind[Any], key: str) -> bool:
        d = self._data.get(kind.name)
        return d is not None and key in d

    def count(self, kind: Kind[Any]) -> int:
        return len(self._data.get(kind.name, ()))

    def scan(self, kind: Kind[V], start: str = "") -> Iterator[tuple[str, V]]:
        d = self._data.get(kind.name)
        if not d:
            return iter(())
        order = self._sorted.get(kind.name)
        if order is None:
            order = self._sorted[kind.name] = _Order()
            order.keys = sorted(d)
        keys = order.keys
        if order.removed:
            keys = [k for k in keys if k in d]
            keys.extend(k for k in order.added if k in d)
            keys.sort()
            keys = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
        elif order.added:
            keys = keys + order.added
            keys.sort()
        order.keys, order.added, order.removed = keys, [], False
        first = bisect.bisect_left(keys, start) if start else 0
        return ((k, d[k]) for k in keys[first:])

    def kinds(self) -> list[Kind[Any]]:
        """Every kind ever written, by name."""
        return [self._kinds[name] for name in sorted(self._kinds)]

    def write(self, changes: Sequence[Change], counts: Mapping[str, int]) -> None:
        data = self._data
        for kind, key, value in changes:
            name = kind.name
            d = data.get(name)
            if d is None:
                d = data[name] = {}
                self._kinds[name] = kind
            order = self._sorted.get(name)
            if value is None:
                if d.pop(key, None) is not None and order is not None:
                    order.removed = True
            else:
                if key not in d and order is not None:
                    order.added.append(key)
                d[key] = value


class _Order:
    __slots__ = ("added", "keys", "removed")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.added: list[str] = []
        self.removed = False


class WriteBuffer:
    """A store's writes held back until an apply succeeds.

    Outside an apply (after :meth:`rollback` or :meth:`commit`, before
    :meth:`begin`) reads go straight to the store and return its own
    records, which the caller must not change."""

    __slots__ = ("_changes", "_counts", "_open", "store")

    def __init__(self, store: StateStore) -> None:
        self.store = store
        # (kind name, key) -> (kind, value or None, whether the store has it)
        self._changes: dict[tuple[str, str], tuple[Kind[Any], Any, bool]] = {}
        self._counts: dict[str, int] = {}
        self._open = False

    def begin(self) -> None:
        """Start an apply: reads of mutable records become working copies."""
        self.rollback()
        self._open = True

    @property
    def open(self) -> bool:
        """Whether an apply (or a preview) is under way."""
        return self._open

    def rollback(self) -> None:
        """Forget every write since :meth:`begin`."""
        self._changes.clear()
        self._counts.clear()
        self._open = False

    def commit(self) -> None:
        """Write everything since :meth:`begin` to the store, at once."""
        changes = [(kind, key, value) for (_, key), (kind, value, _) in self._changes.items()]
        counts = {name: n for name, n in self._counts.items() if n}
        self._changes.clear()
        self._counts.clear()
        self._open = False
        if changes:
            self.store.write(changes, counts)

    @property
    def pending(self) -> bool:
        """Whether anything is waiting for :meth:`commit`."""
        return bool(self._changes)

    # -- reading --------------------------------------------------------

    def get(self, kind: Kind[V], key: str) -> V | None:
        held = self._changes.get((kind.name, key))
        if held is not None:
            value: V | None = held[1]
            return value
        value = self.store.get(kind, key)
        if value is None or kind.copy is None or not self._open:
            return value
        value = kind.copy(value)
        self._changes[kind.name, key] = (kind, value, True)
        return value

    def has(self, kind: Kind[Any], key: str) -> bool:
        held = self._changes.get((kind.name, key))
        if held is not None:
            return held[1] is not None
        return self.store.has(kind, key)

    def count(self, kind: Kind[Any]) -> int:
        return self.store.count(kind) + self._counts.get(kind.name, 0)

    def scan(self, kind: Kind[V], start: str = "") -> Iterator[tuple[str, V]]:
        name = kind.name
        mine = {
            key: value
            for (n, key), (_, value, _) in self._changes.items()
            if n == name and key >= start
        }
        if not mine:
            yield from self.store.scan(kind, start)
            return
        merged = dict(self.store.scan(kind, start))
        merged.update(mine)
        for key in sorted(merged):
            value = merged[key]
            if value is not None:
                yield key, value

    # -- writing --------------------------------------------------------

    def put(self, kind: Kind[V], key: str, value: V) -> None:
        self._set(kind, key, value)

    def delete(self, kind: Kind[Any], key: str) -> None:
        self._set(kind, key, None)

    def _set(self, kind: Kind[Any], key: str, value: Any) -> None:
        assert self._open, "the state is written only inside an apply"
        k = (kind.name, key)
        held = self._changes.get(k)
        if held is None:
            stored = self.store.has(kind, key)
            present = stored
        else:
            stored = held[2]
            present = held[1] is not None
        self._changes[k] = (kind, value, stored)
        now = value is not None
        if now != present:
            self._counts[kind.name] = self._counts.get(kind.name, 0) + (1 if now else -1)


class StoredMap(Mapping[str, V]):
    """The records of one kind as a mapping, read and written through a
    buffer."""

    __slots__ = ("_buffer", "_kind")

    def __init__(self, buffer: WriteBuffer, kind: Kind[V]) -> None:
        self._buffer = buffer
        self._kind = kind

    def __getitem__(self, key: str) -> V:
        value = self._buffer.get(self._kind, key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, /, default: V | None = None) -> V | None:  # type: ignore[override]
        """The record, or ``default`` (one read, not a test then a read)."""
        value = self._buffer.get(self._kind, key)
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._buffer.has(self._kind, key)

    def __len__(self) -> int:
        return self._buffer.count(self._kind)

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._buffer.scan(self._kind))

    def values(self) -> Iterator[V]:  # type: ignore[override]
        return (value for _, value in self._buffer.scan(self._kind))

    def items(self) -> Iterator[tuple[str, V]]:  # type: ignore[override]
        return self._buffer.scan(self._kind)

    def put(self, key: str, value: V) -> None:
        """Add or replace a record."""
        self._buffer.put(self._kind, key, value)

    def delete(self, key: str) -> None:
        """Remove a record."""
        self._buffer.delete(self._kind, key)


class StoredSet(AbstractSet[str]):
    """The keys of one kind as a set (each record's value is ``True``)."""

    __slots__ = ("_buffer", "_kind")

    def __init__(self, buffer: WriteBuffer, kind: Kind[bool]) -> None:
        self._buffer = buffer
        self._kind = kind

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._buffer.has(self._kind, key)

    def __len__(self) -> int:
        return self._buffer.count(self._kind)

    def __iter__(self) -> Iterator[str]:
        """The keys, sorted."""
        return (key for key, _ in self._buffer.scan(self._kind))

    def add(self, key: str) -> None:
        """Put ``key`` in the set."""
        if not self._buffer.has(self._kind, key):
            self._buffer.put(self._kind, key, True)

    def discard(self, key: str) -> None:
        """Take ``key`` out of the set if it is there."""
        if self._buffer.has(self._kind, key):
            self._buffer.delete(self._kind, key)

    def clear(self) -> None:
        """Empty the set."""
        for key in list(self):
            self._buffer.delete(self._kind, key)


class StoredSequence(Sequence[str]):
    """A list of texts kept one record per position (key :func:`seq_key`),
    so that reading one position reads one record."""

    __slots__ = ("_buffer", "_kind", "_length")

    def __init__(self, buffer: WriteBuffer, kind: Kind[str], length: int) -> None:
        self._buffer = buffer
        self._kind = kind
        self._length = length

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        value = self._buffer.get(self._kind, seq_key(index))
        assert value is not None, f"{self._kind.name} {index} missing from the store"
        return value

    def __iter__(self) -> Iterator[str]:
        return (value for _, value in self._buffer.scan(self._kind))

    def replace(self, values: Iterable[str]) -> StoredSequence:
        """Write ``values`` in place of the list; the new list."""
        n = 0
        for n, value in enumerate(values, 1):
            self._buffer.put(self._kind, seq_key(n - 1), value)
        for i in range(n, self._length):
            self._buffer.delete(self._kind, seq_key(i))
        return StoredSequence(self._buffer, self._kind, n)
