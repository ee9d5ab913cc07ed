"""``verifier.published``: the body's bounds, and the rules replay holds it
to (docs/format.md and docs/rules.md, "The verifier page")."""

from __future__ import annotations

import copy
import hashlib

import pytest

from tests.verifiable.pool.pool_builder import SMALL_POOL_RULES, PoolBuilder
from verifiable.errors import MalformedError, RuleViolation
from verifiable.findings import Status
from verifiable.log.bodies import VerifierPublished, parse_body
from verifiable.pool.replay import summarize
from verifiable.pool.verifier_page import EMPTY_SHA256, PagePublication, check_page

PAGE = b"<!doctype html><title>verifier</title>"
VALID = {"sha256": hashlib.sha256(PAGE).hexdigest(), "size": len(PAGE), "build": "mutualog-0.1.0"}


def test_the_body_reads_and_writes_back() -> None:
    body = parse_body("verifier.published", copy.deepcopy(VALID), "body")
    assert body == VerifierPublished(hashlib.sha256(PAGE).digest(), len(PAGE), "mutualog-0.1.0")
    assert body.to_json() == VALID


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        pytest.param({"sha256": "ab" * 31}, r"body\.sha256: expected 64 lowercase hex", id="short"),
        pytest.param({"sha256": "AB" * 32}, r"body\.sha256: expected 64 lowercase hex", id="upper"),
        pytest.param({"size": 0}, r"body\.size", id="size-0"),
        pytest.param({"size": -1}, r"body\.size", id="size-negative"),
        pytest.param({"build": "Mutualog 0.1"}, r"body\.build", id="build-not-a-token"),
        pytest.param({"build": ""}, r"body\.build", id="build-empty"),
        pytest.param({"name": "x"}, r"unknown field", id="unknown-field"),
    ],
)
def test_the_body_is_refused_out_of_bounds(changes: dict[str, object], match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        parse_body("verifier.published", {**VALID, **changes}, "body")


def test_a_missing_field_is_refused() -> None:
    with pytest.raises(MalformedError, match="missing field"):
        parse_body("verifier.published", {"sha256": VALID["sha256"], "size": 1}, "body")


def _pool() -> PoolBuilder:
    b = PoolBuilder(SMALL_POOL_RULES)
    b.join()
    return b


def test_publications_are_kept_and_the_last_is_in_force() -> None:
    b = _pool()
    assert b.state.pages.latest is None
    assert summarize(b.state).verifier_page is None
    first = b.publish_page(PAGE)
    seq_first = b.size - 1
    b.tick(days=1)
    second = b.publish_page(PAGE + b"\n")
    latest = b.state.pages.latest
    assert latest == PagePublication(
        b.size - 1, b.now, second.sha256, len(PAGE) + 1, "mutualog-0.1.0"
    )
    assert [p.seq for p in b.state.pages.published] == [seq_first, b.size - 1]
    assert summarize(b.state).verifier_page == latest
    # Going back to an earlier page is a change too.
    b.tick(days=1)
    b.push(first)
    assert b.state.pages.latest is not None and b.state.pages.latest.sha256 == first.sha256


def test_a_hash_not_of_32_bytes_is_refused_by_the_rules() -> None:
    """A body built in code, never encoded (the server tries a candidate
    entry before it writes it), is held to 32 bytes by the rulebook."""
    b = _pool()
    short = VerifierPublished(sha256=bytes(31), size=10, build="mutualog-0.1.0")
    with pytest.raises(RuleViolation, match=r"rule verifier\.hash: .*expected 32 bytes") as e:
        b.state.apply_body(b.size, b.now, short)
    assert e.value.rule == "verifier.hash" and e.value.seq == b.size
    assert b.state.pages.latest is None


def test_the_hash_of_no_bytes_is_refused() -> None:
    b = _pool()
    empty = VerifierPublished(sha256=EMPTY_SHA256, size=1, build="mutualog-0.1.0")
    with pytest.raises(RuleViolation, match=r"rule verifier\.hash: ") as e:
        b.feed(b.make(empty))
    assert e.value.rule == "verifier.hash"


def test_the_same_hash_again_is_refused_and_changes_nothing() -> None:
    b = _pool()
    body = b.publish_page(PAGE)
    size = b.size
    with pytest.raises(RuleViolation, match=rf"rule verifier\.unchanged: .*entry {size - 1}"):
        b.feed(b.make(body))
    assert b.size == size and len(b.state.pages.published) == 1


def test_before_the_rulebook_it_is_refused_as_every_entry_is() -> None:
    from verifiable.pool.state import PoolState

    body = VerifierPublished(hashlib.sha256(PAGE).digest(), len(PAGE), "mutualog-0.1.0")
    state = PoolState()
    with pytest.raises(RuleViolation, match=r"rules\.genesis"):
        state.apply_body(0, PoolBuilder(SMALL_POOL_RULES).now, body)


# --- check_page: the audit's check "verifier page" ---------------------------------------

PUBLISHED = PagePublication(
    7, PoolBuilder(SMALL_POOL_RULES).now, hashlib.sha256(PAGE).digest(), len(PAGE), "mutualog-0.1.0"
)


def test_the_published_page_passes() -> None:
    found = check_page(PAGE, PUBLISHED, "https://pool.example/verifier")
    assert found.status is Status.OK and found.name == "verifier page"
    assert found.detail == (
        f"the page at https://pool.example/verifier hashes to {PUBLISHED.sha256.hex()} "
        f"({len(PAGE)} bytes), the page's hash published in entry 7, built by mutualog-0.1.0"
    )


@pytest.mark.parametrize(
    "page",
    [PAGE + b" ", PAGE[:-1], b"", bytes([PAGE[0] ^ 1]) + PAGE[1:]],
    ids=["appended", "cut", "empty", "one-bit"],
)
def test_any_other_bytes_fail(page: bytes) -> None:
    found = check_page(page, PUBLISHED, "saved.html")
    assert found.status is Status.FAIL
    assert found.detail.startswith("the page at saved.html hashes to ")
    assert "not to the page's hash published in entry 7" in found.detail
    assert found.expected == f"{PUBLISHED.sha256.hex()} ({len(PAGE)} bytes)"
    assert found.found == f"{hashlib.sha256(page).hexdigest()} ({len(page)} bytes)"
    assert found.where == "saved.html"


def test_no_page_where_one_is_published_fails() -> None:
    found = check_page(None, PUBLISHED, "https://pool.example/verifier")
    assert found.status is Status.FAIL
    assert found.detail.endswith("but there is no page at https://pool.example/verifier")


def test_nothing_published_is_skipped_and_says_so() -> None:
    for page in (PAGE, None):
        found = check_page(page, None, "https://pool.example/verifier")
        assert found.status is Status.SKIP
        assert "publishes no hash of a verifier page" in found.detail
