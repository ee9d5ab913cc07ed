"""The records of the audit the rulebook keeps: every ``operator.override``
and every ``data.erased``, as records of the state's store
(:mod:`verifiable.pool.store`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from verifiable.log.bodies import ErasedKind
from verifiable.log.fields import format_time, read_time
from verifiable.pool.store import Codec, Kind, StoredMap, WriteBuffer
from verifiable.pool.store_codecs import dumps, loads

__all__ = ["ERASURES", "OVERRIDES", "ErasureRecord", "Erasures", "OverrideRecord"]


@dataclass(frozen=True)
class OverrideRecord:
    """An ``operator.override`` as the audit shows it."""

    seq: int
    time: datetime
    action: str
    target: str
    reason: str


@dataclass(frozen=True)
class ErasureRecord:
    """A ``data.erased`` as the audit shows it."""

    seq: int
    time: datetime
    kind: ErasedKind
    subject: str
    documents: int
    reason: str


OVERRIDES: Kind[OverrideRecord] = Kind(
    "override",
    Codec(
        lambda o: dumps([o.seq, format_time(o.time), o.action, o.target, o.reason]),
        lambda b: (lambda s, t, a, g, r: OverrideRecord(s, read_time(t, "state"), a, g, r))(
            *loads(b, "override")
        ),
    ),
)
"""Every ``operator.override`` by seq (key :func:`seq_key`)."""

ERASURES: Kind[ErasureRecord] = Kind(
    "erasure",
    Codec(
        lambda e: dumps(
            [e.seq, format_time(e.time), e.kind.value, e.subject, e.documents, e.reason]
        ),
        lambda b: (
            lambda s, t, k, j, d, r: ErasureRecord(s, read_time(t, "state"), ErasedKind(k), j, d, r)
        )(*loads(b, "erasure")),
    ),
)
"""Every ``data.erased`` by kind and subject (key ``kind:subject``)."""


class Erasures(Mapping[tuple[ErasedKind, str], ErasureRecord]):
    """The erasures as a mapping from (kind, subject)."""

    __slots__ = ("_map",)

    def __init__(self, buffer: WriteBuffer) -> None:
        self._map = StoredMap(buffer, ERASURES)

    def __getitem__(self, key: tuple[ErasedKind, str]) -> ErasureRecord:
        return self._map[f"{key[0].value}:{key[1]}"]

    def __len__(self) -> int:
        return len(self._map)

    def __iter__(self) -> Iterator[tuple[ErasedKind, str]]:
        return ((e.kind, e.subject) for e in self._map.values())

    def put(self, record: ErasureRecord) -> None:
        """Record an erasure."""
        self._map.put(f"{record.kind.value}:{record.subject}", record)
