"""Batched hash reads: the proofs that threads ask for at the same time
share one query.

On PostgreSQL a proof costs one round trip to the database, and the round
trip, not the query (about 0.05 ms for the 25 index lookups of a proof at a
million entries) or the Python around it, is what limits how many proofs a
worker serves.  :class:`HashBatcher` is group commit for reads: a thread
that asks while no query is running runs one for itself at once; threads
that ask while it runs queue up, and when it returns, the first of them runs
one query for all of them.  A lone caller waits for nothing; under load,
each round trip serves as many proofs as arrived during the last one.

Nothing is kept between queries — no cache that could serve a hash of
another tree after a restore, and no memory that grows with the log: the
queue holds at most one request per waiting thread.  Each caller gets the
rows of the whole batch's query, a snapshot in which every row it asked
for was read together, as before.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence

from verifiable.log.merkle import Subtree

__all__ = ["MAX_BATCH", "Found", "HashBatcher"]

#: Requests served by one query at most (about 25 keys each at a million
#: entries): bounds the query's size and the wait of the last in line.
MAX_BATCH = 64

Found = dict[tuple[int, int], bytes]


class _Request:
    __slots__ = ("done", "error", "keys", "lead", "result")

    def __init__(self, keys: Sequence[Subtree]) -> None:
        self.keys = keys
        # Only a request that waits needs an event (a lone caller's never does).
        self.done: threading.Event | None = None
        self.result: Found | None = None
        self.error: BaseException | None = None
        self.lead = False

    def outcome(self) -> Found:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class HashBatcher:
    """Serves ``fetch(keys)`` calls from many threads with as few calls of
    ``fetch_many`` (one query for a list of keys) as they allow."""

    def __init__(self, fetch_many: Callable[[Sequence[Subtree]], Found]) -> None:
        self._fetch_many = fetch_many
        self._lock = threading.Lock()
        self._queue: deque[_Request] = deque()
        self._running = False

    def fetch(self, keys: Sequence[Subtree]) -> Found:
        """The stored hashes of those of ``keys`` the log has (and perhaps
        of other threads' keys), keyed by ``(level, index)``."""
        request = _Request(keys)
        with self._lock:
            self._queue.append(request)
            lead = not self._running
            if not lead:
                done = request.done = threading.Event()
            self._running = True
        if not lead:
            done.wait()
            if not request.lead:
                return request.outcome()
        # The leader's request is first in the queue: the queue is empty
        # whenever no query is running, and a leader hands over to the head.
        while request.result is None and request.error is None:
            with self._lock:
                count = min(len(self._queue), MAX_BATCH)
                batch = [self._queue.popleft() for _ in range(count)]
            self._serve(batch)
        with self._lock:
            if self._queue:
                head = self._queue[0]
                head.lead = True
                assert head.done is not None  # queued while a query ran
                head.done.set()
            else:
                self._running = False
        return request.outcome()

    def _serve(self, batch: list[_Request]) -> None:
        keys: Sequence[Subtree]
        if len(batch) == 1:
            keys = batch[0].keys
        else:
            keys = list(dict.fromkeys(key for request in batch for key in request.keys))
        try:
            found = self._fetch_many(keys)
        except BaseException as e:  # every waiter gets the failure, none hangs
            for request in batch:
                request.error = e
                if request.done is not None:
                    request.done.set()
            return
        for request in batch:
            request.result = found
            if request.done is not None:
                request.done.set()
