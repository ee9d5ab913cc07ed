"""``mutualog-server demo``: a small demo builds, the rulebook's replay
accepts its log, it holds every kind of case, and its juror can vote."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import cli
from server.db import make_engine
from server.storage import LogStore
from verifiable.replay import replay


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES", "MUTUALOG_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_a_small_demo_builds_and_replays(tmp_path: Path) -> None:
    instance = tmp_path / "demo"
    result = CliRunner().invoke(
        cli, ["--instance", str(instance), "demo", "--members", "500", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"operator +username operator +password \S+", out)
    assert re.search(r"member +username member +password \S+", out)
    assert re.search(r"member +username juror +password \S+ +\(drawn to vote on claim", out)
    assert "storing the log" in result.stderr

    engine = make_engine(f"sqlite:///{instance / 'mutualog.db'}")
    try:
        store = LogStore(engine)
        entries = store.entries(0, store.size())
    finally:
        engine.dispose()
    summary = replay(entries).summary
    assert summary.members >= 500
    assert summary.claims >= 60
    assert summary.periods_closed >= 6
    stages = dict(summary.claims_by_stage)
    assert stages.get("voting", 0) >= 1 and stages.get("paid", 0) >= 1
    types = {e.split(b'"type":"', 1)[1].split(b'"', 1)[0] for e in entries}
    for kind in (b"claim.appealed", b"claim.objected", b"claim.answered", b"member.left"):
        assert kind in types
    # Outcomes: approved, rejected, missed quorum (redrawn), ineligible.
    outcomes = b"".join(e for e in entries if b'"claim.decided"' in e)
    for outcome in (b'"approved"', b'"rejected"', b'"no_quorum"', b'"ineligible"'):
        assert outcome in outcomes


def test_the_demo_refuses_an_instance_that_holds_a_log(tmp_path: Path) -> None:
    instance = tmp_path / "demo"
    runner = CliRunner()
    args = ["--instance", str(instance), "demo", "--members", "200", "--no-serve"]
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code != 0
    assert "already holds a log" in str(again.exception)
