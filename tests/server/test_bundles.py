"""The verification bundles' routes (server.bundles, server.views.bundle_api)
over a real pool: a simulated history loaded into the server's store and
replayed by its pool service.  Every bundle served passes the client's
checks; every bad request is a JSON 4xx, never a 500.

A re-signed log that breaks the pool's rules is still served, as its entries
say, so the member's check is what catches it; a stored log that cannot even
be decoded is a JSON 503."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from server.db import make_engine, upgrade
from server.pool_app import current_pool
from server.rosters import period_roster
from server.storage import LogStore
from tests.client.tampering import Item, rechain, refigure
from tests.clock import FixedClock
from tests.server.pool_helpers import ORIGIN, SEED, make_pool_app
from tests.verifiable.pool.bundle_pool import CONFIG
from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.bodies import PeriodClosed
from verifiable.log.bundle import parse_bundle
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import parse_entry
from verifiable.log.merkle import hash_leaves, root_hash, verify_consistency
from verifiable.log.note import Ed25519Signer
from verifiable.pool.claim_check import check_claim
from verifiable.pool.deduction import check_deduction
from verifiable.pool.log_index import LogIndex
from verifiable.pool.replay import replay
from verifiable.pool.roster import roster_root
from verifiable.testonly.simulate import simulate


@dataclass
class Served:
    app: Flask
    client: FlaskClient
    entries: list[bytes]
    index: LogIndex
    signer: Ed25519Signer

    def period(self) -> date:
        return max(self.index.closed, key=lambda p: len(self.index.paid.get(p, [])))

    def member(self, period: date) -> str:
        with self.app.app_context():
            return period_roster(current_pool(), period)[0]


def _serve(tmp_path: Path, entries: list[bytes]) -> Served:
    """``entries`` in a fresh store under a checkpoint signed with the log
    key, and the server's application over it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'log.db'}")
    upgrade(engine)
    signer = Ed25519Signer(ORIGIN, SEED)
    root = root_hash(hash_leaves(entries))
    note = sign_checkpoint(Checkpoint(ORIGIN, len(entries), root), signer)
    LogStore(engine).load(iter(entries), note)
    index = LogIndex()
    for n, data in enumerate(entries):
        try:
            index.feed(parse_entry(data, seq=n))
        except MalformedError:
            break  # a store holding an entry that does not decode
    last = parse_entry(entries[index.size - 1], seq=index.size - 1).time
    app = make_pool_app(engine, tmp_path, FixedClock(last))
    return Served(app, app.test_client(), entries, index, signer)


def _dispose(served: Served) -> None:
    served.app.extensions["mutualog"].engine.dispose()


@pytest.fixture(scope="module")
def honest_entries() -> list[bytes]:
    return simulate(random.Random(11), CONFIG)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, honest_entries: list[bytes]
) -> Iterator[Served]:
    served = _serve(tmp_path_factory.mktemp("bundles"), honest_entries)
    yield served
    _dispose(served)


def _get(served: Served, url: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    response = served.client.get(url, headers=headers)
    return response.status_code, response.get_data(), dict(response.headers)


def test_deduction_bundle_verifies(served: Served) -> None:
    period = served.period()
    member = served.member(period)
    sample = ",".join(c for c, _ in served.index.paid[period][:3])
    size = len(served.entries)
    status, body, headers = _get(
        served,
        f"/api/v1/bundles/deduction?member={member}&period={period}&size={size}&sample={sample}",
    )
    assert status == 200, body
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    bundle = parse_bundle(body)
    assert len(bundle.claims) == 3
    result = check_deduction(bundle, served.signer.verifier(), ORIGIN, member, period)
    assert result.ok, [f for f in result.findings if not f.ok]


def test_latest_size_and_gzip(served: Served) -> None:
    period = served.period()
    member = served.member(period)
    url = f"/api/v1/bundles/deduction?member={member}&period={period}"
    status, body, headers = _get(served, url, **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Cache-Control"] == "public, max-age=5"
    bundle = parse_bundle(gzip.decompress(body))
    assert check_deduction(bundle, served.signer.verifier(), ORIGIN, member, period).ok


def test_every_claim_bundle_verifies(served: Served) -> None:
    verifier = served.signer.verifier()
    for claim in served.index.claims:
        status, body, _ = _get(served, f"/api/v1/bundles/claim/{claim}?size={len(served.entries)}")
        assert status == 200, body
        findings = check_claim(parse_bundle(body), verifier, ORIGIN, claim)
        assert all(f.ok for f in findings), (claim, [f for f in findings if not f.ok])


def test_a_claim_bundle_since_a_size_carries_the_consistency_proof(served: Served) -> None:
    """``since`` (a vote receipt's tree size) adds the RFC 9162 proof from it."""
    claim = next(iter(served.index.claims))
    size = len(served.entries)
    since = size // 2
    status, body, _ = _get(served, f"/api/v1/bundles/claim/{claim}?size={size}&since={since}")
    assert status == 200, body
    bundle = parse_bundle(body)
    proof = {p.size: p for p in bundle.consistency}[since].proof
    old = root_hash(hash_leaves(served.entries[:since]))
    verify_consistency(since, size, list(proof), old, root_hash(hash_leaves(served.entries)))
    # At or past the bundle's size there is nothing to prove: the bundle is the plain one.
    for at in (size, size + 5):
        status, body, _ = _get(served, f"/api/v1/bundles/claim/{claim}?size={size}&since={at}")
        assert status == 200, body
        plain = _get(served, f"/api/v1/bundles/claim/{claim}?size={size}")[1]
        assert body == plain


def _bad_requests(served: Served) -> list[tuple[str, int, str]]:
    period = served.period()
    member = served.member(period)
    paid = served.index.paid[period]
    unpaid = next(c for c in served.index.claims if c not in dict(paid))
    size = len(served.entries)
    d = f"/api/v1/bundles/deduction?member={member}&period={period}"
    c = f"/api/v1/bundles/claim/{paid[0][0]}"
    return [
        ("/api/v1/bundles/deduction", 400, "missing query parameter 'member'"),
        (f"/api/v1/bundles/deduction?member={member}", 400, "missing query parameter 'period'"),
        (d + "&extra=1", 400, "unknown query parameter"),
        (d + f"&size={size}&size={size}", 400, "more than once"),
        (d.replace(member, member.upper()), 400, "member: expected 32 lowercase hex"),
        (d.replace(member, member[:-1]), 400, "member: expected"),
        (d.replace(str(period), "2024-02-30"), 400, "period: expected a date"),
        (d.replace(str(period), "2024-2-7"), 400, "period: expected a date"),
        (d + "&size=+1", 400, "size: expected a decimal"),
        (d + "&size=01", 400, "size: expected a decimal"),
        (d + "&size=99999999999999999999999", 400, "size: expected a decimal"),
        (d + f"&size={size + 1}", 404, "no signed checkpoint at size"),
        (d + "&size=5", 404, "no signed checkpoint at size 5"),
        (d + "&sample=xyz", 400, "sample: expected"),
        (d + f"&sample={paid[0][0]},{paid[0][0]}", 400, "listed twice"),
        (d + "&sample=" + ",".join([paid[0][0]] * 65), 400, "at most 64"),
        (d + f"&sample={unpaid}", 404, "is not among the claims paid"),
        (d.replace(member, "0" * 32), 404, "is not on the roster"),
        (d.replace(str(period), "2030-01-07"), 404, "has not closed"),
        (c + "?size=abc", 400, "size: expected"),
        (c + "?since=0", 400, "since: expected"),
        (c + "?since=07", 400, "since: expected"),
        (c + "?other=1", 400, "unknown query parameter"),
        ("/api/v1/bundles/claim/" + "0" * 32, 404, "is not in the log"),
        ("/api/v1/bundles/claim/ABC", 400, "claim: expected"),
        ("/api/v1/bundles/claim/" + "a" * 33, 400, "claim: expected"),
        ("/api/v1/bundles/claim/", 404, ""),
        ("/api/v1/bundles/nothing", 404, ""),
    ]


def test_bad_requests_are_json_errors(served: Served) -> None:
    for url, status, message in _bad_requests(served):
        got, body, headers = _get(served, url)
        assert got == status, (url, got, body)
        assert headers["Content-Type"].startswith("application/json"), url
        error = json.loads(body)
        assert set(error) == {"error", "message"}
        assert message in error["message"], (url, error)


def test_post_is_refused(served: Served) -> None:
    response = served.client.post("/api/v1/bundles/claim/" + "0" * 32)
    assert response.status_code == 405
    assert response.get_json()["error"]


def test_openapi_documents_the_routes(served: Served) -> None:
    document = served.client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert "/bundles/deduction" in document["paths"]
    assert "/bundles/claim/{claim}" in document["paths"]
    assert "Bundle" in document["components"]["schemas"]


# --- a log that breaks the rules, and one that cannot be read ---------------------------


@dataclass
class Forged:
    """A re-signed log whose busiest period's roster leaves out ``member``."""

    served: Served
    period: date
    member: str


@pytest.fixture(scope="module")
def forged(
    tmp_path_factory: pytest.TempPathFactory, served: Served, honest_entries: list[bytes]
) -> Iterator[Forged]:
    period = served.period()
    seq, closed = served.index.closed[period]
    ids = served.index.roster(period)
    assert roster_root(ids) == (closed.roster_root, closed.roster_size)
    root, size = roster_root(ids[1:])
    items = [Item.of(parse_entry(data, seq=n)) for n, data in enumerate(honest_entries)]
    body = refigure(closed, roster_root=root, roster_size=size, sharing=size)
    items[seq] = Item(items[seq].time, body)
    forged = _serve(tmp_path_factory.mktemp("forged"), rechain(items))
    yield Forged(forged, period, ids[0])
    _dispose(forged)


def test_a_log_that_breaks_the_rules_is_still_served(forged: Forged) -> None:
    """The operator's own replay fails (the roster is not the members'), yet
    the bundles are served as the log's entries give them: the member left
    out gets a proof in the roster the joins and leaves give, which the
    check then finds is not the roster the period committed to."""
    served = forged.served
    with pytest.raises(RuleViolation) as refused:
        replay(served.entries)
    assert refused.value.rule == "period.roster"
    size = len(served.entries)
    url = f"/api/v1/bundles/deduction?member={forged.member}&period={forged.period}&size={size}"
    status, body, _ = _get(served, url)
    assert status == 200, body
    bundle = parse_bundle(body)
    result = check_deduction(bundle, served.signer.verifier(), ORIGIN, forged.member, forged.period)
    failed = {f.name: f for f in result.findings if not f.ok}
    assert set(failed) == {"roster"}, failed
    assert isinstance(result.closed, PeriodClosed)
    assert failed["roster"].expected == result.closed.roster_root.hex()

    sample = ",".join(c for c, _ in served.index.paid[forged.period][:2])
    status, body, _ = _get(served, url + f"&sample={sample}")
    assert status == 200, body
    assert len(parse_bundle(body).claims) == 2
    claim = served.index.paid[forged.period][0][0]
    status, body, _ = _get(served, f"/api/v1/bundles/claim/{claim}?size={size}")
    assert status == 200, body
    findings = check_claim(parse_bundle(body), served.signer.verifier(), ORIGIN, claim)
    assert all(f.ok for f in findings), [f for f in findings if not f.ok]


def test_a_stored_log_that_does_not_decode_is_503(
    tmp_path: Path, honest_entries: list[bytes]
) -> None:
    entries = list(honest_entries)
    broken = len(entries) - 10
    entries[broken] = b'{"not": "an entry"}'
    served = _serve(tmp_path, entries)
    try:
        period = min(served.index.closed)
        member = served.index.roster(period)[0]
        for url in (
            f"/api/v1/bundles/deduction?member={member}&period={period}",
            f"/api/v1/bundles/claim/{next(iter(served.index.claims))}",
        ):
            status, body, headers = _get(served, url)
            assert status == 503, (url, body)
            assert headers["Content-Type"].startswith("application/json")
            error = json.loads(body)
            assert error["error"] == "unavailable"
            assert f"entry {broken}: " in error["message"], error
    finally:
        _dispose(served)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/api/v1/pool", "application/json"),
        ("/api/v1/pool/periods", "application/json"),
        ("/pool", "text/html"),
        ("/verify", "text/html"),
    ],
)
def test_the_pools_own_pages_refuse_a_log_that_breaks_the_rules(
    forged: Forged, path: str, kind: str
) -> None:
    """The replayed state of a log that breaks the rules is not the pool's:
    its figures are refused with 503 naming the rule, never a 500."""
    response = forged.served.client.get(path, headers={"Accept": kind})
    assert response.status_code == 503, response.get_data()[:300]
    assert response.content_type.startswith(kind)
    assert "period.roster" in response.get_data(as_text=True)
