"""RFC 9162 §2.1 Merkle tree hashing, proofs and their verification.

- §2.1.1: leaf and node hashing, the tree hash ``MTH`` (:func:`root_hash`).
- §2.1.3.1 / §2.1.3.2: inclusion proofs (:func:`inclusion_proof`,
  :func:`verify_inclusion`).
- §2.1.4.1 / §2.1.4.2: consistency proofs (:func:`consistency_proof`,
  :func:`verify_consistency`).

Every proof element of RFC 9162 is the hash of a leaf range ``[start, end)``
whose start is aligned on the smallest power of two not below its width, so it
splits into at most ``log2(n)`` *complete* subtrees (:class:`Subtree`).
Complete subtrees never change once the log has grown past them; they are what
storage and C2SP tiles hold.  Proof generation is therefore split in two: a
plan (``*_subtrees``) naming the complete subtrees a proof needs, one batched
read from any :class:`HashReader`, and a pure combination step.  The
list-taking functions are the same code over :class:`LeafHashReader`.

:class:`CompactTree` is the incremental builder a sequencer uses: it holds
only the hashes of ``root_subtrees(size)`` (the compact range), reports every
complete subtree an append finishes, and can be restored from the compact
range alone.

Verification follows the contract of transparency-dev/merkle: every hash is
exactly :data:`HASH_SIZE` bytes, ``0 <= index < size`` for inclusion and
``0 < old_size <= new_size`` for consistency.  Input that cannot be a valid
proof for its claimed sizes raises :class:`~verifiable.errors.MalformedError`;
a well-formed proof that does not lead to the expected root raises
:class:`~verifiable.errors.VerificationError`.  The verifiers return ``None``
only on success.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from verifiable.errors import MalformedError, VerificationError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_SIZE",
    "CompactTree",
    "HashReader",
    "LeafHashReader",
    "Subtree",
    "SubtreeHash",
    "consistency_proof",
    "consistency_proof_from",
    "consistency_proof_subtrees",
    "hash_leaves",
    "inclusion_proof",
    "inclusion_proof_from",
    "inclusion_proof_subtrees",
    "leaf_hash",
    "node_hash",
    "range_subtrees",
    "root_from_inclusion_proof",
    "root_hash",
    "root_hash_from",
    "root_subtrees",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32

#: RFC 9162 §2.1.1: the hash of the empty tree is the hash of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: Tree sizes are unsigned 64-bit integers in checkpoints (C2SP tlog-checkpoint)
#: and in every other implementation; anything larger cannot be a real log.
MAX_SIZE = (1 << 64) - 1

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def hash_leaves(entries: Iterable[bytes]) -> list[bytes]:
    """Leaf hashes of ``entries``, in order (a fast batch :func:`leaf_hash`)."""
    sha = _sha256
    return [sha(b"\x00" + entry).digest() for entry in entries]


class Subtree(NamedTuple):
    """A complete subtree: the 2**level leaves starting at leaf index << level.

    Complete subtrees never change once the log has grown past them, so their
    hashes are what storage (and tiles) hold.
    """

    level: int
    # The field shadows tuple.index(); the name is the shared contract with
    # the tiles module, and nothing here needs tuple.index().
    index: int  # type: ignore[assignment]

    @property
    def start(self) -> int:
        """First leaf index covered."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """One past the last leaf index covered."""
        return (self.index + 1) << self.level


class SubtreeHash(NamedTuple):
    """The hash of one complete subtree, as :class:`CompactTree` reports it."""

    level: int
    index: int  # type: ignore[assignment]  # as in Subtree
    hash: bytes

    @property
    def subtree(self) -> Subtree:
        return Subtree(self.level, self.index)


class HashReader(Protocol):
    """A source of complete-subtree hashes (stored tiles, a database, a list)."""

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        """Return the hash of each subtree, in order."""
        ...


# --- argument checks ------------------------------------------------------


def _check_int(value: object, name: str, where: str) -> int:
    # bool is an int subclass; a True "size" is a caller bug, not size 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedError(f"{where}: {name} is {type(value).__name__}, expected int")
    if not 0 <= value <= MAX_SIZE:
        raise MalformedError(f"{where}: {name} {value} is outside 0..{MAX_SIZE}")
    return value


def _check_hash(value: object, name: str, where: str) -> bytes:
    if not isinstance(value, bytes):
        raise MalformedError(
            f"{where}: {name} is {type(value).__name__}, expected {HASH_SIZE} bytes"
        )
    if len(value) != HASH_SIZE:
        raise MalformedError(f"{where}: {name} is {len(value)} bytes, expected {HASH_SIZE}")
    return value


def _check_hash_list(values: Sequence[bytes], name: str, where: str) -> None:
    # One C-level pass in the common case; the slow loop only names the culprit.
    if not values:
        return
    if set(map(type, values)) == {bytes} and set(map(len, values)) == {HASH_SIZE}:
        return
    for i, value in enumerate(values):
        _check_hash(value, f"{name} {i}", where)


def _check_proof_shape(proof: object, where: str) -> Sequence[bytes]:
    # A lone bytes value is a Sequence too (of ints); reject it by name.
    if isinstance(proof, (bytes, bytearray, str)) or not isinstance(proof, Sequence):
        raise MalformedError(
            f"{where}: hashes given as {type(proof).__name__}, expected a sequence of hashes"
        )
    return proof


# --- planning: which complete subtrees a result needs ----------------------


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162 §2.1.1: the largest power of two smaller than n > 1."""
    return 1 << ((n - 1).bit_length() - 1)


def range_subtrees(start: int, end: int) -> list[Subtree]:
    """Split the leaf range ``[start, end)`` into complete subtrees, left to right.

    ``start`` must be a multiple of the smallest power of two not below
    ``end - start`` (true of the whole tree and of every range an RFC 9162
    proof names); then the split follows the binary digits of the width.
    """
    width = end - start
    if start < 0 or width < 0 or (width and start % (1 << (width - 1).bit_length())):
        raise MalformedError(f"leaf range [{start}, {end}) is not aligned to a subtree of the tree")
    out: list[Subtree] = []
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            out.append(Subtree(level, start >> level))
            start += 1 << level
    return out


def root_subtrees(size: int) -> list[Subtree]:
    """The maximal complete subtrees of a tree of ``size`` leaves, left to right.

    Their hashes are the compact range from which the root, and every later
    root, can be computed without the leaves.
    """
    _check_int(size, "size", "root subtrees")
    return range_subtrees(0, size)


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    # RFC 9162 §2.1.3.1 PATH(m, D[n]) unrolled top-down; elements come out
    # root-first and are reversed to the RFC's leaf-first order.
    ranges: list[tuple[int, int]] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _largest_power_of_two_below(n)
        if m < k:
            ranges.append((start + k, start + n))
            n = k
        else:
            ranges.append((start, start + k))
            start, m, n = start + k, m - k, n - k
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    # RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b) unrolled top-down, as above.
    ranges: list[tuple[int, int]] = []
    start, m, n, whole_old_tree = 0, old_size, new_size, True
    while m != n:
        k = _largest_power_of_two_below(n)
        if m <= k:
            ranges.append((start + k, start + n))
            n = k
        else:
            ranges.append((start, start + k))
            start, m, n, whole_old_tree = start + k, m - k, n - k, False
    # Where SUBPROOF's b is still true the old tree is this very subtree, and
    # the verifier already holds its hash (the old root): RFC 9162 leaves it out.
    if not whole_old_tree:
        ranges.append((start, start + n))
    ranges.reverse()
    return ranges


def _inclusion_where(index: object, size: object) -> str:
    return f"inclusion proof for leaf {index} in tree of size {size}"


def _consistency_where(old_size: object, new_size: object) -> str:
    return f"consistency proof from size {old_size} to size {new_size}"


def _check_inclusion_args(index: object, size: object) -> tuple[int, int]:
    # The fast path keeps message formatting off the verifiers' hot path.
    if type(index) is int and type(size) is int and 0 <= index < size <= MAX_SIZE:
        return index, size
    where = _inclusion_where(index, size)
    size = _check_int(size, "size", where)
    index = _check_int(index, "index", where)
    if size == 0:
        raise MalformedError(f"{where}: a tree of size 0 has no leaves")
    if index >= size:
        raise MalformedError(f"{where}: leaf index {index} is not below tree size {size}")
    return index, size


def _check_consistency_args(old_size: object, new_size: object) -> tuple[int, int]:
    if type(old_size) is int and type(new_size) is int and 0 < old_size <= new_size <= MAX_SIZE:
        return old_size, new_size
    where = _consistency_where(old_size, new_size)
    old_size = _check_int(old_size, "old size", where)
    new_size = _check_int(new_size, "new size", where)
    if old_size == 0:
        raise MalformedError(f"{where}: old size must be at least 1")
    if old_size > new_size:
        raise MalformedError(f"{where}: old size {old_size} exceeds new size {new_size}")
    return old_size, new_size


_new_subtree = tuple.__new__


def _expand(ranges: list[tuple[int, int]]) -> tuple[list[Subtree], list[int]]:
    # The ranges come from the RFC recursions, so they are aligned.  All but
    # at most one of them are complete subtrees (a power-of-two width): those
    # skip range_subtrees and its checks.  This is the proof-serving hot path.
    subtrees: list[Subtree] = []
    counts: list[int] = []
    for start, end in ranges:
        width = end - start
        if width & (width - 1):
            parts = range_subtrees(start, end)
            subtrees.extend(parts)
            counts.append(len(parts))
        else:
            level = width.bit_length() - 1
            subtrees.append(_new_subtree(Subtree, (level, start >> level)))
            counts.append(1)
    return subtrees, counts


def inclusion_proof_subtrees(index: int, size: int) -> list[Subtree]:
    """The complete subtrees whose hashes make up the inclusion proof of leaf
    ``index`` in a tree of ``size`` leaves (RFC 9162 §2.1.3.1).

    At most one proof element (the right part of the tree) is not itself a
    complete subtree; it splits into at most ``log2(size)`` of them, so the
    list has O(log size) entries.
    """
    index, size = _check_inclusion_args(index, size)
    return _expand(_inclusion_ranges(index, size))[0]


def consistency_proof_subtrees(old_size: int, new_size: int) -> list[Subtree]:
    """The complete subtrees whose hashes make up the consistency proof from
    ``old_size`` to ``new_size`` (RFC 9162 §2.1.4.1); O(log new_size) entries."""
    old_size, new_size = _check_consistency_args(old_size, new_size)
    return _expand(_consistency_ranges(old_size, new_size))[0]


# --- combination: hashes of complete subtrees to proofs and roots ----------


def _fold(hashes: Sequence[bytes]) -> bytes:
    # Adjacent complete subtrees of strictly decreasing size, as range_subtrees
    # gives them, join right to left: that is the RFC's split at the largest
    # power of two, applied recursively.
    sha = _sha256
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = sha(b"\x01" + h + acc).digest()
    return acc


def _read(reader: HashReader, subtrees: list[Subtree], where: str) -> list[bytes]:
    if not subtrees:
        return []
    hashes = reader.read_hashes(subtrees)
    if not isinstance(hashes, list) or len(hashes) != len(subtrees):
        got = f"a list of {len(hashes)}" if isinstance(hashes, list) else type(hashes).__name__
        raise MalformedError(
            f"{where}: hash reader returned {got} for a batch of {len(subtrees)} subtrees"
        )
    _check_hash_list(hashes, "read hash", where)
    return hashes


def _combine(reader: HashReader, ranges: list[tuple[int, int]], where: str) -> list[bytes]:
    subtrees, counts = _expand(ranges)
    hashes = _read(reader, subtrees, where)
    proof: list[bytes] = []
    pos = 0
    for count in counts:
        proof.append(hashes[pos] if count == 1 else _fold(hashes[pos : pos + count]))
        pos += count
    return proof


def inclusion_proof_from(reader: HashReader, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 inclusion proof, from complete-subtree hashes.

    Makes one ``reader.read_hashes`` call for the subtrees of
    :func:`inclusion_proof_subtrees` (none if the proof is empty).
    """
    index, size = _check_inclusion_args(index, size)
    return _combine(reader, _inclusion_ranges(index, size), _inclusion_where(index, size))


def consistency_proof_from(reader: HashReader, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 consistency proof, from complete-subtree hashes.

    Makes one ``reader.read_hashes`` call for the subtrees of
    :func:`consistency_proof_subtrees` (none if the proof is empty).
    """
    old_size, new_size = _check_consistency_args(old_size, new_size)
    return _combine(
        reader,
        _consistency_ranges(old_size, new_size),
        _consistency_where(old_size, new_size),
    )


def root_hash_from(reader: HashReader, size: int) -> bytes:
    """RFC 9162 §2.1.1 tree hash of the first ``size`` leaves, from the hashes
    of :func:`root_subtrees` (one ``read_hashes`` call; none for size 0)."""
    subtrees = root_subtrees(size)
    if not subtrees:
        return EMPTY_ROOT
    return _fold(_read(reader, subtrees, f"root of tree of size {size}"))


def _perfect_root(leaf_hashes: Sequence[bytes]) -> bytes:
    # Pairing level by level and promoting an odd last node unchanged builds
    # exactly the RFC tree (split at the largest power of two below n): the
    # promoted node is the right border, which the RFC also never pairs at
    # that level.  Local bindings and a list comprehension per level keep the
    # per-hash interpreter overhead small; this is the hot loop of root_hash.
    sha = _sha256
    level = leaf_hashes if isinstance(leaf_hashes, list) else list(leaf_hashes)
    while len(level) > 1:
        it = iter(level)
        nxt = [sha(b"\x01" + left + right).digest() for left, right in zip(it, it, strict=False)]
        if len(level) & 1:
            nxt.append(level[-1])
        level = nxt
    return level[0]


class LeafHashReader:
    """A :class:`HashReader` over an in-memory list of leaf hashes.

    Each subtree hash is recomputed from its leaves, so a proof costs O(n)
    hashing, as in RFC 9162's own definition; storage-backed readers make it
    O(log n).
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self._leaves = leaf_hashes

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        leaves = self._leaves
        out: list[bytes] = []
        for subtree in subtrees:
            start, end = subtree.start, subtree.end
            if subtree.level < 0 or subtree.index < 0 or end > len(leaves):
                raise MalformedError(
                    f"subtree at level {subtree.level}, index {subtree.index} "
                    f"(leaves {start}..{end - 1}) is outside the {len(leaves)} leaves"
                )
            out.append(leaves[start] if end - start == 1 else _perfect_root(leaves[start:end]))
        return out


def _check_leaf_list(leaf_hashes: Sequence[bytes], size: int, where: str) -> None:
    if size > len(leaf_hashes):
        raise MalformedError(f"{where}: the leaf hash list has length {len(leaf_hashes)}")
    _check_hash_list(leaf_hashes[:size], "leaf hash", where)


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.1 ``MTH``: the root of the tree of these leaf hashes."""
    _check_hash_list(leaf_hashes, "leaf hash", "root hash")
    if not leaf_hashes:
        return EMPTY_ROOT
    return _perfect_root(leaf_hashes)


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[0:size])`` over the given leaf hashes."""
    index, size = _check_inclusion_args(index, size)
    _check_leaf_list(leaf_hashes, size, _inclusion_where(index, size))
    return inclusion_proof_from(LeafHashReader(leaf_hashes), index, size)


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(old_size, D[0:new_size])`` over the leaf hashes."""
    old_size, new_size = _check_consistency_args(old_size, new_size)
    _check_leaf_list(leaf_hashes, new_size, _consistency_where(old_size, new_size))
    return consistency_proof_from(LeafHashReader(leaf_hashes), old_size, new_size)


# --- verification ---------------------------------------------------------


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root that ``proof`` implies for ``leaf_hash`` at ``index`` in a tree
    of ``size`` leaves (RFC 9162 §2.1.3.2, without the final comparison).

    Raises :class:`MalformedError` if the arguments cannot describe a valid
    proof (index out of range, wrong proof length, a hash not 32 bytes).
    """
    index, size = _check_inclusion_args(index, size)
    if leaf_hash.__class__ is not bytes or len(leaf_hash) != HASH_SIZE:
        _check_hash(leaf_hash, "leaf hash", _inclusion_where(index, size))
    if proof.__class__ is not list:
        proof = _check_proof_shape(proof, _inclusion_where(index, size))
    # Below level `inner` the paths to the leaf and to the last leaf differ, so
    # the leaf has a sibling at every level, on the side its index bit says.
    # From `inner` up the leaf's ancestors are on the right border: they have
    # a (left) sibling only where the index has a 1 bit.
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    if len(proof) != inner + border:
        raise MalformedError(
            f"{_inclusion_where(index, size)}: proof length is {len(proof)}, "
            f"expected {inner + border}"
        )
    sha, hash_size = _sha256, HASH_SIZE
    h = leaf_hash
    for i, p in enumerate(proof):
        if p.__class__ is not bytes or len(p) != hash_size:
            _check_hash(p, f"proof hash {i}", _inclusion_where(index, size))
        if i >= inner or index >> i & 1:
            h = sha(b"\x01" + p + h).digest()
        else:
            h = sha(b"\x01" + h + p).digest()
    return h


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: check that ``proof`` shows ``leaf_hash`` at ``index``
    in the tree of ``size`` leaves whose root is ``root``.

    Returns ``None`` on success; raises :class:`MalformedError` for arguments
    that cannot form a valid proof and :class:`VerificationError` when the
    computed root differs from ``root``.
    """
    if root.__class__ is not bytes or len(root) != HASH_SIZE:
        _check_hash(root, "root", _inclusion_where(index, size))
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if computed != root:
        raise VerificationError(
            f"{_inclusion_where(index, size)}: computed root {computed.hex()}, "
            f"expected {root.hex()}"
        )


def verify_consistency(
    old_size: int,
    new_size: int,
    proof: Sequence[bytes],
    old_root: bytes,
    new_root: bytes,
) -> None:
    """RFC 9162 §2.1.4.2: check that the tree of ``new_size`` leaves with root
    ``new_root`` extends the tree of ``old_size`` leaves with root ``old_root``.

    The contract is ``0 < old_size <= new_size`` (transparency-dev/merkle's);
    equal sizes need an empty proof and equal roots.  Returns ``None`` on
    success; raises :class:`MalformedError` for arguments that cannot form a
    valid proof and :class:`VerificationError` when a computed root differs.
    """
    old_size, new_size = _check_consistency_args(old_size, new_size)
    where = _consistency_where(old_size, new_size)
    _check_hash(old_root, "old root", where)
    _check_hash(new_root, "new root", where)
    proof = _check_proof_shape(proof, where)
    _check_hash_list(proof, "proof hash", where)
    if old_size == new_size:
        if proof:
            raise MalformedError(
                f"{where}: proof length is {len(proof)}, expected 0 for equal sizes"
            )
        if old_root != new_root:
            raise VerificationError(
                f"{where}: roots differ for equal sizes: old root {old_root.hex()}, "
                f"new root {new_root.hex()}"
            )
        return

    # The proof starts from the largest complete subtree ending at old_size
    # (level `shift`); its hash is old_root itself when that subtree is the
    # whole old tree, and the first proof element otherwise.  What follows is
    # the inclusion path of that subtree in the new tree, from level `shift`.
    shift = (old_size & -old_size).bit_length() - 1
    last = old_size - 1
    inner = (last ^ (new_size - 1)).bit_length()
    border = (last >> inner).bit_count()
    inner -= shift
    start = 0 if old_size == 1 << shift else 1
    if len(proof) != start + inner + border:
        raise MalformedError(
            f"{where}: proof length is {len(proof)}, expected {start + inner + border}"
        )
    seed = old_root if start == 0 else proof[0]
    mask = last >> shift
    sha = _sha256
    old_h = new_h = seed
    for i in range(inner):
        p = proof[start + i]
        if mask >> i & 1:
            # A left sibling lies inside both trees.
            old_h = sha(b"\x01" + p + old_h).digest()
            new_h = sha(b"\x01" + p + new_h).digest()
        else:
            # A right sibling lies wholly beyond old_size: new tree only.
            new_h = sha(b"\x01" + new_h + p).digest()
    for p in proof[start + inner :]:
        old_h = sha(b"\x01" + p + old_h).digest()
        new_h = sha(b"\x01" + p + new_h).digest()
    if old_h != old_root:
        raise VerificationError(
            f"{where}: computed old root {old_h.hex()}, expected {old_root.hex()}"
        )
    if new_h != new_root:
        raise VerificationError(
            f"{where}: computed new root {new_h.hex()}, expected {new_root.hex()}"
        )


# --- incremental building -------------------------------------------------


class CompactTree:
    """An append-only Merkle tree that keeps only its compact range.

    The state is the hashes of :func:`root_subtrees` of the current size:
    at most 64 hashes whatever the size.  Each append reports the complete
    subtrees it finishes (the leaf itself, then every parent it completes),
    which is exactly what storage must persist to serve proofs and tiles.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_compact_range(cls, size: int, hashes: Sequence[bytes]) -> CompactTree:
        """Resume a tree of ``size`` leaves from the hashes of
        ``root_subtrees(size)``, in that order (as :meth:`compact_range` gives)."""
        where = f"compact range of tree of size {size}"
        size = _check_int(size, "size", where)
        hashes = _check_proof_shape(hashes, where)
        want = size.bit_count()
        if len(hashes) != want:
            raise MalformedError(f"{where}: length is {len(hashes)}, expected {want}")
        _check_hash_list(hashes, "hash", where)
        tree = cls()
        tree._size = size
        tree._hashes = list(hashes)
        return tree

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def compact_range(self) -> list[bytes]:
        """Hashes of ``root_subtrees(self.size)``, left to right."""
        return list(self._hashes)

    def root(self) -> bytes:
        """RFC 9162 §2.1.1 tree hash at the current size."""
        if not self._hashes:
            return EMPTY_ROOT
        return _fold(self._hashes)

    def append(self, leaf_hash: bytes) -> list[SubtreeHash]:
        """Append one leaf hash; return the complete subtrees it finishes,
        smallest first (the leaf at level 0, then each completed parent)."""
        where = f"append at index {self._size}"
        _check_hash(leaf_hash, "leaf hash", where)
        if self._size >= MAX_SIZE:
            raise MalformedError(f"{where}: tree is full ({MAX_SIZE} leaves)")
        return self._append(leaf_hash)

    def _append(self, leaf_hash: bytes) -> list[SubtreeHash]:
        stack = self._hashes
        index = self._size
        out = [SubtreeHash(0, index, leaf_hash)]
        h = leaf_hash
        level = 0
        sha = _sha256
        # Each trailing 1 bit of the old size is a complete subtree on the
        # stack of the same size as the one just finished: they merge.
        while index & 1:
            h = sha(b"\x01" + stack.pop() + h).digest()
            level += 1
            index >>= 1
            out.append(SubtreeHash(level, index, h))
        stack.append(h)
        self._size += 1
        return out

    def extend(self, leaf_hashes: Sequence[bytes]) -> list[SubtreeHash]:
        """Append leaf hashes in order; return every complete subtree finished,
        in the order the single appends would have reported them."""
        where = f"append at index {self._size}"
        _check_hash_list(leaf_hashes, "leaf hash", where)
        if self._size + len(leaf_hashes) > MAX_SIZE:
            raise MalformedError(f"{where}: {len(leaf_hashes)} more leaves would exceed {MAX_SIZE}")
        out: list[SubtreeHash] = []
        append = self._append
        for h in leaf_hashes:
            out.extend(append(h))
        return out
