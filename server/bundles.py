"""Verification bundles built from the stored log (docs/api.md, "Verification bundles").

A bundle is built for a tree size the log has a signed checkpoint for (the
size a client synced), from the stored entries and the storage layer's
RFC 9162 proofs at that size, by :mod:`verifiable.pool.bundle_builder`.  Where
the claims' entries, the juror pools, the period closes and the members'
joins and leaves are is looked up in the stored log's index
(:mod:`server.log_index`).

Only the entries are read, never the pool's state: a bundle does not need
the log to replay under the pool's rules.  A log that breaks a rule still
has its bundles served, as its entries say, and the member's check is what
tells (a server that refused would only hide the evidence).  A closed
period's roster is the one its entries give (joined before the period's
moment, not left before it), summarized once per period by the index, so a
member's roster proof then costs one chunk of the roster, not a pass over
all of it.  A stored log that cannot even be decoded is
:class:`BundleUnavailableError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy import Engine

from server.log_index import StoredLogIndex, stored_index
from server.storage import LogStore, StoredLogError
from verifiable.errors import MutualogError
from verifiable.log.bundle import Bundle
from verifiable.log.fields import format_date
from verifiable.pool.bundle_builder import claim_bundle, deduction_bundle
from verifiable.pool.log_index import LogIndex

__all__ = [
    "BundleNotFoundError",
    "BundleUnavailableError",
    "build_claim_bundle",
    "build_deduction_bundle",
    "checkpoint_at",
]


class BundleNotFoundError(MutualogError):
    """What a bundle was asked about is not in the log at that size."""


class BundleUnavailableError(MutualogError):
    """The stored log cannot be read into a bundle (an entry that does not
    decode, a gap): the server's trouble, not the request's."""


class _StoreSource:
    """:class:`verifiable.pool.bundle_builder.ProofSource` over the stored log."""

    def __init__(self, store: LogStore) -> None:
        self._store = store

    def entry(self, index: int) -> bytes:
        data = self._store.entry(index)
        if data is None:
            raise StoredLogError(f"bundle: the stored log has no entry {index}")
        return data

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return self._store.inclusion_proof(index, size)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return self._store.consistency_proof(old, new)


def checkpoint_at(store: LogStore, size: int | None) -> tuple[int, bytes]:
    """The size and signed note of the checkpoint a bundle is built for: the
    one at ``size``, else the latest.  :class:`BundleNotFoundError` if the log
    signed no checkpoint at that size."""
    note = store.latest_checkpoint() if size is None else store.checkpoint(size)
    if note is None:
        what = "any size" if size is None else f"size {size}"
        raise BundleNotFoundError(f"the log has no signed checkpoint at {what}")
    if size is None:
        size = store.size()
        exact = store.checkpoint(size)
        if exact is None:
            raise BundleNotFoundError("the latest checkpoint is being written; try again")
        note = exact
    return size, note


def _built(
    engine: Engine,
    size: int | None,
    build: Callable[[StoredLogIndex, LogIndex, LogStore, int, bytes], Bundle],
) -> Bundle:
    """``build``'s bundle at ``size`` (default: the latest checkpoint), with
    the index caught up to it and locked; whatever the stored log cannot
    give is :class:`BundleUnavailableError`."""
    held = stored_index(engine)
    store = held.store
    size, note = checkpoint_at(store, size)
    with held.lock:
        try:
            return build(held, held.catch_up(size), store, size, note)
        except BundleNotFoundError:
            raise
        except MutualogError as e:
            # Anything the builder refuses about stored entries (a proof the
            # storage cannot give, an entry the index cannot place) is the
            # server's trouble.
            raise BundleUnavailableError(
                f"the stored log cannot be served as a bundle at size {size}: {e}"
            ) from e


def build_deduction_bundle(
    engine: Engine, size: int | None, member: str, period: date, sample: Sequence[str]
) -> Bundle:
    """``verify-deduction``'s bundle for ``member`` in ``period`` at ``size``
    (default: the latest checkpoint), with the whole history of each claim in
    ``sample``."""

    def build(
        held: StoredLogIndex, index: LogIndex, store: LogStore, size: int, note: bytes
    ) -> Bundle:
        closed = index.closed.get(period)
        if closed is None or closed[0] >= size:
            raise BundleNotFoundError(
                f"period {format_date(period)} has not closed in the log of size {size}"
            )
        paid = {claim for claim, _ in (index.paid.get(period) or ())}
        for claim in sample:
            if claim not in paid:
                raise BundleNotFoundError(
                    f"claim {claim} is not among the claims paid in period {format_date(period)}"
                )
        roster = held.roster(period)
        if not roster.holds(member):
            raise BundleNotFoundError(
                f"member {member} is not on the roster of period {format_date(period)}"
            )
        return deduction_bundle(
            index,
            _StoreSource(store),
            size,
            note,
            member,
            period,
            roster.ids,
            sample,
            summary=roster.summary,
        )

    return _built(engine, size, build)


def build_claim_bundle(
    engine: Engine, size: int | None, claim: str, since: int | None = None
) -> Bundle:
    """``verify-claim``'s bundle for ``claim`` at ``size`` (default: the latest
    checkpoint), with the consistency proof from ``since`` if given."""

    def build(
        held: StoredLogIndex, index: LogIndex, store: LogStore, size: int, note: bytes
    ) -> Bundle:
        record = index.claims.get(claim)
        if record is None or record.filed_seq >= size:
            raise BundleNotFoundError(f"claim {claim} is not in the log of size {size}")
        return claim_bundle(index, _StoreSource(store), size, note, claim, since)

    return _built(engine, size, build)
