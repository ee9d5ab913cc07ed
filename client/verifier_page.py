"""The audit's check ``verifier page``: the page a pool's server serves at
``/verifier``, or a saved copy of it, against the hash the log publishes.

The comparison is :func:`verifiable.pool.verifier_page.check_page`; here is
what to compare.  The hash in force is the replay's
(:attr:`verifiable.pool.replay.PoolSummary.verifier_page`), so the check
runs only when the rules were replayed to the end.  A saved copy (``audit
--page FILE``) is compared wherever the log comes from; otherwise the page
is fetched from the audited URL, beside the log's tiles (``<URL>verifier``,
the route ``/verifier`` of a server that serves its log at its root).  A
snapshot or a folder holds no page: the check is then skipped, saying so.

The check is skipped, not failed, when the log publishes no hash: every log
written before ``verifier.published`` existed is in that case, and failing
them would make an honest pool's audit fail on the day its auditors
upgrade.  The skip says in every report that the page is held to nothing,
which is what auditors and witnesses need to see (docs/threat-model.md,
"A doctored verifier page").
"""

from __future__ import annotations

from client.fetch import Fetcher
from verifiable.findings import Finding, Status
from verifiable.pool.replay import PoolSummary
from verifiable.pool.verifier_page import PAGE_CHECK, check_page

__all__ = ["MAX_PAGE_BYTES", "PAGE_PATH", "SavedPage", "page_check"]

PAGE_PATH = "verifier"
"""The page's path below the audited URL."""

MAX_PAGE_BYTES = 16 * 1024 * 1024
"""The most the audit downloads of a page (the page aims at under 300 KB)."""

SavedPage = tuple[str, bytes]
"""A saved copy of the page: its file's name and its bytes."""


def _skip(detail: str) -> Finding:
    return Finding(PAGE_CHECK, Status.SKIP, detail)


def page_check(
    source: Fetcher, rules: str, summary: PoolSummary | None, saved: SavedPage | None = None
) -> Finding:
    """The finding ``verifier page`` of an audit of ``source`` whose rules
    replay ended with status ``rules`` (and ``summary`` when ``"ok"``).
    Raises the source's errors (:class:`~client.fetch.FetchError`) when the
    page cannot be fetched; a 404 is no page, and fails if one is published."""
    if rules != "ok" or summary is None:
        if rules == "skipped":
            return _skip("the log has no rulebook: it publishes no verifier page")
        return _skip("the rules replay did not finish: no hash in force to compare a page with")
    published = summary.verifier_page
    if saved is not None:
        name, data = saved
        return check_page(data, published, name)
    if not source.remote:
        return _skip(
            "a snapshot or folder holds no page: audit the pool server's URL, or give a "
            "saved copy with --page FILE"
        )
    if published is None:
        return check_page(None, None, source.url(PAGE_PATH))
    return check_page(source.get(PAGE_PATH, MAX_PAGE_BYTES), published, source.url(PAGE_PATH))
