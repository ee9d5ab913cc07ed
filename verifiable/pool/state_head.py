"""The small part of the pool's state, as bytes: what a store of records
keeps beside them so that a state can be taken up again without a replay.

:class:`~verifiable.pool.state.PoolState` keeps its records (members,
claims, closed periods, ...) in its store and, on the object itself, a few
figures that stay small whatever the size of the pool: the log size and
time it reflects, the rulebook's changes, the open and due periods, the
ledger, the seeds waiting to be fixed, the latest juror pool's period, root
and size, and how many joins and leaves have happened.  :func:`head_bytes`
writes them as compact JSON; :func:`resume` builds a state on a store from
them.  A store written in the same transaction as the head therefore holds
a whole state at one log size (docs/storage.md).
"""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime
from typing import Any

from verifiable.errors import MalformedError
from verifiable.log.fields import format_date, format_time, read_date, read_time
from verifiable.pool.claims import ClaimBook
from verifiable.pool.members import PoolHead
from verifiable.pool.periods import Ledger, PeriodBook, Periods
from verifiable.pool.rules import RuleChange
from verifiable.pool.state import PoolState
from verifiable.pool.store import StateStore
from verifiable.pool.store_codecs import dumps, loads, rules_from_json

__all__ = ["HEAD_FORMAT", "head_bytes", "head_format", "resume"]

HEAD_FORMAT = 2
"""The version of the head's form; a stored head of another is rebuilt.
2: the state's store also holds the log's index
(:mod:`verifiable.pool.log_index`)."""


def head_format(data: bytes) -> object:
    """The format a stored head says it has (``None`` if it says none)."""
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    return obj.get("format") if isinstance(obj, dict) else None


def _rules_text(change_rules: Any) -> str:
    return json.dumps(change_rules.to_json(), sort_keys=True)


def _book(book: PeriodBook) -> list[object]:
    return [
        format_date(book.period),
        format_time(book.moment),
        [[c, a] for c, a in book.paid],
        book.refunds,
        None if book.roster_root is None else book.roster_root.hex(),
        book.roster_size,
        None if book.rules is None else _rules_text(book.rules),
    ]


def _read_book(obj: Any) -> PeriodBook:
    period, at, paid, refunds, root, size, rules = obj
    return PeriodBook(
        read_date(period, "head"),
        read_time(at, "head"),
        [(c, a) for c, a in paid],
        refunds,
        None if root is None else bytes.fromhex(root),
        size,
        None if rules is None else rules_from_json(rules),
    )


def head_bytes(state: PoolState) -> bytes:
    """The small part of ``state`` (every record is in its store)."""
    s = state._s
    members = state.members
    pool = members.head
    obj: dict[str, object] = {
        "format": HEAD_FORMAT,
        "size": state.size,
        "time": None if state.time is None else format_time(state.time),
        "rules": [
            [c.seq, format_time(c.time), format_time(c.effective), _rules_text(c.rules)]
            for c in state.rulebook.changes
        ],
        "pool": None if pool is None else [format_date(pool.period), pool.root.hex(), pool.size],
        "version": members.version,
    }
    if s is not None:
        periods, claims = s.periods, s.claims
        ledger = periods.ledger
        obj["periods"] = {
            "open": _book(periods.open),
            "due": [_book(b) for b in periods.due],
            "ledger": [
                ledger.collected,
                ledger.aid,
                ledger.fees,
                ledger.refunds,
                ledger.surplus,
            ],
        }
        obj["claims"] = {
            "deadlines": [[format_time(t), seq, c] for t, seq, c in claims.deadlines],
            "armed": list(claims.armed),
        }
    return dumps(obj)


def resume(store: StateStore, data: bytes) -> PoolState:
    """The state whose records are in ``store`` and whose small part is
    ``data`` (:func:`head_bytes`)."""
    obj = loads(data, "state head")
    if obj.get("format") != HEAD_FORMAT:
        raise MalformedError(f"state: head format {obj.get('format')!r}, expected {HEAD_FORMAT}")
    state = PoolState(store)
    for seq, made, effective, rules in obj["rules"]:
        state.rulebook.adopt(
            RuleChange(
                seq=seq,
                time=read_time(made, "head"),
                effective=read_time(effective, "head"),
                rules=rules_from_json(rules),
            )
        )
    pool = obj["pool"]
    members = state.members
    if pool is not None:
        members.head = PoolHead(read_date(pool[0], "head"), bytes.fromhex(pool[1]), pool[2])
    members.version = obj["version"]
    time: datetime | None = None if obj["time"] is None else read_time(obj["time"], "head")
    if "periods" in obj:
        genesis = state.rulebook.changes[0]
        periods = Periods(genesis.time, genesis.rules, state._buffer)
        p = obj["periods"]
        periods.open = _read_book(p["open"])
        periods.due = deque(_read_book(b) for b in p["due"])
        periods.ledger = Ledger(*p["ledger"])
        book = ClaimBook(members, periods, state._buffer)
        c = obj["claims"]
        book.deadlines = [(read_time(t, "head"), seq, claim) for t, seq, claim in c["deadlines"]]
        book.armed = list(c["armed"])
        state._start(periods, book)
    state._size = obj["size"]
    state._time = time
    return state
