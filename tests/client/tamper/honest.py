"""The honest base of the tamper suite, and what every kind uses.

The base is the demo pool (``mutualog-server demo``, 200 founding members,
about 6,600 entries), with one more round of real voting on top: a juror
seals a vote through the server's pool service, gets the server's receipt,
and the operator closes the round (reveals and decision).  It is built once
per session (the ``demo`` fixture in this folder's conftest).

:func:`forge_instance` puts a dishonest log into a real ``mutualog-server``
instance signed with the demo's log key; :func:`json_report` reads a
command's ``--json`` output.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from server.app import create_app
from server.config import load_settings
from server.db import make_engine
from server.keys import load_signer
from server.models import AccountRow
from server.pool_app import current_pool
from server.storage import LogStore
from tests.client.harness import LogInstance, Result, Served
from tests.client.tampering import HonestLog, Item, publish, rechain
from tests.clock import FixedClock
from verifiable.log.bodies import Choice
from verifiable.log.entry import parse_entry
from verifiable.pool.receipt import VoteReceipt

ORIGIN = "localhost/mutualog/demo"  # the demo's origin
REASON = "The discharge summary matches the notice."


def run_server(*argv: str) -> str:
    from server.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert code == 0, f"mutualog-server {' '.join(argv)}: exit {code}: {err.getvalue()}"
    return out.getvalue()


@dataclass(frozen=True)
class Demo:
    """The honest demo log, before and after the juror's round was closed."""

    instance: LogInstance
    before_vote: Path  # snapshot with the juror's claim still voting
    snapshot: Path  # snapshot of the final honest log
    receipt: Path  # the juror's receipt, as the server handed it out
    juror: str
    claim: str
    log: HonestLog  # the final honest log


def build_demo(folder: Path) -> Demo:
    """The honest demo log in ``folder``: ``mutualog-server demo`` with 200
    members, then one more round of real voting through the pool service."""
    instance = folder / "instance"
    out = run_server("--instance", str(instance), "demo", "--members", "200", "--no-serve")
    found = re.search(r"claim ([0-9a-f]{32}) is open for voting", out)
    assert found is not None, out
    claim = found[1]
    signer = load_signer(instance / "log.key")
    log = LogInstance(instance, signer.verifier().to_vkey(), signer.name)
    before = log.snapshot(folder / "before-vote.tar")
    juror, receipt, entries = _vote_and_close(instance, claim)
    receipt_file = folder / "receipt.json"
    receipt_file.write_text(json.dumps(receipt.to_json()))
    snapshot = log.snapshot(folder / "honest.tar")
    honest = HonestLog.load(entries, instance / "log.key", signer)
    return Demo(log, before, snapshot, receipt_file, juror, claim, honest)


def _vote_and_close(instance: Path, claim: str) -> tuple[str, VoteReceipt, list[bytes]]:
    """The demo's juror votes on the open claim through the server's pool
    service, and the operator closes the round once its window is over:
    the juror, the server's receipt, and the log's entries afterwards."""
    engine = make_engine(load_settings({"MUTUALOG_INSTANCE": instance}).database_url)
    app = None
    try:
        with engine.connect() as conn:
            juror = conn.execute(
                select(AccountRow.member_id).where(AccountRow.username == "juror")
            ).scalar_one()
        assert juror is not None
        store = LogStore(engine)
        last = parse_entry(store.entries(store.size() - 1, store.size())[0]).time
        clock = FixedClock(last + timedelta(minutes=1))
        overrides = {
            "MUTUALOG_INSTANCE": instance,
            "MUTUALOG_CLOCK": clock,
            "MUTUALOG_SECURE_COOKIES": False,
            "TESTING": True,
        }
        app = create_app(overrides)
        with app.app_context():
            pool = current_pool()
            view = pool.state().claim(claim)
            assert view is not None and view.votes_until is not None
            receipt = pool.seal_vote(claim, view.round, juror, Choice.APPROVE, REASON)
            clock.now = view.votes_until + timedelta(minutes=5)
            pool.close_voting(claim)
        entries = store.entries(0, store.size())
    finally:
        if app is not None:
            app.extensions["mutualog"].engine.dispose()
        engine.dispose()
    return juror, receipt, entries


def forge_instance(
    demo: Demo, folder: Path, items: list[Item], name: str = "forged"
) -> LogInstance:
    """The dishonest log in a real instance, signed with the log key."""
    return publish(folder / name, demo.log.key_file, rechain(items), demo.log.signer)


def json_report(result: Result) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(result.out)
    return report


SYNCED_BEHIND = 300  # the member synced when the log was this many entries shorter


@dataclass(frozen=True)
class Synced:
    """The log as a member first saw it, served by ``mutualog-server serve``."""

    log: LogInstance
    served: Served
