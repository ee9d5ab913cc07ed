"""The JSON API under /api/v1: answers, proofs, the OpenAPI document, and a
table of hostile parameters for every endpoint, each refused with a JSON 4xx
and the database left as it was."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from server import create_app
from server.db import make_engine, upgrade
from server.keys import create_key_file
from server.sequencer import Sequencer
from server.storage import LogStore
from verifiable.log.bodies import AgeBand, Body, MemberJoined
from verifiable.log.checkpoint import open_checkpoint
from verifiable.log.entry import parse_entry
from verifiable.log.merkle import leaf_hash, root_hash, verify_consistency, verify_inclusion
from verifiable.log.note import Ed25519Signer, Ed25519Verifier

SIZE = 300
IMMUTABLE = "public, max-age=31536000, immutable"


class Log:
    def __init__(self, app: Flask, store: LogStore, verifier: Ed25519Verifier) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.store = store
        self.verifier = verifier
        self.origin = verifier.name
        self.entries = store.entries(0, store.size())
        self.leaf_hashes = [leaf_hash(e) for e in self.entries]

    def state(self) -> tuple[int, int, bytes | None]:
        return len(self.store.entries(0, 10**6)), self.store.size(), self.store.latest_checkpoint()

    def root(self, size: int) -> bytes:
        return root_hash(self.leaf_hashes[:size])


def member_items(start: int, count: int) -> list[tuple[str, Body]]:
    return [
        ("member.joined", MemberJoined(member=f"{i:032x}", age_band=AgeBand.FROM_40_TO_59))
        for i in range(start, start + count)
    ]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def log(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Log]:
    """One log of SIZE entries for the whole module: these tests only read
    (and check that they changed nothing)."""
    folder = tmp_path_factory.mktemp("api")
    server = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'log.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.new_database()
    signer = Ed25519Signer("example.org/mutualog/api-test", bytes(range(32, 64)))
    create_key_file(folder / "log.key", signer.name, signer.seed)
    engine = make_engine(url)
    upgrade(engine)
    sequencer = Sequencer(engine, signer, signer.name, lambda: datetime(2026, 1, 1, tzinfo=UTC))
    # Several batches, so that the log has checkpoints at several sizes.
    for start in range(0, SIZE, 100):
        sequencer.append(member_items(start, min(100, SIZE - start)))
    app = create_app({"MUTUALOG_INSTANCE": folder, "MUTUALOG_DATABASE_URL": url, "TESTING": True})
    yield Log(app, LogStore(engine), signer.verifier())
    app.extensions["mutualog"].engine.dispose()
    engine.dispose()
    if server is not None:
        server.drop_database(url)


def test_log_state(log: Log) -> None:
    response = log.client.get("/api/v1/log")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=5"
    body = response.get_json()
    assert body["origin"] == log.origin
    assert body["verifier_key"] == log.verifier.to_vkey()
    assert body["size"] == SIZE
    assert body["root_hash"] == log.root(SIZE).hex()
    verifier = Ed25519Verifier.from_vkey(body["verifier_key"])
    signed = open_checkpoint(body["checkpoint"].encode(), verifier, log.origin)
    assert signed.checkpoint.size == SIZE
    assert signed.checkpoint.root_hash.hex() == body["root_hash"]


def test_entries(log: Log) -> None:
    for index in (0, 1, 255, 256, SIZE - 1):
        response = log.client.get(f"/api/v1/entries/{index}")
        assert response.status_code == 200
        body = response.get_json()
        data = base64.b64decode(body["bytes"])
        assert data == log.entries[index]
        assert body["index"] == index
        assert body["leaf_hash"] == leaf_hash(data).hex()
        assert body["entry"] == parse_entry(data).to_json()
        assert body["entry"]["seq"] == index
        assert response.headers["Cache-Control"] == IMMUTABLE


def test_inclusion_proofs_by_index_and_by_leaf_hash(log: Log) -> None:
    for size in (1, 2, 100, 255, 256, 257, SIZE):
        for index in sorted({0, size // 3, size - 1}):
            by_index = log.client.get(f"/api/v1/proof/inclusion?index={index}&size={size}")
            assert by_index.status_code == 200
            assert by_index.headers["Cache-Control"] == IMMUTABLE
            body = by_index.get_json()
            assert body["index"] == index
            assert body["size"] == size
            assert body["leaf_hash"] == log.leaf_hashes[index].hex()
            proof = [bytes.fromhex(h) for h in body["proof"]]
            verify_inclusion(log.leaf_hashes[index], index, size, proof, log.root(size))
            hashed = log.leaf_hashes[index].hex()
            for spelled in (hashed, hashed.upper()):
                by_hash = log.client.get(f"/api/v1/proof/inclusion?leaf_hash={spelled}&size={size}")
                assert by_hash.status_code == 200
                assert by_hash.get_json() == body


def test_consistency_proofs(log: Log) -> None:
    for old, new in [(1, 1), (1, 2), (3, 7), (100, 200), (255, 256), (256, 257), (1, SIZE)]:
        response = log.client.get(f"/api/v1/proof/consistency?old={old}&new={new}")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        body = response.get_json()
        assert (body["old"], body["new"]) == (old, new)
        proof = [bytes.fromhex(h) for h in body["proof"]]
        verify_consistency(old, new, proof, log.root(old), log.root(new))


def test_openapi_document_is_valid_and_names_every_route(log: Log) -> None:
    response = log.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    documented = {"/api/v1" + path for path in document["paths"]}
    # Every JSON route under /api/v1 is documented, the pool's and the bundles' too.
    routed = {
        re.sub(r"<(?:[a-z]+:)?([a-z_]+?)(?:_text)?>", r"{\1}", rule.rule)
        for rule in log.app.url_map.iter_rules()
        if rule.endpoint.startswith(("api.", "pool_api.", "bundle_api."))
    }
    assert documented == routed
    for path_item in document["paths"].values():
        assert set(path_item) == {"get"}


def test_an_uninitialized_instance_answers_503(tmp_path: Path) -> None:
    app = create_app({"MUTUALOG_INSTANCE": tmp_path / "nothing", "TESTING": True})
    client = app.test_client()
    for path in ("/api/v1/log", "/api/v1/entries/0", "/checkpoint", "/tile/0/000"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.get_json()["error"] == "unavailable"
    app.extensions["mutualog"].engine.dispose()


HASH = "ab" * 32
TOO_BIG = str(2**64)
MAX = str(2**64 - 1)

# (id, path, status, error code)
HOSTILE = [
    # /log takes no parameters
    ("log-unknown-param", "/api/v1/log?size=1", 400, "bad_parameter"),
    # /entries/<index>
    ("entry-negative", "/api/v1/entries/-1", 400, "bad_parameter"),
    ("entry-non-numeric", "/api/v1/entries/abc", 400, "bad_parameter"),
    ("entry-float", "/api/v1/entries/1.5", 400, "bad_parameter"),
    ("entry-exponent", "/api/v1/entries/1e3", 400, "bad_parameter"),
    ("entry-hex", "/api/v1/entries/0x10", 400, "bad_parameter"),
    ("entry-plus", "/api/v1/entries/+1", 400, "bad_parameter"),
    ("entry-space", "/api/v1/entries/%201", 400, "bad_parameter"),
    ("entry-leading-zero", "/api/v1/entries/01", 400, "bad_parameter"),
    ("entry-underscore", "/api/v1/entries/1_0", 400, "bad_parameter"),
    ("entry-arabic-digits", "/api/v1/entries/\u0661\u0662", 400, "bad_parameter"),
    ("entry-fullwidth-digit", "/api/v1/entries/\uff11", 400, "bad_parameter"),
    ("entry-nul", "/api/v1/entries/1%00", 400, "bad_parameter"),
    ("entry-sql", "/api/v1/entries/1;DROP TABLE entries", 400, "bad_parameter"),
    ("entry-sql-quote", "/api/v1/entries/' OR '1'='1", 400, "bad_parameter"),
    ("entry-huge", "/api/v1/entries/" + "9" * 5000, 400, "bad_parameter"),
    ("entry-2**64", f"/api/v1/entries/{TOO_BIG}", 400, "bad_parameter"),
    ("entry-query", "/api/v1/entries/1?x=1", 400, "bad_parameter"),
    ("entry-at-size", f"/api/v1/entries/{SIZE}", 404, "not_found"),
    ("entry-max", f"/api/v1/entries/{MAX}", 400, "bad_parameter"),  # beyond a database integer
    ("entry-largest-stored", f"/api/v1/entries/{2**63 - 1}", 404, "not_found"),
    ("entry-empty", "/api/v1/entries/", 404, "not_found"),
    ("entry-traversal", "/api/v1/entries/../log", 404, "not_found"),
    ("entry-encoded-traversal", "/api/v1/entries/..%2flog", 404, "not_found"),
    ("entry-extra-segment", "/api/v1/entries/1/2", 404, "not_found"),
    # /proof/inclusion
    ("incl-no-params", "/api/v1/proof/inclusion", 400, "bad_parameter"),
    ("incl-no-size", "/api/v1/proof/inclusion?index=1", 400, "bad_parameter"),
    ("incl-no-index", "/api/v1/proof/inclusion?size=5", 400, "bad_parameter"),
    ("incl-both", f"/api/v1/proof/inclusion?index=1&leaf_hash={HASH}&size=5", 400, "bad_parameter"),
    ("incl-empty-size", "/api/v1/proof/inclusion?index=1&size=", 400, "bad_parameter"),
    ("incl-empty-index", "/api/v1/proof/inclusion?index=&size=5", 400, "bad_parameter"),
    ("incl-negative-index", "/api/v1/proof/inclusion?index=-1&size=5", 400, "bad_parameter"),
    ("incl-negative-size", "/api/v1/proof/inclusion?index=0&size=-5", 400, "bad_parameter"),
    ("incl-index-at-size", "/api/v1/proof/inclusion?index=5&size=5", 400, "bad_parameter"),
    ("incl-index-past-size", "/api/v1/proof/inclusion?index=99&size=5", 400, "bad_parameter"),
    ("incl-size-zero", "/api/v1/proof/inclusion?index=0&size=0", 400, "bad_parameter"),
    (
        "incl-size-past-log",
        f"/api/v1/proof/inclusion?index=0&size={SIZE + 1}",
        400,
        "bad_parameter",
    ),
    ("incl-size-max", f"/api/v1/proof/inclusion?index=0&size={MAX}", 400, "bad_parameter"),
    ("incl-size-2**64", f"/api/v1/proof/inclusion?index=0&size={TOO_BIG}", 400, "bad_parameter"),
    ("incl-size-huge", "/api/v1/proof/inclusion?index=0&size=" + "9" * 10000, 400, "bad_parameter"),
    ("incl-non-numeric", "/api/v1/proof/inclusion?index=one&size=5", 400, "bad_parameter"),
    ("incl-unicode", "/api/v1/proof/inclusion?index=\u0663&size=5", 400, "bad_parameter"),
    ("incl-sql", "/api/v1/proof/inclusion?index=1%20OR%201=1&size=5", 400, "bad_parameter"),
    ("incl-repeated", "/api/v1/proof/inclusion?index=1&index=2&size=5", 400, "bad_parameter"),
    ("incl-unknown", "/api/v1/proof/inclusion?index=1&size=5&tree=1", 400, "bad_parameter"),
    (
        "incl-hash-short",
        f"/api/v1/proof/inclusion?leaf_hash={HASH[:-1]}&size=5",
        400,
        "bad_parameter",
    ),
    ("incl-hash-long", f"/api/v1/proof/inclusion?leaf_hash={HASH}0&size=5", 400, "bad_parameter"),
    (
        "incl-hash-not-hex",
        "/api/v1/proof/inclusion?leaf_hash=" + "g" * 64 + "&size=5",
        400,
        "bad_parameter",
    ),
    (
        "incl-hash-0x",
        f"/api/v1/proof/inclusion?leaf_hash=0x{HASH[2:]}&size=5",
        400,
        "bad_parameter",
    ),
    ("incl-hash-empty", "/api/v1/proof/inclusion?leaf_hash=&size=5", 400, "bad_parameter"),
    (
        "incl-hash-sql",
        "/api/v1/proof/inclusion?leaf_hash='%20OR%201=1--&size=5",
        400,
        "bad_parameter",
    ),
    (
        "incl-hash-unicode",
        "/api/v1/proof/inclusion?leaf_hash=" + "\u0661" * 64 + "&size=5",
        400,
        "bad_parameter",
    ),
    ("incl-hash-unknown", f"/api/v1/proof/inclusion?leaf_hash={HASH}&size=5", 404, "not_found"),
    # /proof/consistency
    ("cons-no-params", "/api/v1/proof/consistency", 400, "bad_parameter"),
    ("cons-no-new", "/api/v1/proof/consistency?old=1", 400, "bad_parameter"),
    ("cons-no-old", "/api/v1/proof/consistency?new=1", 400, "bad_parameter"),
    ("cons-old-zero", "/api/v1/proof/consistency?old=0&new=5", 400, "bad_parameter"),
    ("cons-old-past-new", "/api/v1/proof/consistency?old=6&new=5", 400, "bad_parameter"),
    ("cons-new-past-log", f"/api/v1/proof/consistency?old=1&new={SIZE + 1}", 400, "bad_parameter"),
    ("cons-both-past-log", f"/api/v1/proof/consistency?old={MAX}&new={MAX}", 400, "bad_parameter"),
    ("cons-2**64", f"/api/v1/proof/consistency?old=1&new={TOO_BIG}", 400, "bad_parameter"),
    ("cons-negative", "/api/v1/proof/consistency?old=-1&new=5", 400, "bad_parameter"),
    ("cons-non-numeric", "/api/v1/proof/consistency?old=a&new=b", 400, "bad_parameter"),
    ("cons-empty", "/api/v1/proof/consistency?old=&new=", 400, "bad_parameter"),
    ("cons-unicode", "/api/v1/proof/consistency?old=\uff11&new=\uff12", 400, "bad_parameter"),
    (
        "cons-sql",
        "/api/v1/proof/consistency?old=1;DELETE%20FROM%20entries&new=2",
        400,
        "bad_parameter",
    ),
    ("cons-repeated", "/api/v1/proof/consistency?old=1&new=2&new=3", 400, "bad_parameter"),
    ("cons-unknown", "/api/v1/proof/consistency?old=1&new=2&from=0", 400, "bad_parameter"),
    # elsewhere
    ("unknown-path", "/api/v1/nothing", 404, "not_found"),
    ("unknown-version", "/api/v2/log", 404, "not_found"),
    ("traversal", "/api/v1/../../etc/passwd", 404, "not_found"),
    ("double-slash", "/api/v1//log", 404, "not_found"),
    ("trailing-slash", "/api/v1/log/", 404, "not_found"),
]


@pytest.mark.parametrize(
    ("path", "status", "code"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_parameters_are_refused_with_json(
    log: Log, path: str, status: int, code: str
) -> None:
    before = log.state()
    response = log.client.get(path)
    assert response.status_code == status, response.data
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error", "message"}
    assert body["error"] == code
    assert isinstance(body["message"], str) and 0 < len(body["message"]) <= 600
    assert "Traceback" not in body["message"]
    assert log.state() == before


@pytest.mark.parametrize(
    "path",
    ["/api/v1/log", "/api/v1/entries/0", "/api/v1/proof/inclusion", "/api/v1/proof/consistency"],
)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_wrong_methods_are_405(log: Log, path: str, method: str) -> None:
    before = log.state()
    response = log.client.open(path, method=method, json={"size": 1})
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert response.headers["Allow"]
    assert log.state() == before


@settings(max_examples=150, deadline=None)
@given(
    endpoint=st.sampled_from(["entries", "inclusion", "inclusion-hash", "consistency"]),
    a=st.text(max_size=30),
    b=st.text(max_size=30),
)
def test_no_parameter_makes_a_500(log: Log, endpoint: str, a: str, b: str) -> None:
    query: dict[str, str]
    if endpoint == "entries":
        response = log.client.get("/api/v1/entries/" + a.replace("/", "_").replace("?", "_"))
    else:
        if endpoint == "inclusion":
            query = {"index": a, "size": b}
        elif endpoint == "inclusion-hash":
            query = {"leaf_hash": a, "size": b}
        else:
            query = {"old": a, "new": b}
        response = log.client.get(f"/api/v1/proof/{endpoint.split('-')[0]}", query_string=query)
    assert response.status_code in (200, 400, 404)
    assert response.is_json
