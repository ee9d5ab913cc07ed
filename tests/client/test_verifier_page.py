"""The audit's check ``verifier page`` (client/verifier_page.py): what is
compared with the log's hash in force, and when the check is skipped."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from client.fetch import FetchError
from client.verifier_page import MAX_PAGE_BYTES, page_check
from verifiable.findings import Status
from verifiable.pool.periods import Ledger
from verifiable.pool.replay import PoolSummary
from verifiable.pool.verifier_page import PagePublication

PAGE = b"<!doctype html><title>verifier</title>"
URL = "https://pool.example/"


class Source:
    """What the check reads of a source: whether it is remote, and GET."""

    def __init__(self, remote: bool, page: bytes | None = None, error: bool = False) -> None:
        self.remote = remote
        self.page = page
        self.error = error
        self.asked: list[tuple[str, int]] = []

    def url(self, path: str) -> str:
        return URL + path

    def get(self, path: str, limit: int) -> bytes | None:
        self.asked.append((path, limit))
        if self.error:
            raise FetchError(f"GET {self.url(path)}: HTTP 500 Internal Server Error")
        return self.page


def _summary(published: bool = True) -> PoolSummary:
    page = PagePublication(
        12,
        datetime(2026, 1, 1, tzinfo=UTC),
        hashlib.sha256(PAGE).digest(),
        len(PAGE),
        "mutualog-0.1.0",
    )
    return PoolSummary(12, 10, 0, 3, 0, (), 0, Ledger(), (), page if published else None)


def test_the_served_page_is_fetched_beside_the_tiles_and_compared() -> None:
    source = Source(remote=True, page=PAGE)
    found = page_check(source, "ok", _summary())  # type: ignore[arg-type]
    assert found.status is Status.OK and found.name == "verifier page"
    assert f"the page at {URL}verifier hashes to" in found.detail
    assert source.asked == [("verifier", MAX_PAGE_BYTES)]


def test_a_doctored_page_fails_and_a_missing_one_too() -> None:
    doctored = page_check(Source(True, PAGE.replace(b"verifier", b"verified")), "ok", _summary())  # type: ignore[arg-type]
    assert doctored.status is Status.FAIL and doctored.where == f"{URL}verifier"
    missing = page_check(Source(True, None), "ok", _summary())  # type: ignore[arg-type]
    assert missing.status is Status.FAIL and "there is no page at" in missing.detail


def test_a_page_that_cannot_be_fetched_is_the_sources_error() -> None:
    with pytest.raises(FetchError, match="HTTP 500"):
        page_check(Source(True, error=True), "ok", _summary())  # type: ignore[arg-type]


def test_a_saved_copy_is_compared_wherever_the_log_comes_from() -> None:
    for remote in (True, False):
        source = Source(remote, page=b"not asked for")
        ok = page_check(source, "ok", _summary(), ("saved.html", PAGE))  # type: ignore[arg-type]
        assert ok.status is Status.OK and ok.detail.startswith("the page at saved.html hashes")
        bad = page_check(source, "ok", _summary(), ("saved.html", PAGE + b"\n"))  # type: ignore[arg-type]
        assert bad.status is Status.FAIL
        assert source.asked == []


@pytest.mark.parametrize(
    ("remote", "rules", "published", "reason"),
    [
        (False, "ok", True, "a snapshot or folder holds no page"),
        (True, "skipped", True, "the log has no rulebook"),
        (True, "failed", True, "the rules replay did not finish"),
        (True, "ok", False, "the log publishes no hash of a verifier page"),
    ],
    ids=["offline", "no-rulebook", "rules-failed", "not-published"],
)
def test_skipped_with_its_reason_and_nothing_fetched(
    remote: bool, rules: str, published: bool, reason: str
) -> None:
    source = Source(remote, page=PAGE)
    summary = _summary(published) if rules == "ok" else None
    found = page_check(source, rules, summary)  # type: ignore[arg-type]
    assert found.status is Status.SKIP and found.detail.startswith(reason)
    assert source.asked == []
