"""The witnesses' tables: who the log's witnesses are, the cosignatures
gathered from them, how many are required, and the submitter's lease.

Every cosignature stored here was verified against its witness's key
before it was stored (:mod:`server.witnessing.submit`), and is verified
again when read as part of a cosigned checkpoint
(:func:`cosigned_checkpoint`): a row someone slipped into the database by
hand counts for nothing.  Cosignatures are only ever added; removing a
witness keeps what it cosigned.

The one function other parts of the server build on is
:func:`cosigned_checkpoint`: the newest checkpoint with at least K valid
cosignatures from given witness keys (the read path's ``/checkpoint``, the
panel draw's seed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, update

from server.db import read_connection, write_transaction
from server.models import (
    CheckpointRow,
    CosignatureRow,
    WitnessLeaseRow,
    WitnessPolicyRow,
    WitnessRow,
)
from verifiable.errors import MalformedError, MutualogError, VerificationError
from verifiable.log.cosignature import Cosignature, CosignatureVerifier
from verifiable.log.note import Note, NoteSignature

__all__ = [
    "WITNESS_LOCK",
    "Witness",
    "WitnessConfigError",
    "WitnessedCheckpoint",
    "acquire_lease",
    "add_witness",
    "cosigned_checkpoint",
    "has_cosignature",
    "list_witnesses",
    "parse_witness",
    "record_answer",
    "release_lease",
    "remove_witness",
    "required_witnesses",
    "served_checkpoint",
    "set_required",
    "store_cosignature",
    "witness_keys",
]

#: pg_advisory_xact_lock key for the witnesses' tables: distinct from the
#: sequencer's, so recording a witness's answer never waits for an append.
WITNESS_LOCK = 0x6D75_7475_7769_746E  # "mutuawitn"

#: How many candidate sizes :func:`cosigned_checkpoint` verifies before
#: giving up: bounds the work a table full of bad rows could cause.
_MAX_CANDIDATES = 32

_witnesses = cast(Table, WitnessRow.__table__)
_cosignatures = cast(Table, CosignatureRow.__table__)
_policy = cast(Table, WitnessPolicyRow.__table__)
_lease = cast(Table, WitnessLeaseRow.__table__)
_checkpoints = cast(Table, CheckpointRow.__table__)


class WitnessConfigError(MutualogError):
    """A witness or a witness policy the operator asked for that cannot be
    used: a verifier key that is not a cosignature key named NAME, a URL
    that is not http(s), a name already added or not known, a K larger
    than the number of witnesses."""


@dataclass(frozen=True)
class WitnessedCheckpoint:
    """A checkpoint with the cosignatures that make it witnessed.

    ``note`` is the log's signed checkpoint note with one valid
    cosignature line per cosigner appended (sorted by witness name), ready
    to be served or verified with
    :func:`verifiable.log.checkpoint.open_checkpoint`; ``cosigners`` names
    the witnesses whose line verified.
    """

    size: int
    note: bytes
    cosigners: tuple[str, ...]


@dataclass(frozen=True)
class Witness:
    """A configured witness and its state as the submitter last saw it.

    ``known_size`` is the tree size the witness last said it holds (``None``
    before its first answer); ``last_cosigned`` the largest size whose
    cosignature by its current key is stored (``None`` if none)."""

    name: str
    url: str
    verifier: CosignatureVerifier
    known_size: int | None
    last_cosigned: int | None
    last_attempt: datetime | None
    last_success: datetime | None
    last_error: str | None

    @property
    def vkey(self) -> str:
        return self.verifier.to_vkey()


@contextmanager
def _reading(db: Engine | Connection) -> Iterator[Connection]:
    if isinstance(db, Connection):
        yield db
    else:
        with read_connection(db) as conn:
            yield conn


def parse_witness(name: str, url: str, vkey: str) -> tuple[str, CosignatureVerifier]:
    """Check a witness as the operator gives it; return its URL (without a
    final ``/``) and verifier.  Raises :class:`WitnessConfigError`."""
    try:
        verifier = CosignatureVerifier.from_vkey(vkey.strip())
    except MalformedError as e:
        raise WitnessConfigError(
            f"witness {name!r}: the verifier key is not a C2SP cosignature key "
            f"(name+hexid+base64 of type 0x04): {e}"
        ) from e
    if verifier.name != name:
        raise WitnessConfigError(
            f"witness {name!r}: the verifier key is named {verifier.name!r}; "
            "a witness's name is its key's name"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WitnessConfigError(
            f"witness {name!r}: URL {url!r} is not an http:// or https:// address "
            "(the witness's submission prefix, before /add-checkpoint)"
        )
    if parts.query or parts.fragment:
        raise WitnessConfigError(f"witness {name!r}: URL {url!r} has a query or a fragment")
    return url.rstrip("/"), verifier


def add_witness(engine: Engine, name: str, url: str, vkey: str, now: datetime) -> Witness:
    """Add a witness; raises :class:`WitnessConfigError` for bad input or a
    name already added (nothing is changed then)."""
    url, verifier = parse_witness(name, url, vkey)
    with write_transaction(engine, WITNESS_LOCK) as conn:
        exists = conn.execute(select(_witnesses.c.name).where(_witnesses.c.name == name)).first()
        if exists is not None:
            raise WitnessConfigError(
                f"witness {name!r} is already added; remove it first to change its URL or key"
            )
        conn.execute(
            insert(_witnesses),
            [{"name": name, "url": url, "vkey": verifier.to_vkey(), "added": now}],
        )
    return Witness(name, url, verifier, None, None, None, None, None)


def remove_witness(engine: Engine, name: str) -> None:
    """Remove a witness (its cosignatures stay).  Refused when the policy
    requires more witnesses than would remain."""
    with write_transaction(engine, WITNESS_LOCK) as conn:
        names = list(conn.execute(select(_witnesses.c.name)).scalars())
        if name not in names:
            raise WitnessConfigError(f"no witness named {name!r} (witnesses: {_names(names)})")
        required = _required(conn)
        if required > len(names) - 1:
            raise WitnessConfigError(
                f"removing {name!r} would leave {len(names) - 1} witnesses for a policy "
                f"requiring {required}; lower it first with 'witness policy'"
            )
        conn.execute(delete(_witnesses).where(_witnesses.c.name == name))


def _names(names: Sequence[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def set_required(engine: Engine, required: int, now: datetime) -> None:
    """Require ``required`` of the configured witnesses (0 to serve every
    checkpoint unwitnessed)."""
    with write_transaction(engine, WITNESS_LOCK) as conn:
        count = conn.execute(select(func.count()).select_from(_witnesses)).scalar_one()
        if isinstance(required, bool) or not 0 <= required <= count:
            raise WitnessConfigError(
                f"a policy of {required} witnesses: between 0 and the {count} configured"
            )
        conn.execute(delete(_policy))
        conn.execute(insert(_policy), [{"id": 1, "required": required, "updated": now}])


def _required(conn: Connection) -> int:
    value = conn.execute(select(_policy.c.required).where(_policy.c.id == 1)).scalar()
    return 0 if value is None else int(value)


def required_witnesses(db: Engine | Connection) -> int:
    """K: how many witnesses must cosign a checkpoint before ``/checkpoint`` serves it."""
    with _reading(db) as conn:
        return _required(conn)


def list_witnesses(db: Engine | Connection) -> list[Witness]:
    """The configured witnesses, by name."""
    with _reading(db) as conn:
        rows = conn.execute(select(_witnesses).order_by(_witnesses.c.name)).all()
        last = {
            (row.witness, int(row.key_id)): int(row.size)
            for row in conn.execute(
                select(
                    _cosignatures.c.witness,
                    _cosignatures.c.key_id,
                    func.max(_cosignatures.c.size).label("size"),
                ).group_by(_cosignatures.c.witness, _cosignatures.c.key_id)
            )
        }
    witnesses = []
    for row in rows:
        verifier = CosignatureVerifier.from_vkey(row.vkey)
        witnesses.append(
            Witness(
                name=row.name,
                url=row.url,
                verifier=verifier,
                known_size=row.known_size,
                last_cosigned=last.get((row.name, verifier.key_id)),
                last_attempt=row.last_attempt,
                last_success=row.last_success,
                last_error=row.last_error,
            )
        )
    return witnesses


def witness_keys(db: Engine | Connection) -> tuple[dict[str, CosignatureVerifier], int]:
    """The configured witnesses' keys by name, and K."""
    with _reading(db) as conn:
        keys = {w.name: w.verifier for w in list_witnesses(conn)}
        return keys, _required(conn)


def has_cosignature(db: Engine | Connection, size: int, verifier: CosignatureVerifier) -> bool:
    """Whether a cosignature of the checkpoint of ``size`` by ``verifier`` is stored."""
    query = select(_cosignatures.c.size).where(
        _cosignatures.c.size == size,
        _cosignatures.c.witness == verifier.name,
        _cosignatures.c.key_id == verifier.key_id,
    )
    with _reading(db) as conn:
        return conn.execute(query).first() is not None


def store_cosignature(engine: Engine, size: int, cosignature: Cosignature, now: datetime) -> None:
    """Store a cosignature the caller verified, and note that its witness
    holds ``size``.  A second cosignature of the same size by the same key
    (a resent checkpoint) keeps the first: either is as good."""
    row = {
        "size": size,
        "witness": cosignature.name,
        "key_id": cosignature.key_id,
        "timestamp": cosignature.timestamp,
        "line": cosignature.to_line(),
        "gathered": now,
    }
    with write_transaction(engine, WITNESS_LOCK) as conn:
        exists = conn.execute(
            select(_cosignatures.c.size).where(
                _cosignatures.c.size == size,
                _cosignatures.c.witness == cosignature.name,
                _cosignatures.c.key_id == cosignature.key_id,
            )
        ).first()
        if exists is None:
            conn.execute(insert(_cosignatures), [row])
        conn.execute(
            update(_witnesses)
            .where(_witnesses.c.name == cosignature.name)
            .values(known_size=size, last_attempt=now, last_success=now, last_error=None)
        )


def record_answer(
    engine: Engine, name: str, now: datetime, *, known_size: int | None, error: str | None
) -> None:
    """Record a witness's answer other than a cosignature: the size a 409
    named (``known_size``), or what went wrong (``error``)."""
    values: dict[str, object] = {"last_attempt": now, "last_error": error}
    if known_size is not None:
        values["known_size"] = known_size
    with write_transaction(engine, WITNESS_LOCK) as conn:
        conn.execute(update(_witnesses).where(_witnesses.c.name == name).values(**values))


def acquire_lease(engine: Engine, holder: str, now: datetime, duration: timedelta) -> bool:
    """Take or renew the submitter's lease for ``duration``; ``False`` when
    another holder's lease has not expired.  One submitter at a time keeps
    the witnesses from seeing two clients race on their old size; nothing
    is wrong if two ever overlap (every stored cosignature is verified)."""
    with write_transaction(engine, WITNESS_LOCK) as conn:
        row = conn.execute(select(_lease).where(_lease.c.id == 1)).first()
        if row is not None and row.holder != holder and row.expires > now:
            return False
        conn.execute(delete(_lease))
        conn.execute(insert(_lease), [{"id": 1, "holder": holder, "expires": now + duration}])
    return True


def release_lease(engine: Engine, holder: str) -> None:
    """Give up the lease if ``holder`` holds it, so another submitter need not wait it out."""
    with write_transaction(engine, WITNESS_LOCK) as conn:
        conn.execute(delete(_lease).where(_lease.c.holder == holder))


def _checkpoint_note(conn: Connection, size: int) -> bytes | None:
    note = conn.execute(select(_checkpoints.c.note).where(_checkpoints.c.size == size)).scalar()
    return None if note is None else bytes(note)


def _valid_lines(
    conn: Connection, size: int, note: Note, keys: Mapping[str, CosignatureVerifier]
) -> list[NoteSignature]:
    rows = conn.execute(
        select(_cosignatures.c.witness, _cosignatures.c.key_id, _cosignatures.c.line).where(
            _cosignatures.c.size == size, _cosignatures.c.witness.in_(list(keys))
        )
    ).all()
    text = note.text.encode("utf-8")
    valid: dict[str, NoteSignature] = {}
    for row in rows:
        verifier = keys[row.witness]
        if int(row.key_id) != verifier.key_id or verifier.name != row.witness:
            continue
        try:
            line = NoteSignature.from_line(row.line)
            verifier.verify(text, line.signature)
        except (MalformedError, VerificationError):
            continue
        valid[row.witness] = line
    return [valid[name] for name in sorted(valid)]


def cosigned_checkpoint(
    db: Engine | Connection,
    keys: Mapping[str, CosignatureVerifier],
    k: int,
    min_size: int = 0,
) -> WitnessedCheckpoint | None:
    """The newest checkpoint of size at least ``min_size`` with valid
    cosignatures from at least ``k`` of the witnesses in ``keys`` (witness
    name to its C2SP cosignature key), or ``None`` when there is none.

    The returned note is the log's checkpoint with every valid cosignature
    line from ``keys`` appended; ``k`` 0 gives the newest checkpoint (with
    whatever cosignatures it has).  Each line is verified here against its
    key, whatever was checked when it was stored.  ``db`` is an engine or a
    connection (a caller inside its own transaction passes its connection:
    the answer is then what that transaction sees).  A stable interface:
    the read path's ``/checkpoint`` and the panel draw's seed use it.
    """
    if isinstance(k, bool) or not 0 <= k <= len(keys):
        raise MalformedError(f"cosigned checkpoint: {k!r} of {len(keys)} witnesses required")
    with _reading(db) as conn:
        if k == 0:
            newest = conn.execute(select(func.max(_checkpoints.c.size))).scalar()
            candidates = [] if newest is None or newest < min_size else [int(newest)]
        else:
            candidates = [
                int(size)
                for size in conn.execute(
                    select(_cosignatures.c.size)
                    .where(
                        _cosignatures.c.size >= min_size,
                        _cosignatures.c.witness.in_(list(keys)),
                    )
                    .group_by(_cosignatures.c.size)
                    .having(func.count(func.distinct(_cosignatures.c.witness)) >= k)
                    .order_by(_cosignatures.c.size.desc())
                    .limit(_MAX_CANDIDATES)
                ).scalars()
            ]
        for size in candidates:
            raw = _checkpoint_note(conn, size)
            if raw is None:
                continue
            note = Note.from_bytes(raw)
            lines = _valid_lines(conn, size, note, keys) if keys else []
            if len(lines) >= k:
                names = tuple(line.name for line in lines)
                return WitnessedCheckpoint(size, note.add_signatures(lines).to_bytes(), names)
    return None


def served_checkpoint(engine: Engine) -> WitnessedCheckpoint | None:
    """What ``/checkpoint`` serves: the newest checkpoint meeting the
    configured policy (K of the configured witnesses), with every
    cosignature gathered for it; ``None`` when none meets it yet."""
    with read_connection(engine) as conn:
        keys, k = witness_keys(conn)
        return cosigned_checkpoint(conn, keys, k)
