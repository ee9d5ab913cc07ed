"""The sequencer on SQLite and PostgreSQL: numbering, chaining, time, the
stored tree and checkpoint, and batches refused with nothing written."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select

from server.models import CheckpointRow, EntryRow, SubtreeHashRow
from server.sequencer import (
    AppendResult,
    BatchError,
    ClockError,
    EmptyBatchError,
    EntryTooLargeError,
    InvalidEntryError,
    Sequencer,
)
from server.storage import LogHead, LogStore, StoredLogError
from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.bodies import AgeBand, LeaveReason, MemberJoined, MemberLeft, OperatorOverride
from verifiable.log.checkpoint import open_checkpoint
from verifiable.log.entry import GENESIS_PREV, MAX_ENTRY_SIZE, Entry, parse_entry
from verifiable.log.merkle import EMPTY_ROOT, hash_leaves, root_hash
from verifiable.log.note import Ed25519Signer, Ed25519Verifier

ORIGIN = "example.org/mutualog/test"


def _state(engine: Engine) -> tuple[int, int, int, bytes | None]:
    """Row counts and the latest checkpoint: equal before and after means
    nothing was written."""
    with engine.connect() as conn:
        entries = conn.execute(select(func.count()).select_from(EntryRow)).scalar_one()
        nodes = conn.execute(select(func.count()).select_from(SubtreeHashRow)).scalar_one()
        checkpoints = conn.execute(select(func.count()).select_from(CheckpointRow)).scalar_one()
    return entries, nodes, checkpoints, LogStore(engine).latest_checkpoint()


def test_first_batch(
    sequencer: Sequencer,
    engine: Engine,
    verifier: Ed25519Verifier,
    members: Callable[..., Any],
    check_log: Callable[[Engine], list[bytes]],
) -> None:
    result = sequencer.append(members(5))
    assert result == AppendResult(first_seq=0, size=5, checkpoint=result.checkpoint)
    entries = check_log(engine)
    assert len(entries) == 5
    cp = open_checkpoint(result.checkpoint, verifier, ORIGIN).checkpoint
    assert cp.size == 5
    assert cp.root_hash == root_hash(hash_leaves(entries))
    assert LogStore(engine).latest_checkpoint() == result.checkpoint
    first = parse_entry(entries[0], seq=0, prev=GENESIS_PREV)
    assert first.type == "member.joined"
    assert first.time == datetime(2026, 1, 1, tzinfo=UTC)
    assert first.body == members(1)[0][1]


def test_batches_continue_the_log(
    sequencer: Sequencer,
    engine: Engine,
    members: Callable[..., Any],
    clock: Any,
    check_log: Callable[[Engine], list[bytes]],
) -> None:
    rng = random.Random(7)
    size = 0
    # Sizes around the 256-wide tiles and powers of two, where the tree's
    # shape changes.
    for batch in [1, 1, 2, 252, 1, 255, 256, 3, 300, rng.randrange(1, 50)]:
        result = sequencer.append(members(batch, size))
        assert (result.first_seq, result.size) == (size, size + batch)
        size += batch
        clock.advance(seconds=1)
    entries = check_log(engine)
    assert len(entries) == size
    ids = [parse_entry(e).body for e in entries]
    assert ids == [body for _, body in members(size)]


def test_a_new_sequencer_continues_where_another_stopped(
    engine: Engine,
    signer: Ed25519Signer,
    clock: Any,
    members: Callable[..., Any],
    check_log: Callable[[Engine], list[bytes]],
) -> None:
    Sequencer(engine, signer, ORIGIN, clock).append(members(10))
    result = Sequencer(engine, signer, ORIGIN, clock).append(members(3, 10))
    assert (result.first_seq, result.size) == (10, 13)
    assert len(check_log(engine)) == 13


def test_mixed_types_in_one_batch(
    sequencer: Sequencer, engine: Engine, check_log: Callable[[Engine], list[bytes]]
) -> None:
    member = "ab" * 16
    sequencer.append(
        [
            ("member.joined", MemberJoined(member=member, age_band=AgeBand.FROM_40_TO_59)),
            (
                "member.left",
                MemberLeft(member=member, reason=LeaveReason.VOLUNTARY, refund=0),
            ),
        ]
    )
    assert [parse_entry(e).type for e in check_log(engine)] == ["member.joined", "member.left"]


# --- time -------------------------------------------------------------------------


def _times(engine: Engine) -> list[datetime]:
    return [parse_entry(e).time for e in LogStore(engine).entries(0, 10**9)]


def test_time_is_truncated_to_whole_seconds_in_utc(
    engine: Engine, signer: Ed25519Signer, members: Callable[..., Any]
) -> None:
    beijing = timezone(timedelta(hours=8))
    now = datetime(2026, 3, 1, 8, 30, 15, 999_999, tzinfo=beijing)
    Sequencer(engine, signer, ORIGIN, lambda: now).append(members(2))
    assert _times(engine) == [datetime(2026, 3, 1, 0, 30, 15, tzinfo=UTC)] * 2


def test_time_never_goes_backwards(
    engine: Engine, signer: Ed25519Signer, members: Callable[..., Any]
) -> None:
    later, earlier = datetime(2026, 5, 1, 12, tzinfo=UTC), datetime(2026, 5, 1, 11, tzinfo=UTC)
    Sequencer(engine, signer, ORIGIN, lambda: later).append(members(1))
    # Another machine, its clock an hour slow, takes its turn.
    Sequencer(engine, signer, ORIGIN, lambda: earlier).append(members(1, 1))
    assert _times(engine) == [later, later]
    Sequencer(engine, signer, ORIGIN, lambda: later + timedelta(seconds=1)).append(members(1, 2))
    assert _times(engine)[-1] == later + timedelta(seconds=1)


def test_naive_clock_is_refused(
    engine: Engine, signer: Ed25519Signer, members: Callable[..., Any]
) -> None:
    before = _state(engine)
    sequencer = Sequencer(engine, signer, ORIGIN, lambda: datetime(2026, 1, 1))
    with pytest.raises(ClockError, match="without a time zone"):
        sequencer.append(members(1))
    assert _state(engine) == before


# --- refused batches --------------------------------------------------------------


def _oversized() -> tuple[str, OperatorOverride]:
    return (
        "operator.override",
        OperatorOverride(
            action="test", target="t", reason="r", details={"blob": "x" * MAX_ENTRY_SIZE}
        ),
    )


def _bad_member() -> tuple[str, MemberJoined]:
    return ("member.joined", MemberJoined(member="not-hex", age_band=AgeBand.FROM_18_TO_39))


@pytest.mark.parametrize(
    ("batch", "error", "match"),
    [
        pytest.param(lambda m: [], EmptyBatchError, "batch is empty", id="empty"),
        pytest.param(
            lambda m: [*m(2), _bad_member()],
            InvalidEntryError,
            r"batch item 2 \(would be entry \d+\): .*member: expected an id of 32",
            id="invalid-body",
        ),
        pytest.param(
            lambda m: [("member.left", m(1)[0][1])],
            InvalidEntryError,
            "batch item 0: type 'member.left' does not match body MemberJoined",
            id="type-mismatch",
        ),
        pytest.param(
            lambda m: [("no.such.type", m(1)[0][1])],
            InvalidEntryError,
            "type 'no.such.type' does not match",
            id="unknown-type",
        ),
        pytest.param(
            lambda m: [*m(1), _oversized()],
            EntryTooLargeError,
            rf"batch item 1 \(would be entry \d+\): \d+ bytes, more than the {MAX_ENTRY_SIZE}",
            id="oversized",
        ),
    ],
)
def test_refused_batch_writes_nothing(
    sequencer: Sequencer,
    engine: Engine,
    members: Callable[..., Any],
    batch: Callable[[Callable[..., Any]], list[Any]],
    error: type[BatchError],
    match: str,
    check_log: Callable[[Engine], list[bytes]],
) -> None:
    sequencer.append(members(3, 100))
    before = _state(engine)
    with pytest.raises(error, match=match) as info:
        sequencer.append(batch(members))
    assert isinstance(info.value, MalformedError)
    assert _state(engine) == before
    check_log(engine)
    # The log goes on from where it was.
    assert sequencer.append(members(1, 200)).first_seq == 3


def test_validate_sees_the_built_entries_and_the_head(
    engine: Engine, signer: Ed25519Signer, clock: Any, members: Callable[..., Any]
) -> None:
    seen: list[tuple[list[Entry], LogHead]] = []

    def validate(entries: Sequence[Entry], head: LogHead) -> None:
        seen.append((list(entries), head))

    sequencer = Sequencer(engine, signer, ORIGIN, clock, validate=validate)
    sequencer.append(members(2))
    sequencer.append(members(1, 2))
    (first, head0), (second, head1) = seen
    assert [e.seq for e in first] == [0, 1]
    assert head0 == LogHead(0, GENESIS_PREV, None, ())
    assert [e.seq for e in second] == [2]
    stored = LogStore(engine).entries(0, 2)
    assert [e.to_bytes() for e in first] == stored
    assert head1.size == 2
    assert head1.leaf_hash == hash_leaves(stored)[1] == second[0].prev
    assert head1.time == clock.now
    assert head1.tree().root() == root_hash(hash_leaves(stored))


def test_rule_violation_from_validate_writes_nothing(
    engine: Engine, signer: Ed25519Signer, clock: Any, members: Callable[..., Any]
) -> None:
    def validate(entries: Sequence[Entry], head: LogHead) -> None:
        for entry in entries:
            if entry.seq == 4:
                raise RuleViolation("test.no_fifth", "no fifth entry", seq=entry.seq)

    sequencer = Sequencer(engine, signer, ORIGIN, clock, validate=validate)
    sequencer.append(members(3))
    before = _state(engine)
    with pytest.raises(RuleViolation, match=r"entry 4: rule test\.no_fifth"):
        sequencer.append(members(3, 3))
    assert _state(engine) == before


def test_a_damaged_database_is_not_extended(
    sequencer: Sequencer, engine: Engine, members: Callable[..., Any]
) -> None:
    sequencer.append(members(3))
    sequencer.append(members(3, 3))
    with engine.begin() as conn:
        conn.execute(delete(CheckpointRow).where(CheckpointRow.size == 6))
    with pytest.raises(
        StoredLogError, match="latest checkpoint has size 3, but the last entry is seq 5"
    ):
        sequencer.append(members(1, 6))


# --- keys and checkpoints -----------------------------------------------------------


def test_ensure_checkpoint_signs_the_empty_log_once(
    sequencer: Sequencer, engine: Engine, verifier: Ed25519Verifier, members: Callable[..., Any]
) -> None:
    store = LogStore(engine)
    assert store.latest_checkpoint() is None
    note = sequencer.ensure_checkpoint()
    cp = open_checkpoint(note, verifier, ORIGIN).checkpoint
    assert (cp.size, cp.root_hash) == (0, EMPTY_ROOT)
    assert store.latest_checkpoint() == note
    assert sequencer.ensure_checkpoint() == note
    result = sequencer.append(members(2))
    assert sequencer.ensure_checkpoint() == result.checkpoint
    assert store.size() == 2


def test_key_material_is_not_shown(
    sequencer: Sequencer, signer: Ed25519Signer, members: Callable[..., Any]
) -> None:
    secret = signer.to_private_key()
    seed_b64 = secret.rsplit("+", 1)[1]
    assert secret not in repr(sequencer) and seed_b64 not in repr(sequencer)
    for batch in ([], [_bad_member()], [_oversized()]):
        with pytest.raises(BatchError) as info:
            sequencer.append(batch)
        assert seed_b64 not in str(info.value)
        assert signer.seed.hex() not in str(info.value)
