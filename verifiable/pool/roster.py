"""Member-set trees: the period roster, the juror pool, and the paid-claims list.

Specified in docs/format.md (section 5) ("Member-set trees" and "Paid-claims
list"); every tree is an RFC 9162 §2.1.1 Merkle tree (``MTH``) with SHA-256.

- **Member-set leaf**: the leaf data of a member id is its 32 lowercase hex
  characters as 32 ASCII bytes, so the leaf hash is ``SHA-256(0x00 || id)``
  (:func:`roster_leaf`).  A member-set tree is built over ids in strictly
  increasing byte order (equivalently, increasing numeric value of the hex),
  so the root also commits to "no duplicates" and to one canonical order.
  The period roster of sharing members (:func:`roster_root`) and the juror
  pool (:func:`verifiable.pool.sortition.juror_pool_root`) are both member-set
  trees, so one inclusion proof format serves both.
- **Paid-claims leaf**: the 32 ASCII bytes of the claim id followed by the
  amount paid in fen as an unsigned 64-bit big-endian integer (40 bytes); the
  leaves are in the order the ``claim.paid`` entries appear in the log
  (:func:`paid_claims_root`).

:func:`roster_root` streams: it holds one chunk of ids and the compact range
(at most 64 hashes), whatever the roster's size, with the per-id work kept to
a few C-level passes and one comprehension, since a roster of 100 million
members is rebuilt every period.  :func:`roster_summary` keeps, in the same
pass, a :class:`RosterSummary` (one hash and one id per chunk of members)
from which :func:`roster_summary_proof` serves RFC 9162 §2.1.3 inclusion
proofs given the ids of a single chunk ("Roster at scale").
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import lt

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.fields import MAX_SAFE_INT
from verifiable.log.merkle import (
    EMPTY_ROOT,
    Subtree,
    inclusion_proof,
    inclusion_proof_from,
    root_hash,
    verify_inclusion,
)

__all__ = [
    "ID_LENGTH",
    "PAID_LEAF_LENGTH",
    "RosterSummary",
    "check_member_ids",
    "member_set_leaves",
    "paid_claim_leaf",
    "paid_claims_root",
    "roster_inclusion_proof",
    "roster_leaf",
    "roster_root",
    "roster_summary",
    "roster_summary_proof",
    "verify_roster_membership",
]

ID_LENGTH = 32
"""Characters (and ASCII bytes) of a member or claim id."""

PAID_LEAF_LENGTH = ID_LENGTH + 8
"""Bytes of a paid-claims leaf: the claim id and a 64-bit amount."""

_HEX_ID = re.compile(r"[0-9a-f]{32}")
_HEX_DIGITS = b"0123456789abcdef"

# Ids per chunk in roster_root: a power of two, so every full chunk is a
# complete subtree; 2**14 ids is ~0.5 MB of str and the same again of hashes.
_CHUNK_LEVEL = 14
_CHUNK = 1 << _CHUNK_LEVEL

_sha256 = hashlib.sha256


def _check_id(member_id: object, where: str) -> str:
    if not isinstance(member_id, str) or not _HEX_ID.fullmatch(member_id):
        shown = repr(member_id) if isinstance(member_id, str) else type(member_id).__name__
        raise MalformedError(f"{where}: expected an id of 32 lowercase hex characters, got {shown}")
    return member_id


def roster_leaf(member_id: str) -> bytes:
    """The member-set leaf hash of ``member_id``: ``SHA-256(0x00 || id)``,
    the id as its 32 ASCII bytes."""
    _check_id(member_id, "roster leaf")
    return _sha256(b"\x00" + member_id.encode("ascii")).digest()


def _check_chunk(chunk: list[str], offset: int, previous: str | None, where: str) -> None:
    """Every item an id, strictly increasing (also across ``previous``).

    The common case is a handful of C-level passes; when one of them fails,
    the item-by-item loop (the authoritative check) names the first
    offending item.
    """
    try:
        joined = "".join(chunk).encode("ascii")
    except (TypeError, UnicodeEncodeError):
        joined = b"!"  # not ids: the slow loop below names the culprit
    fast_ok = (
        len(joined) == ID_LENGTH * len(chunk)
        and max(map(len, chunk)) == ID_LENGTH
        and not joined.translate(None, _HEX_DIGITS)
        and all(map(lt, chunk, islice(chunk, 1, None)))
        and (previous is None or previous < chunk[0])
    )
    if fast_ok:
        return
    prev = previous
    for i, member_id in enumerate(chunk, start=offset):
        _check_id(member_id, f"{where}: id {i}")
        if prev is not None and not prev < member_id:
            kind = "duplicate" if prev == member_id else "out of order"
            raise MalformedError(
                f"{where}: id {i} is {kind}: {member_id} after {prev} "
                "(ids must be distinct and sorted in increasing order)"
            )
        prev = member_id


def check_member_ids(sorted_ids: Sequence[str], where: str = "member set") -> None:
    """Check that ``sorted_ids`` are ids, distinct and strictly increasing.

    Raises :class:`MalformedError` naming the first offending position.
    """
    if isinstance(sorted_ids, str | bytes) or not isinstance(sorted_ids, Sequence):
        raise MalformedError(
            f"{where}: expected a sequence of ids, got {type(sorted_ids).__name__}"
        )
    previous: str | None = None
    for start in range(0, len(sorted_ids), _CHUNK):
        chunk = list(sorted_ids[start : start + _CHUNK])
        _check_chunk(chunk, start, previous, where)
        previous = chunk[-1]


def _chunk_leaves(chunk: list[str]) -> list[bytes]:
    # A plain comprehension with local names measured fastest (faster than
    # slicing one encoded buffer or chaining map() calls).  The ids were
    # checked to be ASCII, so the default UTF-8 encode (CPython's fast path
    # for ASCII strings) gives their ASCII bytes.
    sha = _sha256
    return [sha(b"\x00" + s.encode()).digest() for s in chunk]


def member_set_leaves(sorted_ids: Sequence[str], where: str = "member set") -> list[bytes]:
    """Leaf hashes of a member-set tree, after :func:`check_member_ids`."""
    check_member_ids(sorted_ids, where)
    out: list[bytes] = []
    for start in range(0, len(sorted_ids), _CHUNK):
        out.extend(_chunk_leaves(list(sorted_ids[start : start + _CHUNK])))
    return out


def _pair_level(level: list[bytes]) -> list[bytes]:
    # One level up: hash adjacent pairs (the caller passes an even count).
    sha = _sha256
    it = iter(level)
    return [sha(b"\x01" + left + right).digest() for left, right in zip(it, it, strict=True)]


def _perfect_root(leaves: list[bytes]) -> bytes:
    # Root of a complete subtree (len(leaves) a power of two).
    level = leaves
    while len(level) > 1:
        level = _pair_level(level)
    return level[0]


def _push(stack: list[tuple[int, bytes]], level: int, h: bytes) -> None:
    # Append a complete subtree to the compact range, merging equal levels.
    while stack and stack[-1][0] == level:
        _, left = stack.pop()
        h = _sha256(b"\x01" + left + h).digest()
        level += 1
    stack.append((level, h))


def _subtrees(leaves: list[bytes], level: int) -> list[tuple[int, bytes]]:
    """The complete subtrees (level, hash) of a chunk of up to ``2**level``
    leaves, largest first: one for a full chunk, the binary digits of its
    length for the last, partial one."""
    if len(leaves) == 1 << level:
        return [(level, _perfect_root(leaves))]
    out: list[tuple[int, bytes]] = []
    pos = 0
    for sub in range(level - 1, -1, -1):
        if len(leaves) >> sub & 1:
            out.append((sub, _perfect_root(leaves[pos : pos + (1 << sub)])))
            pos += 1 << sub
    return out


def _scan(
    ids: Iterable[str], level: int, where: str
) -> Iterator[tuple[str, list[tuple[int, bytes]]]]:
    """Check and hash ``ids`` in chunks of ``2**level``: for each chunk, its
    first id and :func:`_subtrees`.  Every chunk but the last is full, so each
    is an aligned complete subtree of the whole tree."""
    if isinstance(ids, str | bytes):
        raise MalformedError(f"{where}: expected an iterable of ids, got a single string")
    it = iter(ids)
    count = 0
    previous: str | None = None
    while chunk := list(islice(it, 1 << level)):
        _check_chunk(chunk, count, previous, where)
        previous = chunk[-1]
        count += len(chunk)
        yield chunk[0], _subtrees(_chunk_leaves(chunk), level)


def _fold(stack: list[tuple[int, bytes]]) -> bytes:
    # The compact range, joined right to left: the RFC 9162 root.
    if not stack:
        return EMPTY_ROOT
    h = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        h = _sha256(b"\x01" + left + h).digest()
    return h


def _check_size_hint(size_hint: int | None, where: str) -> None:
    if size_hint is not None and (type(size_hint) is not int or not 0 <= size_hint <= MAX_SAFE_INT):
        raise MalformedError(f"{where}: size hint {size_hint!r} is not a count")


def _check_count(size_hint: int | None, count: int, where: str) -> None:
    if size_hint is not None and size_hint != count:
        raise MalformedError(f"{where}: expected {size_hint} ids (size hint), got {count}")


def roster_root(
    sorted_member_ids: Iterable[str], size_hint: int | None = None
) -> tuple[bytes, int]:
    """RFC 9162 root and count of the member-set tree over ``sorted_member_ids``.

    The ids must be distinct and strictly increasing, else
    :class:`MalformedError` naming the first offending position.  The input is
    consumed once, as a stream: memory stays at one chunk of ids plus the
    compact range.  ``size_hint``, if given, is the count the caller expects
    (a ``period.closed`` entry's ``roster_size``, say); a different count
    raises :class:`MalformedError`.  The empty roster's root is ``SHA-256("")``.
    """
    where = "roster"
    _check_size_hint(size_hint, where)
    stack: list[tuple[int, bytes]] = []
    count = 0
    for _, subtrees in _scan(sorted_member_ids, _CHUNK_LEVEL, where):
        for level, h in subtrees:
            _push(stack, level, h)
            count += 1 << level
    _check_count(size_hint, count, where)
    return _fold(stack), count


def roster_inclusion_proof(
    sorted_member_ids: Sequence[str], member_id: str
) -> tuple[int, list[bytes]]:
    """Index of ``member_id`` in the member-set tree over ``sorted_member_ids``
    and its RFC 9162 §2.1.3.1 inclusion proof.

    Raises :class:`MalformedError` for a list that is not strictly sorted ids
    and :class:`VerificationError` if ``member_id`` is not in it.
    """
    where = "roster inclusion proof"
    _check_id(member_id, where)
    leaves = member_set_leaves(sorted_member_ids, where)
    index = bisect.bisect_left(sorted_member_ids, member_id)
    if index == len(sorted_member_ids) or sorted_member_ids[index] != member_id:
        raise VerificationError(
            f"{where}: member {member_id} is not among the {len(sorted_member_ids)} members"
        )
    return index, inclusion_proof(leaves, index, len(leaves))


@dataclass(frozen=True)
class RosterSummary:
    """What a server keeps of one period's roster to serve inclusion proofs
    without keeping the tree: the roster cut into chunks of ``2**level``
    members (the last one may be partial), with each chunk's first id and its
    complete subtrees.

    At 100 million members and level 12 that is 24,415 chunks, about 1.5 MB
    per period; a proof then needs the 4,096 ids of one chunk from storage
    (:meth:`chunk_of` and :meth:`chunk_range` say which), about 8,000 hashes
    over that chunk and at most one per chunk for the siblings above it, some
    10 ms (:func:`roster_summary_proof`).
    """

    root: bytes
    size: int
    level: int
    firsts: tuple[str, ...]
    """The first id of each chunk, in order."""
    chunk_hashes: tuple[bytes, ...]
    """The hash of each full chunk (a complete subtree of the given level)."""
    tail: tuple[bytes, ...]
    """The complete subtrees of the last, partial chunk, largest first."""

    def __post_init__(self) -> None:
        where = "roster summary"
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            raise MalformedError(f"{where}: root is not a 32-byte hash")
        if type(self.size) is not int or not 0 <= self.size <= MAX_SAFE_INT:
            raise MalformedError(f"{where}: size {self.size!r} is not a count")
        if type(self.level) is not int or not 0 <= self.level <= _MAX_SUMMARY_LEVEL:
            raise MalformedError(f"{where}: level {self.level!r} is not in 0..{_MAX_SUMMARY_LEVEL}")
        full, partial = self.size >> self.level, self.size & ((1 << self.level) - 1)
        want = (full + (partial > 0), full, partial.bit_count())
        got = (len(self.firsts), len(self.chunk_hashes), len(self.tail))
        if want != got:
            raise MalformedError(
                f"{where}: {self.size} members at level {self.level} need "
                f"(firsts, chunk hashes, tail hashes) = {want}, got {got}"
            )

    def chunk_of(self, member_id: str) -> int:
        """The chunk that would hold ``member_id``; :class:`VerificationError`
        if it sorts before every member."""
        _check_id(member_id, "roster summary")
        chunk = bisect.bisect_right(self.firsts, member_id) - 1
        if chunk < 0:
            raise VerificationError(
                f"roster summary: member {member_id} is not among the {self.size} members"
            )
        return chunk

    def chunk_range(self, chunk: int) -> tuple[int, int]:
        """Roster positions ``[start, end)`` of chunk ``chunk``."""
        start = chunk << self.level
        return start, min(start + (1 << self.level), self.size)


_MAX_SUMMARY_LEVEL = 24


def roster_summary(
    sorted_member_ids: Iterable[str], level: int = 12, size_hint: int | None = None
) -> RosterSummary:
    """Stream the roster once, as :func:`roster_root` does, and keep its
    :class:`RosterSummary` at chunks of ``2**level`` members."""
    where = "roster"
    _check_size_hint(size_hint, where)
    if type(level) is not int or not 0 <= level <= _MAX_SUMMARY_LEVEL:
        raise MalformedError(f"{where}: summary level {level!r} is not in 0..{_MAX_SUMMARY_LEVEL}")
    stack: list[tuple[int, bytes]] = []
    firsts: list[str] = []
    chunk_hashes: list[bytes] = []
    tail: list[bytes] = []
    count = 0
    for first, subtrees in _scan(sorted_member_ids, level, where):
        firsts.append(first)
        for sub, h in subtrees:
            _push(stack, sub, h)
            count += 1 << sub
            (chunk_hashes if sub == level else tail).append(h)
    _check_count(size_hint, count, where)
    return RosterSummary(
        _fold(stack), count, level, tuple(firsts), tuple(chunk_hashes), tuple(tail)
    )


def roster_summary_proof(
    summary: RosterSummary, chunk_ids: Sequence[str], member_id: str
) -> tuple[int, list[bytes]]:
    """Index and RFC 9162 inclusion proof of ``member_id`` in the roster that
    ``summary`` describes, from the ids of one chunk only.

    ``chunk_ids`` are the ids at :meth:`RosterSummary.chunk_range` of
    :meth:`RosterSummary.chunk_of` ``(member_id)``, in order (the storage
    layer's ``WHERE member >= firsts[c] ORDER BY member LIMIT 2**level``).
    Raises :class:`MalformedError` for a chunk of the wrong length or not
    sorted, :class:`VerificationError` if the chunk does not hash to what the
    summary holds, if the member is not in it, or if the proof does not lead
    to the summary's root (a summary whose hashes were altered).
    """
    where = "roster summary proof"
    chunk = summary.chunk_of(member_id)
    start, end = summary.chunk_range(chunk)
    ids = list(chunk_ids)
    if len(ids) != end - start:
        raise MalformedError(
            f"{where}: chunk {chunk} holds members {start}..{end - 1}, "
            f"expected {end - start} ids, got {len(ids)}"
        )
    _check_chunk(ids, start, None, where)
    leaves = _chunk_leaves(ids)
    full = end - start == 1 << summary.level
    want = [summary.chunk_hashes[chunk]] if full else list(summary.tail)
    got = [h for _, h in _subtrees(leaves, summary.level)]
    if ids[0] != summary.firsts[chunk] or got != want:
        raise VerificationError(
            f"{where}: the {len(ids)} ids given for chunk {chunk} (members {start}..{end - 1}) "
            f"do not hash to the summary's: computed {got[0].hex()}, summary {want[0].hex()}"
        )
    index = bisect.bisect_left(ids, member_id)
    if index == len(ids) or ids[index] != member_id:
        raise VerificationError(
            f"{where}: member {member_id} is not among the {summary.size} members"
        )
    tail_start = (summary.size >> summary.level) << summary.level
    tail_subtrees: dict[tuple[int, int], bytes] = {}
    pos = tail_start
    for h, sub in zip(
        summary.tail, _bits_down(summary.size - tail_start, summary.level), strict=True
    ):
        tail_subtrees[(sub, pos >> sub)] = h
        pos += 1 << sub

    def read_hashes(subtrees: Sequence[Subtree]) -> list[bytes]:
        out: list[bytes] = []
        for st in subtrees:
            if st.level >= summary.level:
                k = st.level - summary.level
                out.append(
                    _perfect_root(list(summary.chunk_hashes[st.index << k : (st.index + 1) << k]))
                )
            elif start <= st.start and st.end <= end:
                out.append(_perfect_root(leaves[st.start - start : st.end - start]))
            else:
                # Below the chunk level, a proof of a leaf in this chunk only
                # needs subtrees of this chunk or of the tail's compact range.
                out.append(tail_subtrees[(st.level, st.index)])
        return out

    reader = _FunctionReader(read_hashes)
    proof = inclusion_proof_from(reader, start + index, summary.size)
    try:
        verify_inclusion(leaves[index], start + index, summary.size, proof, summary.root)
    except VerificationError as e:
        raise VerificationError(f"{where}: the summary is not self-consistent: {e}") from e
    return start + index, proof


def _bits_down(n: int, level: int) -> list[int]:
    # The set bits of n below 2**level, largest first.
    return [b for b in range(level - 1, -1, -1) if n >> b & 1]


@dataclass(frozen=True)
class _FunctionReader:
    read: Callable[[Sequence[Subtree]], list[bytes]]

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        return self.read(subtrees)


def verify_roster_membership(
    member_id: str, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``member_id`` is leaf ``index`` of the member-set tree of
    ``size`` leaves with root ``root`` (RFC 9162 §2.1.3.2).

    Returns ``None`` on success; :class:`MalformedError` for arguments that
    cannot form a proof, :class:`VerificationError` if the proof fails.
    """
    leaf = roster_leaf(member_id)
    try:
        verify_inclusion(leaf, index, size, proof, root)
    except VerificationError as e:
        raise VerificationError(f"roster membership of {member_id}: {e}") from e


def paid_claim_leaf(claim: str, amount: int) -> bytes:
    """The paid-claims leaf hash: ``SHA-256(0x00 || claim id || amount)``, the
    id as 32 ASCII bytes and the amount in fen as a big-endian uint64."""
    where = "paid claim leaf"
    _check_id(claim, where)
    if type(amount) is not int or not 0 < amount <= MAX_SAFE_INT:
        raise MalformedError(
            f"{where}: claim {claim}: amount {amount!r} is not a positive integer of fen"
        )
    return _sha256(b"\x00" + claim.encode("ascii") + amount.to_bytes(8, "big")).digest()


def paid_claims_root(paid: Sequence[tuple[str, int]]) -> bytes:
    """RFC 9162 root over a period's paid claims ``(claim id, amount in fen)``,
    in the order they were paid (the log order of their ``claim.paid``
    entries).  A claim id may appear once; the empty list's root is
    ``SHA-256("")``."""
    seen: set[str] = set()
    leaves: list[bytes] = []
    for i, item in enumerate(paid):
        if not isinstance(item, tuple) or len(item) != 2:
            raise MalformedError(f"paid claims: item {i} is not a (claim, amount) pair")
        claim, amount = item
        leaves.append(paid_claim_leaf(claim, amount))
        if claim in seen:
            raise MalformedError(f"paid claims: item {i}: claim {claim} is listed twice")
        seen.add(claim)
    return root_hash(leaves)
