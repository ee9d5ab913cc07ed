"""Honest pool histories for tests, benchmarks and the demo.

Installed (the demo and the benchmarks use it) but outside the core's import
graph: nothing in :mod:`verifiable.log` or :mod:`verifiable.pool` imports it,
and ``tests/test_layering.py`` keeps it that way.  It is an independent
oracle: it keeps its own books and must agree with the rulebook's replay.

- :mod:`~verifiable.testonly.simulate` — the simulation, played day by day
- :mod:`~verifiable.testonly.books` — its configuration and its own books
- :mod:`~verifiable.testonly.witnesses` — in-process witnesses for witnessed draws
"""
