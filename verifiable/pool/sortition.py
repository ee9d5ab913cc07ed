"""Verifiable juror sortition: the juror pool commitment and the panel draw.

Specified in docs/format.md (section 5) ("Juror pool" and "Drawing a panel"),
precisely enough for a second implementation to give the same panels.

- The **juror pool** of a period is a member-set tree (RFC 9162 §2.1.1 over the
  sorted, distinct ids, leaf data = the id's 32 ASCII bytes), committed once a
  period by its root and size (:func:`juror_pool_root`).
- A **panel** is drawn from a 64-bit value stream: value ``c`` is the first 8
  bytes, big-endian, of ``SHA-256(DOMAIN || seed || claim || round || appeal
  || c)`` (:func:`draw_value`), with ``seed`` the log's root hash at the size
  the rules fix.  A value is turned into a pool index by rejection sampling,
  which has no modulo bias (:func:`accept_index`); indices already drawn are
  skipped (:func:`candidate_indices`), and so are excluded ids
  (:func:`draw_panel`).  The panel is in draw order.
- When the rules name witnesses for the draw, the **seed** is not the root
  itself but :func:`witnessed_seed` of a checkpoint cosigned by them: the
  operator learns it only once the witnesses have cosigned.

Nothing here is random: the same arguments always give the same panel.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Collection, Iterator, Sequence

from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.cosignature import Cosignature
from verifiable.log.fields import MAX_SAFE_INT
from verifiable.log.merkle import HASH_SIZE, root_hash
from verifiable.pool.roster import member_set_leaves

__all__ = [
    "DOMAIN",
    "SEED_DOMAIN",
    "VALUE_SPACE",
    "accept_index",
    "candidate_indices",
    "draw_input",
    "draw_panel",
    "draw_value",
    "juror_pool_root",
    "rejection_bound",
    "witnessed_seed",
]

DOMAIN = b"mutualog/sortition/v1"
"""The 21 ASCII bytes that start every draw hash's input."""

SEED_DOMAIN = b"mutualog/seed/v2"
"""The 16 ASCII bytes that start a witnessed seed's input."""

VALUE_SPACE = 1 << 64
"""Draw values are uniform in ``0 .. VALUE_SPACE - 1``."""

_HEX_ID = re.compile(r"[0-9a-f]{32}")


def juror_pool_root(sorted_ids: Sequence[str]) -> bytes:
    """The RFC 9162 root of the member-set tree over the juror pool.

    ``sorted_ids`` are the qualified jurors' ids, distinct and in strictly
    increasing order, else :class:`MalformedError`.  The leaf hash of an id is
    ``SHA-256(0x00 || id)`` with the id as its 32 ASCII bytes; the empty pool's
    root is ``SHA-256("")``.
    """
    return root_hash(member_set_leaves(sorted_ids, "juror pool"))


def witnessed_seed(root: bytes, cosignatures: Sequence[Cosignature]) -> bytes:
    """The seed of a witnessed draw: SHA-256 of ``SEED_DOMAIN`` (16 ASCII
    bytes) || the checkpoint's ``root`` (32 bytes) || for each cosignature,
    in the rulebook's order of its witnesses: its key ID (uint32
    big-endian) || its timestamp (uint64 big-endian) || its 64-byte Ed25519
    signature.

    A witness's signature cannot be computed without its key, so the seed
    is unknown to anyone, the operator included, until the witnesses have
    cosigned; the rules check the cosignatures and the root before this.
    """
    if not isinstance(root, bytes) or len(root) != HASH_SIZE:
        raise MalformedError(f"witnessed seed: root is not {HASH_SIZE} bytes")
    data = bytearray(SEED_DOMAIN + root)
    for c in cosignatures:
        data += c.key_id.to_bytes(4, "big") + c.timestamp.to_bytes(8, "big") + c.signature
    return hashlib.sha256(bytes(data)).digest()


def _check_draw_args(seed: object, claim: object, round: object, appeal: object) -> None:
    where = "sortition"
    if not isinstance(seed, bytes) or len(seed) != HASH_SIZE:
        shown = f"{len(seed)} bytes" if isinstance(seed, bytes) else type(seed).__name__
        raise MalformedError(f"{where}: seed is {shown}, expected {HASH_SIZE} bytes")
    if not isinstance(claim, str) or not _HEX_ID.fullmatch(claim):
        raise MalformedError(
            f"{where}: claim {claim!r} is not an id of 32 lowercase hex characters"
        )
    if type(round) is not int or not 1 <= round <= MAX_SAFE_INT:
        raise MalformedError(f"{where}: round {round!r} is not an integer 1..{MAX_SAFE_INT}")
    if type(appeal) is not bool:
        raise MalformedError(f"{where}: appeal {appeal!r} is not a bool")


def draw_input(seed: bytes, claim: str, round: int, appeal: bool, counter: int) -> bytes:
    """The 102 bytes hashed for draw value ``counter``:

    ``DOMAIN`` (21 ASCII bytes) || ``seed`` (32 bytes) || ``claim`` (32 ASCII
    bytes) || ``round`` (uint64 big-endian) || ``appeal`` (one byte, 0x01 or
    0x00) || ``counter`` (uint64 big-endian).
    """
    _check_draw_args(seed, claim, round, appeal)
    if type(counter) is not int or not 0 <= counter < VALUE_SPACE:
        raise MalformedError(f"sortition: counter {counter!r} is not a uint64")
    return _prefix(seed, claim, round, appeal) + counter.to_bytes(8, "big")


def _prefix(seed: bytes, claim: str, round: int, appeal: bool) -> bytes:
    return (
        DOMAIN
        + seed
        + claim.encode("ascii")
        + round.to_bytes(8, "big")
        + (b"\x01" if appeal else b"\x00")
    )


def draw_value(seed: bytes, claim: str, round: int, appeal: bool, counter: int) -> int:
    """Draw value ``counter``: the first 8 bytes of ``SHA-256(draw_input(...))``
    as a big-endian unsigned integer."""
    digest = hashlib.sha256(draw_input(seed, claim, round, appeal, counter)).digest()
    return int.from_bytes(digest[:8], "big")


def rejection_bound(pool_size: int) -> int:
    """The largest multiple of ``pool_size`` not above ``2**64``: values at or
    above it are rejected, so that ``value % pool_size`` is uniform."""
    if type(pool_size) is not int or not 1 <= pool_size < VALUE_SPACE:
        raise MalformedError(f"sortition: pool size {pool_size!r} is not in 1..2**64-1")
    return VALUE_SPACE - VALUE_SPACE % pool_size


def accept_index(value: int, pool_size: int) -> int | None:
    """The pool index a draw value selects: ``value % pool_size`` if ``value``
    is below :func:`rejection_bound`, else ``None`` (rejected)."""
    if type(value) is not int or not 0 <= value < VALUE_SPACE:
        raise MalformedError(f"sortition: draw value {value!r} is not a uint64")
    if value >= rejection_bound(pool_size):
        return None
    return value % pool_size


def candidate_indices(
    seed: bytes, claim: str, round: int, appeal: bool, pool_size: int
) -> Iterator[int]:
    """Distinct pool indices in draw order.

    For ``counter = 0, 1, 2, ...`` the draw value is computed; a rejected value
    is skipped, as is an index already yielded.  The iterator ends once every
    index of the pool has been yielded (empty for an empty pool).  A verifier
    that holds only the pool's root can follow it with one inclusion proof per
    index instead of the whole pool.
    """
    _check_draw_args(seed, claim, round, appeal)
    if type(pool_size) is not int or not 0 <= pool_size < VALUE_SPACE:
        raise MalformedError(f"sortition: pool size {pool_size!r} is not in 0..2**64-1")
    # Checked here, on the call; the draw itself runs lazily.
    return _indices(_prefix(seed, claim, round, appeal), pool_size)


def _indices(prefix: bytes, pool_size: int) -> Iterator[int]:
    if pool_size == 0:
        return
    bound = rejection_bound(pool_size)
    sha = hashlib.sha256
    seen: set[int] = set()
    counter = 0
    while len(seen) < pool_size:
        digest = sha(prefix + counter.to_bytes(8, "big")).digest()
        counter += 1
        value = int.from_bytes(digest[:8], "big")
        if value >= bound:
            continue
        index = value % pool_size
        if index in seen:
            continue
        seen.add(index)
        yield index


def _excluded_in_pool(pool: Sequence[str], excluded: frozenset[str]) -> int:
    # The pool is sorted (its root was checked by juror_pool_root), so each
    # excluded id is found by bisection: O(|excluded| log n), never O(n).
    n = len(pool)
    found = 0
    for member_id in excluded:
        i = bisect.bisect_left(pool, member_id)
        if i < n and pool[i] == member_id:
            found += 1
    return found


def draw_panel(
    seed: bytes,
    claim: str,
    round: int,
    appeal: bool,
    pool: Sequence[str],
    size: int,
    excluded: Collection[str],
) -> tuple[str, ...]:
    """Draw the panel of ``size`` jurors for ``claim`` (round ``round``,
    ``appeal`` or not) from ``pool`` with ``seed``.

    ``pool`` is the period's juror pool, sorted and distinct as
    :func:`juror_pool_root` requires (not re-checked here: that would cost
    O(pool) per claim).  The jurors are the ids at :func:`candidate_indices`
    in order, skipping those in ``excluded`` (the claimant and anyone the
    rules exclude for this claim), until ``size`` are chosen; the result is in
    draw order.  Raises ``RuleViolation("panel.pool_too_small")`` if fewer
    than ``size`` pool members are eligible, and :class:`MalformedError` for
    arguments of the wrong shape.
    """
    _check_draw_args(seed, claim, round, appeal)
    if type(size) is not int or size < 1:
        raise MalformedError(f"sortition: panel size {size!r} is not a positive integer")
    if isinstance(pool, str | bytes) or not isinstance(pool, Sequence):
        raise MalformedError(f"sortition: pool is {type(pool).__name__}, expected a sequence")
    if isinstance(excluded, str | bytes):
        raise MalformedError("sortition: excluded is a single string, expected a collection of ids")
    excluded_set = frozenset(excluded)
    if not all(isinstance(member_id, str) for member_id in excluded_set):
        raise MalformedError("sortition: excluded holds a value that is not an id string")
    eligible = len(pool) - _excluded_in_pool(pool, excluded_set)
    if eligible < size:
        raise _too_small(claim, round, appeal, size, eligible, len(pool))
    panel: list[str] = []
    for index in candidate_indices(seed, claim, round, appeal, len(pool)):
        member_id = pool[index]
        if member_id in excluded_set:
            continue
        panel.append(member_id)
        if len(panel) == size:
            return tuple(panel)
    # Only an unsorted or duplicated pool gets here: bisection undercounted
    # the excluded ids, and every index has now been drawn.
    raise _too_small(claim, round, appeal, size, len(panel), len(pool))


def _too_small(
    claim: str, round: int, appeal: bool, size: int, eligible: int, pool_size: int
) -> RuleViolation:
    kind = "appeal panel" if appeal else "panel"
    return RuleViolation(
        "panel.pool_too_small",
        f"{kind} of {size} for claim {claim} round {round}: only {eligible} of the "
        f"{pool_size} jurors in the pool are eligible",
        expected=f"at least {size} eligible jurors",
        actual=eligible,
    )
