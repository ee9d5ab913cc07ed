"""A whole log read through its C2SP tlog-tiles and checked end to end.

This is the one place that strings the checks together: the signed
checkpoint (C2SP tlog-checkpoint in a signed-note), every hash tile against
the checkpoint's root (C2SP tlog-tiles, RFC 9162 §2.1), every entry against
its level-0 tile, and every entry's canonical form and hash chain
(:mod:`verifiable.log.entry`).  The server's restore and the client's audit both
call it, so a snapshot that one accepts the other accepts too.

I/O enters as ``fetch``: a callable from a tile coordinate to the bytes served
at that path, or ``None`` when nothing is there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from verifiable.log.checkpoint import SignedCheckpoint, open_checkpoint
from verifiable.log.entry import ChainVerifier, Entry
from verifiable.log.note import Verifier
from verifiable.log.tiles import Fetch, TileCoord, mirror_tiles

__all__ = ["TiledLog", "VerifiedEntry", "open_tiled_log"]


@dataclass(frozen=True)
class VerifiedEntry:
    """An entry proven to be at ``index`` in the checkpoint's tree and in the chain."""

    index: int
    data: bytes
    entry: Entry


@dataclass(frozen=True)
class TiledLog:
    """A log whose checkpoint verified; :meth:`entries` checks the rest."""

    checkpoint: SignedCheckpoint
    fetch: Fetch

    @property
    def size(self) -> int:
        return self.checkpoint.checkpoint.size

    def entries(
        self, on_verified: Callable[[TileCoord, bytes], None] | None = None
    ) -> Iterator[VerifiedEntry]:
        """Every entry in order, each yielded only once its tile path to the
        root, its leaf hash and its chain link are proven.  Errors
        (:class:`~verifiable.errors.MalformedError`,
        :class:`~verifiable.errors.VerificationError`) surface while iterating,
        at the first entry or tile that fails."""
        cp = self.checkpoint.checkpoint
        chain = ChainVerifier()
        for index, data in enumerate(
            mirror_tiles(cp.size, cp.root_hash, self.fetch, on_verified=on_verified)
        ):
            yield VerifiedEntry(index, data, chain.feed(data))


def open_tiled_log(
    note_bytes: bytes,
    log_verifier: Verifier,
    origin: str,
    fetch: Fetch,
    witnesses: Sequence[Verifier] = (),
) -> TiledLog:
    """Open the log's checkpoint note (signature, origin, any witness lines)
    and return the log, ready to be read and checked entry by entry."""
    return TiledLog(open_checkpoint(note_bytes, log_verifier, origin, witnesses), fetch)
