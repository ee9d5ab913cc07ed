"""The pool's operations in the server, one module a concern.

:mod:`server.pool_service` is what callers use: its
:class:`~server.pool_service.PoolService` hands each call to the room that
holds it.  The rooms:

- :mod:`~server.pool.core`: the rulebook kept in step with the stored log,
  and the one way an operation appends (through the sequencer, with the
  rulebook as its ``validate`` hook);
- :mod:`~server.pool.members`: joining, leaving, jurors and the jury pool;
- :mod:`~server.pool.claims`: a claim from filing to payment;
- :mod:`~server.pool.voting`: sealed votes, receipts, closing a vote;
- :mod:`~server.pool.erasure`: erasing private data, in the log's sight;
- :mod:`~server.pool.governance`: starting the pool, rule changes,
  overrides, closing periods;
- :mod:`~server.pool.review`: what the operator reads (the review queue, a
  claim's case file);
- :mod:`~server.pool.concerned`: who a text bound for the log concerns, and
  the private-data guard again before appending it;
- :mod:`~server.pool.outcomes`: what a finished claim action did, as facts
  for a page or a terminal to word;
- :mod:`~server.pool.errors`: the refusals.

Nothing here knows HTTP: the views and commands turn refusals into statuses.
"""

__all__: list[str] = []
