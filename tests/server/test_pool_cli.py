"""``mutualog-server pool``: the operator's commands, in-process.

The commands run with the system clock, as they do in production, so the
pool is built at times before now: started twenty days ago, its windows
of two days long over by the time a command runs.  Every refusal exits 2
with one line on stderr and leaves the log and every table as they were.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from server.cli import main
from server.db import make_engine, upgrade
from server.pool_app import current_pool
from server.private.evidence import Upload
from server.private.members import member_details
from tests.clock import FixedClock
from tests.server.pool_helpers import PDF, RULES, add_members, make_pool_app
from tests.server.redaction_files import CLEAN_TEXT, clean_pdf, pdf, redact_all, text_stream
from tests.server.test_authorization import state_of
from verifiable.log.bodies import (
    Choice,
    ClaimAnswered,
    ClaimDecided,
    ClaimNoticed,
    ClaimPaid,
    DataErased,
    OperatorOverride,
    Outcome,
    PanelDrawn,
    PeriodClosed,
    PoolRules,
)
from verifiable.log.entry import parse_entry
from verifiable.pool.replay import replay


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "MUTUALOG_SECRET_KEY",
        "MUTUALOG_SECURE_COOKIES",
        "MUTUALOG_INSTANCE",
        "MUTUALOG_DATABASE_URL",
        "MUTUALOG_KEY_FILE",
        "MUTUALOG_ORIGIN",
    ):
        monkeypatch.delenv(name, raising=False)


@dataclass(frozen=True)
class Built:
    """A folder holding an instance (its key) and a database, and its claims."""

    folder: Path
    filed: str  # no notice yet
    noticed: str  # noticed, with an objection not answered
    drawable: str  # noticed, its objection window over
    closable: str  # voting, its window over, every juror voted to approve
    waiting: str  # diagnosed inside the waiting period
    objection: int
    claimant: str  # of ``filed``


def _build(folder: Path) -> Built:
    engine = make_engine(f"sqlite:///{folder / 'pool.db'}")
    upgrade(engine)
    # Twenty days ago, so that by now every two-day window opened here is over.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    clock = FixedClock(start)
    app = make_pool_app(engine, folder, clock)
    try:
        with app.app_context():
            pool = current_pool()
            pool.start(RULES)
            members = list(add_members(pool, 7, "member", clock()))
            for member in members:
                pool.qualify_juror(member)
            pool.commit_jury_pool()
            clock.advance(days=11)
            claims = [
                pool.file_claim(m, "cancer", 5_000_000, clock().date(), [_upload()])
                for m in members[:4]
            ]
            filed, noticed, drawable, closable = claims
            for claim in (drawable, closable):
                redact_all(pool, claim)
                pool.publish_notice(claim, "A member aged 18-39 asks for aid for cancer.")
            clock.advance(days=3)
            panel = pool.draw_panel(closable)
            for juror in panel.jurors:
                pool.seal_vote(closable, 1, juror, Choice.APPROVE, "The records are clear.")
            redact_all(pool, noticed)
            pool.publish_notice(noticed, "A member aged 18-39 asks for aid for cancer.")
            objection = pool.file_objection(noticed, members[5], "Looks high.")
            late = next(iter(add_members(pool, 1, "late", clock())))
            waiting = pool.file_claim(late, "stroke", 100_000, clock().date(), [_upload()])
    finally:
        app.extensions["mutualog"].engine.dispose()
        engine.dispose()
    return Built(folder, filed, noticed, drawable, closable, waiting, objection, members[0])


def _upload() -> Upload:
    return Upload(PDF, "application/pdf", "scan.pdf")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("pool-cli"))


@dataclass
class Instance:
    folder: Path
    app: Flask
    engine: Engine

    @property
    def args(self) -> list[str]:
        return [
            "--instance",
            str(self.folder / "instance"),
            "--database-url",
            f"sqlite:///{self.folder / 'pool.db'}",
        ]

    def entries(self) -> list[bytes]:
        with self.app.app_context():
            store = current_pool().store
            return store.entries(0, store.size())

    def last(self) -> object:
        log = self.entries()
        return parse_entry(log[-1], seq=len(log) - 1).body


@pytest.fixture
def instance(built: Built, tmp_path: Path) -> Iterator[Instance]:
    folder = tmp_path / "copy"
    shutil.copytree(built.folder, folder)
    engine = make_engine(f"sqlite:///{folder / 'pool.db'}")
    app = make_pool_app(engine, folder, FixedClock(datetime.now(UTC)))
    yield Instance(folder, app, engine)
    app.extensions["mutualog"].engine.dispose()
    engine.dispose()


def run(instance: Instance, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*instance.args, "pool", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- commands that go through -------------------------------------------------------


def _redact_through_the_command(
    built: Built, instance: Instance, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pool redact``: a copy still holding an ID number is refused (exit 2,
    nothing stored); a clean one is stored, its page images written out."""
    size = len(instance.entries())
    leaky = instance.folder / "leaky.pdf"
    leaky.write_bytes(pdf([text_stream([CLEAN_TEXT, "ID 110105199003070025"], "1 g")]))
    code, out, err = run(instance, capsys, "redact", built.filed, "1", str(leaky))
    assert code == 2 and out == "" and "text, page 1" in err and "110105" not in err
    clean = instance.folder / "clean.pdf"
    clean.write_bytes(clean_pdf(2))
    pages = instance.folder / "pages"
    code, out, err = run(
        instance, capsys, "redact", built.filed, "1", str(clean), "--pages-to", str(pages)
    )
    assert (code, err) == (0, "") and "2 page(s), commitment" in out
    assert sorted(p.name for p in pages.iterdir()) == [
        f"claim-{built.filed}-document-1-page-{n}.png" for n in (1, 2)
    ]
    assert len(instance.entries()) == size  # a copy appends nothing


def test_a_claim_through_the_commands(
    built: Built, instance: Instance, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(instance, capsys, "queue")
    assert code == 0
    assert f"{built.filed}  filed     write the notice" in out
    assert f"{built.noticed}  noticed   answer objections" in out
    assert f"{built.drawable}  noticed   draw the panel" in out
    assert f"{built.closable}  voting    close voting" in out
    assert f"{built.waiting}  filed     decide ineligible (waiting period)" in out
    assert "is due to close" in out

    text_file = instance.folder / "notice.txt"
    text_file.write_text("A member aged 18-39 asks for aid for cancer.\r\n", encoding="utf-8")
    notice = ("notice", built.filed, "--text-file", str(text_file), "--amount", "300")
    # No notice before the panel's redacted copies: refused, nothing appended.
    code, out, err = run(instance, capsys, *notice)
    assert code == 2 and "redacted copy of every evidence document" in err
    _redact_through_the_command(built, instance, capsys)
    code, out, err = run(instance, capsys, *notice)
    assert (code, err) == (0, "")
    assert out.startswith(f"noticed claim {built.filed}: aid proposed 300 fen")
    notice = instance.last()
    assert isinstance(notice, ClaimNoticed)
    assert notice.text == "A member aged 18-39 asks for aid for cancer."

    answer = ("answer", built.noticed, str(built.objection), "--text", "The bills support it.")
    assert run(instance, capsys, *answer)[0] == 0
    assert isinstance(instance.last(), ClaimAnswered)

    assert run(instance, capsys, "draw", built.drawable)[0] == 0
    assert isinstance(instance.last(), PanelDrawn)

    code, out, _ = run(instance, capsys, "close-voting", built.closable)
    assert code == 0 and "3 approve, 0 reject; approved" in out
    decided = instance.last()
    assert isinstance(decided, ClaimDecided) and decided.outcome is Outcome.APPROVED

    code, out, _ = run(instance, capsys, "pay", built.closable)
    assert code == 0 and out.startswith(f"paid claim {built.closable}: 5000000 fen")
    assert isinstance(instance.last(), ClaimPaid)

    assert run(instance, capsys, "decide-ineligible", built.waiting)[0] == 0
    decided = instance.last()
    assert isinstance(decided, ClaimDecided) and decided.outcome is Outcome.INELIGIBLE

    code, out, _ = run(instance, capsys, "close-period")
    assert code == 0 and out.startswith("closed period ")
    assert isinstance(instance.last(), PeriodClosed)

    rules = instance.folder / "rules.json"
    rules.write_text(json.dumps({"share.fee_rate_bp": 700}), encoding="utf-8")
    effective = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    change = ("rules", "--file", str(rules), "--effective", effective, "--reason", "Lower fee.")
    code, out, _ = run(instance, capsys, *change)
    assert code == 0 and f"in force from {effective}T00:00:00Z" in out
    body = instance.last()
    assert isinstance(body, PoolRules) and dict(body.rules) == {"share.fee_rate_bp": 700}

    code, out, _ = run(instance, capsys, "override", "note", "rules", "--reason", "A test.")
    assert code == 0 and "logged override note on rules" in out
    assert isinstance(instance.last(), OperatorOverride)

    code, out, _ = run(instance, capsys, "erase-evidence", built.filed, "--reason", "Asked.")
    assert code == 0 and "erased 1 evidence document(s)" in out
    assert isinstance(instance.last(), DataErased)
    assert run(instance, capsys, "erase-member", built.claimant, "--reason", "Asked.")[0] == 0
    assert member_details(instance.engine, built.claimant) is None
    replay(instance.entries())


# --- refusals: exit 2, one line, nothing appended or stored ---------------------------


REFUSED = [
    ("notice-voting", ["notice", "{closable}", "--text", "x"], "is voting"),
    ("notice-no-text", ["notice", "{filed}"], "exactly one of --text and --text-file"),
    ("notice-two-texts", ["notice", "{filed}", "--text", "x", "--text-file", "{file}"], "one of"),
    ("notice-empty-text", ["notice", "{filed}", "--text", " "], "the text is empty"),
    ("notice-bidi", ["notice", "{filed}", "--text", "ok\u202eko"], "U+202E at position 2"),
    ("notice-too-long", ["notice", "{filed}", "--text", "x" * 2001], "more than the 2000"),
    ("answer-tab", ["answer", "{noticed}", "2", "--text", "a\tb"], "control character U+0009"),
    ("override-two-lines", ["override", "note", "a\r\nb", "--reason", "r"], "one line only"),
    ("notice-zero-amount", ["notice", "{filed}", "--text", "x", "--amount", "0"], "--amount"),
    ("notice-huge-amount", ["notice", "{filed}", "--text", "x", "--amount", "9" * 20], "must be"),
    ("notice-not-utf8", ["notice", "{filed}", "--text-file", "{binary}"], "not UTF-8"),
    ("notice-unknown", ["notice", "f" * 32, "--text", "x"], "there is no claim"),
    ("answer-unknown", ["answer", "{noticed}", "2", "--text", "x"], "is not an objection"),
    ("answer-negative", ["answer", "{noticed}", "-1", "--text", "x"], "No such option '-1'"),
    ("draw-open-window", ["draw", "{closable}"], "is voting"),
    ("draw-unanswered", ["draw", "{noticed}"], "answer every objection"),
    ("close-voting-noticed", ["close-voting", "{noticed}"], "has no panel voting"),
    ("pay-voting", ["pay", "{closable}"], "only an approved claim is paid"),
    ("ineligible-covered", ["decide-ineligible", "{filed}"], "not diagnosed inside"),
    ("period-bad-date", ["close-period", "--period", "soon"], "expected a date YYYY-MM-DD"),
    ("period-not-due", ["close-period", "--period", "2000-01-07"], "is not the next period"),
    (
        "rules-not-utf8",
        ["rules", "--file", "{binary}", "--effective", "{future}", "--reason", "r"],
        "not UTF-8",
    ),
    (
        "rules-not-json",
        ["rules", "--file", "{bad_json}", "--effective", "{future}", "--reason", "r"],
        "not JSON",
    ),
    (
        "rules-unknown",
        ["rules", "--file", "{unknown_rule}", "--effective", "{future}", "--reason", "r"],
        "unknown rule",
    ),
    (
        "rules-past",
        ["rules", "--file", "{rules}", "--effective", "2000-01-01", "--reason", "r"],
        "future",
    ),
    (
        "rules-bad-date",
        ["rules", "--file", "{rules}", "--effective", "soon", "--reason", "r"],
        "must be a date",
    ),
    ("rules-no-reason", ["rules", "--file", "{rules}", "--effective", "{future}"], "--reason"),
    ("override-not-allowed", ["override", "claim.delete", "x", "--reason", "r"], "do not allow"),
    ("override-bad-action", ["override", "Bad Action", "x", "--reason", "r"], "'Bad Action'"),
    ("erase-unknown-member", ["erase-member", "f" * 32, "--reason", "r"], "there is no member"),
    (
        "erase-personal",
        ["erase-member", "{claimant}", "--reason", "For Person member 0."],
        "character 5 starts the name of a member it concerns",
    ),
    ("erase-two-lines", ["erase-evidence", "{filed}", "--reason", "a\nb"], "one line"),
]


@pytest.mark.parametrize(("argv", "message"), [pytest.param(*c[1:], id=c[0]) for c in REFUSED])
def test_refusals_exit_2_and_change_nothing(
    built: Built,
    instance: Instance,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    files = {
        "file": ("notice.txt", b"text"),
        "binary": ("bad.bin", b"\xff\xfe{"),
        "rules": ("rules.json", b'{"share.fee_rate_bp": 700}'),
        "unknown_rule": ("unknown.json", b'{"no.such": 1}'),
        "bad_json": ("bad.json", b"{not json"),
    }
    names = {
        "filed": built.filed,
        "noticed": built.noticed,
        "closable": built.closable,
        "claimant": built.claimant,
        "future": (datetime.now(UTC) + timedelta(days=30)).date().isoformat(),
    }
    for name, (filename, content) in files.items():
        path = instance.folder / filename
        path.write_bytes(content)
        names[name] = str(path)
    args = [a.format(**names) if a.startswith("{") else a for a in argv]
    before = state_of(instance.app, instance.engine)
    code, out, err = run(instance, capsys, *args)
    assert code == 2, (out, err)
    # One line says what is wrong (click puts its usage lines before it).
    assert message in err.strip().splitlines()[-1] and out == ""
    assert "Traceback" not in err
    assert state_of(instance.app, instance.engine) == before
