"""``mutualog-server demo``: a small demo builds, the rulebook's replay
accepts its log, it holds every kind of case, its private data is stored
off the log (the evidence matching the logged commitments), and its juror
can vote.

The demo itself is built once per session (:mod:`tests.server.demo_helpers`)."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from server.cli import cli
from server.db import make_engine
from server.demo import DEMO_CASES, DEMO_RULES, DemoIdentities, demo_documents
from server.private.evidence import evidence_content, list_evidence
from server.private.identity import age_band_on, china_date, parse_id_number, parse_mobile
from server.private.members import member_details
from server.private.sealing import Sealer
from tests.server.demo_helpers import MEMBERS, DemoBuild, clear_environment, demo_app, shared_demo
from verifiable.errors import MalformedError
from verifiable.log.bodies import AgeBand, Body, ClaimFiled, MemberJoined, MemberLeft, VoteSealed
from verifiable.log.entry import parse_entry
from verifiable.pool.evidence import verify_evidence
from verifiable.pool.replay import replay
from verifiable.pool.votes import vote_commitment
from verifiable.testonly.simulate import SimConfig, Simulation


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    return shared_demo(tmp_path_factory)


def test_a_small_demo_builds_and_replays(demo: DemoBuild) -> None:
    out = demo.stdout
    assert re.search(r"operator +username operator +password \S+", out)
    assert re.search(r"member +username member +password \S+", out)
    assert re.search(r"member +username juror +password \S+ +\(drawn to vote on claim", out)
    assert "storing the log" in demo.stderr

    entries = demo.entries()
    summary = replay(entries).summary
    assert summary.members >= MEMBERS
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


def test_the_demo_holds_every_case(demo: DemoBuild) -> None:
    with demo_app(demo) as app:
        cases = app.test_client().get("/api/v1/pool").get_json()["cases"]
    for case in DEMO_CASES:
        assert cases.get(case, 0) >= 1, case
    # The waiting-period members left with their refund.
    assert any(b'"waiting_period"' in e for e in demo.entries())


def test_every_logged_commitment_opens_to_a_stored_document(demo: DemoBuild) -> None:
    engine = make_engine(demo.database_url, Sealer(demo.instance))
    try:
        filed = [
            parse_entry(e, seq=n).body
            for n, e in enumerate(demo.entries())
            if b'"claim.filed"' in e
        ]
        assert len(filed) >= 60
        for body in filed:
            assert isinstance(body, ClaimFiled)
            documents = list_evidence(engine, body.claim)
            assert tuple(d.commitment for d in documents) == body.evidence
            for document in documents:
                stored = evidence_content(engine, body.claim, document.position)
                assert stored is not None
                verify_evidence(document.commitment, stored.salt, stored.content)
        with engine.connect() as conn:
            details = conn.execute(text("SELECT count(*) FROM member_details")).scalar()
        joined = sum(1 for e in demo.entries() if b'"member.joined"' in e)
        assert details == joined
    finally:
        engine.dispose()


def test_every_demo_member_has_a_real_identity_in_their_band(demo: DemoBuild) -> None:
    """Valid ID numbers and mobile numbers, unique; the band each joined in
    is the one their birth date gives on that day and on every diagnosis;
    one keyed hash per active member, none of a member who left."""
    entries = [parse_entry(e, seq=n) for n, e in enumerate(demo.entries())]
    joined = {e.body.member: e for e in entries if isinstance(e.body, MemberJoined)}
    left = {e.body.member for e in entries if isinstance(e.body, MemberLeft)}
    engine = make_engine(demo.database_url, Sealer(demo.instance))
    try:
        with engine.connect() as conn:
            members = conn.scalars(text("SELECT member_id FROM member_details")).all()
            hashed = set(conn.scalars(text("SELECT member_id FROM member_identities")))
        # Through the store: the columns hold sealed values.
        details = {m: member_details(engine, m) for m in members}
        stored = {m: (d.id_number, d.phone) for m, d in details.items() if d is not None}
    finally:
        engine.dispose()
    assert set(stored) == set(joined)
    assert len({number for number, _ in stored.values()}) == len(stored)
    for member, (number, phone) in stored.items():
        entry = joined[member]
        assert isinstance(entry.body, MemberJoined)
        born = parse_id_number(number, china_date(entry.time)).born
        assert age_band_on(born, china_date(entry.time)) is entry.body.age_band, number
        assert parse_mobile(phone) == phone
    for entry in entries:
        if isinstance(entry.body, ClaimFiled):
            assert entry.body.age_band is None
            number = stored[entry.body.member][0]
            band = joined[entry.body.member].body
            assert isinstance(band, MemberJoined)
            if entry.body.diagnosed >= china_date(joined[entry.body.member].time):
                born = parse_id_number(number, entry.body.diagnosed).born
                assert age_band_on(born, entry.body.diagnosed) is band.age_band
    assert hashed == set(joined) - left


def test_the_demo_refuses_an_instance_that_holds_a_log(demo: DemoBuild) -> None:
    args = ["--instance", str(demo.instance), "demo", "--members", "200", "--no-serve"]
    again = CliRunner().invoke(cli, args)
    assert again.exit_code != 0
    assert "already holds a log" in str(again.exception)


# --- the synthetic private data ---------------------------------------------------

_ID = re.compile(r"(\d{6})(\d{4})(\d{2})(\d{2})\d{3}[\dX]")
_UNTIL = date(2025, 4, 21)


@pytest.mark.parametrize("band", list(AgeBand), ids=[b.value for b in AgeBand])
def test_identities_are_realistic_and_deterministic(band: AgeBand) -> None:
    """Valid ID numbers and mobile numbers, whose birth dates give the
    band from the day of joining to past the end of the history."""
    identities = DemoIdentities(7, _UNTIL)
    for n in range(200):
        member = f"{n:032x}"
        joined = date(2025, 1, 1) + timedelta(days=n % 110)
        person = identities.details(member, band, joined)
        assert person == DemoIdentities(7, _UNTIL).details(member, band, joined)
        assert 2 <= len(person.name) <= 3
        assert all("\u4e00" <= c <= "\u9fff" for c in person.name)
        assert parse_mobile(person.phone) == person.phone
        found = _ID.fullmatch(person.id_number)
        assert found, person.id_number
        checked = parse_id_number(person.id_number, joined)
        assert checked.text == person.id_number
        for day in (joined, _UNTIL + timedelta(days=119)):
            assert age_band_on(checked.born, day) is band, (person.id_number, day)
    first = DemoIdentities(7, _UNTIL).details("0" * 32, band, date(2025, 1, 1))
    assert first != DemoIdentities(8, _UNTIL).details("0" * 32, band, date(2025, 1, 1))


def test_demo_documents_are_accepted_uploads_naming_the_patient() -> None:
    person = DemoIdentities(1, _UNTIL).details("a" * 32, AgeBand.FROM_18_TO_39, date(2025, 1, 5))
    filed = datetime(2025, 2, 1, tzinfo=UTC)
    uploads = demo_documents("b" * 32, person, 3, filed, 1)
    assert [u.content_type for u in uploads] == ["application/pdf", "image/jpeg", "application/pdf"]
    for n, upload in enumerate(uploads):
        upload.check(f"document {n}")
        assert person.id_number.encode() in upload.content
    assert person.name.encode("utf-8") in uploads[1].content
    assert person.name.encode("utf-16-be").hex().upper().encode() in uploads[0].content
    assert uploads == demo_documents("b" * 32, person, 3, filed, 1)


# --- the simulation's hooks the demo uses -------------------------------------------


def _small() -> SimConfig:
    return SimConfig(days=45, initial_members=80, initial_jurors=40, rules=DEMO_RULES)


def _bodies(entries: list[bytes], kind: type[Body]) -> list[Any]:
    tag = f'"{kind.TYPE}"'.encode()
    found = [parse_entry(e, seq=n).body for n, e in enumerate(entries) if tag in e]
    return [body for body in found if isinstance(body, kind)]


def test_the_evidence_hook_changes_the_commitments_and_nothing_else() -> None:
    calls: list[tuple[str, str, int]] = []

    def hook(claim: str, member: str, count: int, when: datetime) -> list[bytes]:
        calls.append((claim, member, count))
        return [bytes([len(calls), n]) * 16 for n in range(count)]

    plain = Simulation(random.Random(5), _small())
    hooked = Simulation(random.Random(5), _small(), evidence=hook)
    a, b = list(plain.run()), list(hooked.run())
    assert calls and len(a) == len(b) and plain.stats == hooked.stats
    filed = _bodies(b, ClaimFiled)
    assert [(f.claim, f.member, len(f.evidence)) for f in filed] == calls
    assert filed[0].evidence == tuple(bytes([1, n]) * 16 for n in range(len(filed[0].evidence)))
    assert [f.claim for f in filed] == [f.claim for f in _bodies(a, ClaimFiled)]
    replay(b)


def test_an_evidence_hook_giving_the_wrong_count_is_refused() -> None:
    sim = Simulation(
        random.Random(5), _small(), evidence=lambda c, m, n, t: [b"\x01" * 32] * (n + 1)
    )
    with pytest.raises(MalformedError, match=r"the evidence hook gave \d+ commitments for"):
        list(sim.run())


def test_sealed_votes_are_the_openings_of_the_current_round() -> None:
    sim = Simulation(random.Random(5), _small())
    entries = list(sim.run())
    assert sim.sealed_votes("0" * 32) == {}
    last = _bodies(entries, VoteSealed)[-1]
    openings = sim.sealed_votes(last.claim)
    choice, reason, salt = openings[last.juror]
    commitment = vote_commitment(last.claim, last.round, last.juror, choice, reason, salt)
    assert commitment == last.commitment
