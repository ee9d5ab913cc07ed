"""Publishing the verifier page's hash: the pool service on both backends,
and ``mutualog-server verifier publish`` (idempotent: a second run says
"already published", appends nothing and exits 0)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from server.cli import main
from server.db import make_engine, upgrade
from server.pool_app import current_pool
from server.verifier.build import page_bytes
from server.verifier_publish import build_name
from tests.clock import FixedClock
from tests.server.pool_helpers import RULES, make_pool_app
from verifiable.log.bodies import VerifierPublished
from verifiable.log.entry import parse_entry
from verifiable.pool.replay import replay


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES", "MUTUALOG_INSTANCE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_pool_app(engine, tmp_path, clock)
    with app.app_context():
        yield app
    app.extensions["mutualog"].engine.dispose()


def _entries(app: Flask) -> list[bytes]:
    store = current_pool().store
    return store.entries(0, store.size())


def test_the_service_publishes_a_hash_once_and_a_change_again(
    app: Flask, clock: FixedClock
) -> None:
    pool = current_pool()
    pool.start(RULES)
    assert pool.verifier_page() is None
    first = pool.publish_verifier(b"<!doctype html>one", "mutualog-0.1.0")
    assert first == VerifierPublished(
        hashlib.sha256(b"<!doctype html>one").digest(), 18, "mutualog-0.1.0"
    )
    size = len(_entries(app))
    assert pool.publish_verifier(b"<!doctype html>one", "mutualog-0.1.0") is None
    assert len(_entries(app)) == size
    clock.advance(days=1)
    second = pool.publish_verifier(b"<!doctype html>two", "mutualog-0.2.0")
    assert second is not None
    latest = pool.verifier_page()
    assert latest is not None and (latest.seq, latest.sha256) == (size, second.sha256)
    # The stored log replays, its summary naming the hash in force.
    entries = _entries(app)
    assert replay(entries).summary.verifier_page == latest
    assert parse_entry(entries[-1], seq=len(entries) - 1).type == "verifier.published"


def test_the_build_name_is_a_log_token() -> None:
    name = build_name()
    assert name.startswith("mutualog-")
    VerifierPublished.from_json({"sha256": "00" * 32, "size": 1, "build": name}, "body")


def _args(tmp_path: Path) -> list[str]:
    return [
        "--instance",
        str(tmp_path / "instance"),
        "--database-url",
        f"sqlite:///{tmp_path / 'pool.db'}",
    ]


@pytest.fixture
def instance(tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    upgrade(engine)
    app = make_pool_app(engine, tmp_path, clock)
    yield app
    app.extensions["mutualog"].engine.dispose()
    engine.dispose()


def test_the_command_publishes_the_served_page_then_says_already_published(
    instance: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before the pool has started, the rulebook refuses any entry.
    assert main([*_args(tmp_path), "verifier", "publish"]) == 2
    assert "rules.genesis" in capsys.readouterr().err
    with instance.app_context():
        current_pool().start(RULES)
    page = page_bytes()
    digest = hashlib.sha256(page).hexdigest()
    assert main([*_args(tmp_path), "verifier", "publish"]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"published the page's SHA-256 {digest} ({len(page)} bytes, {build_name()}) in entry 1\n"
    )
    assert main([*_args(tmp_path), "verifier", "publish"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"already published: the page's SHA-256 {digest} ")
    assert out.endswith("is in force since entry 1\n")
    with instance.app_context():
        entries = _entries(instance)
    assert len(entries) == 2
    body = parse_entry(entries[1], seq=1).body
    assert body == VerifierPublished(bytes.fromhex(digest), len(page), build_name())


def test_the_log_page_shows_the_published_hash_and_warns_of_another_page(
    app: Flask, clock: FixedClock
) -> None:
    pool = current_pool()
    pool.start(RULES)
    client = app.test_client()
    page = client.get("/log").get_data(as_text=True)
    assert 'id="page-unpublished"' in page and 'href="/verifier"' in page
    served = hashlib.sha256(page_bytes()).hexdigest()
    pool.publish_verifier(page_bytes(), "mutualog-0.1.0")
    page = client.get("/log").get_data(as_text=True)
    assert f'<code id="page-sha256">{served}</code>' in page
    assert 'id="page-mismatch"' not in page and 'id="page-unpublished"' not in page
    # A later publication of other bytes: the page served is no longer it.
    clock.advance(days=1)
    pool.publish_verifier(b"<!doctype html>another", "mutualog-0.2.0")
    page = client.get("/log").get_data(as_text=True)
    assert 'id="page-mismatch"' in page and served in page
    assert '<code id="page-build">mutualog-0.2.0</code>' in page
