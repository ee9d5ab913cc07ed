"""``mutualog verify-receipt``: a real receipt from the server's pool service,
checked offline from the receipt alone and against snapshots of the log —
the honest one, and logs forged by hand whose reveal or tally lies."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from server.db import make_engine, upgrade
from server.pool_app import current_pool
from server.sequencer import Sequencer
from server.snapshot import write_snapshot
from server.storage import LogStore
from tests.client.harness import Mutualog
from tests.clock import FixedClock
from tests.server.pool_helpers import ORIGIN, SEED, build_voting_pool, make_pool_app
from verifiable.log.bodies import Choice, ClaimDecided, VoteRevealed
from verifiable.log.entry import parse_entry
from verifiable.log.note import Ed25519Signer

pytestmark = pytest.mark.usefixtures("offline")

REASON = "The records are clear."


@dataclass(frozen=True)
class World:
    folder: Path
    vkey: str
    receipt: dict[str, Any]
    juror: str
    before_close: Path  # a snapshot taken while the votes are still sealed
    after_close: Path  # the honest log after the reveals and the decision
    entries: list[bytes]  # the honest log's entries


def _engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def _snapshot(engine: Engine, path: Path) -> Path:
    with open(path, "wb") as out:
        write_snapshot(LogStore(engine), out)
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("receipt")
    engine = _engine(folder / "log.db")
    clock = FixedClock()
    app = make_pool_app(engine, folder, clock)
    try:
        voting = build_voting_pool(app, clock)
        juror = voting.jurors[0]
        with app.app_context():
            pool = current_pool()
            receipt = pool.seal_vote(voting.claim, 1, juror, Choice.APPROVE, REASON).to_json()
            pool.seal_vote(voting.claim, 1, voting.jurors[1], Choice.APPROVE, "Agreed.")
            pool.seal_vote(voting.claim, 1, voting.jurors[2], Choice.REJECT, "Too little.")
            before = _snapshot(engine, folder / "before.tar")
            clock.advance(days=3)
            decision = pool.close_voting(voting.claim)
            assert (decision.approvals, decision.rejections) == (2, 1)
            after = _snapshot(engine, folder / "after.tar")
            entries = pool.store.entries(0, pool.store.size())
    finally:
        app.extensions["mutualog"].engine.dispose()
        engine.dispose()
    vkey = Ed25519Signer(ORIGIN, SEED).verifier().to_vkey()
    return World(folder, vkey, receipt, juror, before, after, entries)


def forge(world: World, name: str, change: Callable[[Any], Any]) -> Path:
    """The honest log re-sequenced and re-signed with the log key, each body
    passed through ``change`` (no rules checked): what a dishonest operator
    could publish."""
    engine = _engine(world.folder / f"{name}.db")
    parsed = [parse_entry(data) for data in world.entries]
    at = {"now": parsed[0].time}
    sequencer = Sequencer(engine, Ed25519Signer(ORIGIN, SEED), ORIGIN, lambda: at["now"])
    for entry in parsed:
        at["now"] = entry.time
        sequencer.append([(entry.type, change(entry.body))])
    try:
        return _snapshot(engine, world.folder / f"{name}.tar")
    finally:
        engine.dispose()


def write(tmp_path: Path, receipt: dict[str, Any] | str) -> Path:
    path = tmp_path / "receipt.json"
    path.write_text(receipt if isinstance(receipt, str) else json.dumps(receipt))
    return path


def checks(out: str) -> dict[str, str]:
    report = json.loads(out)
    return {c["name"]: c["status"] for c in report["checks"]}


# --- the honest receipt ----------------------------------------------------------------


def test_an_honest_receipt_verifies_offline_with_the_key(
    world: World, tmp_path: Path, mutualog: Mutualog
) -> None:
    path = write(tmp_path, world.receipt)
    result = mutualog("verify-receipt", path, "--key", world.vkey)
    assert result.code == 0, result.out + result.err
    assert "VERIFIED" in result.out
    for name in ("checkpoint", "sealed entry", "inclusion", "commitment"):
        assert f"[ok  ] {name}:" in result.out


def test_an_honest_receipt_verifies_with_the_pinned_key(
    world: World, tmp_path: Path, mutualog: Mutualog
) -> None:
    assert mutualog("trust", ORIGIN, world.vkey).code == 0
    result = mutualog("verify-receipt", write(tmp_path, world.receipt), "--json")
    assert result.code == 0, result.out + result.err
    report = json.loads(result.out)
    assert report["verdict"] == "verified" and report["juror"] == world.juror
    assert set(checks(result.out).values()) == {"ok"}


def test_an_honest_receipt_verifies_against_the_log(
    world: World, tmp_path: Path, mutualog: Mutualog
) -> None:
    path = write(tmp_path, world.receipt)
    result = mutualog("verify-receipt", path, "--key", world.vkey, "--log", world.after_close)
    assert result.code == 0, result.out + result.err
    for name in ("log checkpoint", "log entries", "consistency", "reveal", "tally"):
        assert f"[ok  ] {name}:" in result.out
    assert "2 approve, 1 reject" in result.out


def test_before_the_reveal_the_log_checks_are_pending(
    world: World, tmp_path: Path, mutualog: Mutualog
) -> None:
    path = write(tmp_path, world.receipt)
    result = mutualog(
        "verify-receipt", path, "--key", world.vkey, "--log", world.before_close, "--json"
    )
    assert result.code == 2, result.out
    found = checks(result.out)
    assert found["consistency"] == "ok"
    assert found["reveal"] == "pending" and found["tally"] == "pending"
    assert json.loads(result.out)["verdict"] == "incomplete"


# --- a tampered receipt: exit 1, the right check named -------------------------------------


def _flip_hex(value: str) -> str:
    return ("1" if value[0] == "0" else "0") + value[1:]


def _flip_signature(note: str) -> str:
    text, _, sigs = note.partition("\n\n")
    line = sigs.splitlines()[0]
    prefix, _, b64 = line.rpartition(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    return f"{text}\n\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n"


TAMPERS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "salt": (lambda r: r.update(salt=_flip_hex(r["salt"])), "commitment"),
    "choice": (lambda r: r.update(choice="reject"), "commitment"),
    "reason": (lambda r: r.update(reason="Something else."), "commitment"),
    "stated commitment": (lambda r: r.update(commitment=_flip_hex(r["commitment"])), "commitment"),
    "index": (lambda r: r.update(leaf_index=r["leaf_index"] - 1), "sealed entry"),
    "proof byte": (
        lambda r: r["inclusion_proof"].__setitem__(0, _flip_hex(r["inclusion_proof"][0])),
        "inclusion",
    ),
    "tree size": (lambda r: r.update(tree_size=r["tree_size"] + 1), "checkpoint"),
    "checkpoint signature": (
        lambda r: r.update(checkpoint=_flip_signature(r["checkpoint"])),
        "checkpoint",
    ),
    "entry": (lambda r: r.update(entry=r["entry"].replace(r["juror"], r["claim"])), "sealed entry"),
}


@pytest.mark.parametrize("kind", sorted(TAMPERS))
def test_a_tampered_receipt_fails_the_right_check(
    world: World, tmp_path: Path, mutualog: Mutualog, kind: str
) -> None:
    change, failing = TAMPERS[kind]
    receipt = json.loads(json.dumps(world.receipt))
    change(receipt)
    path = write(tmp_path, receipt)
    result = mutualog("verify-receipt", path, "--key", world.vkey, "--json")
    assert result.code == 1, result.out + result.err
    assert checks(result.out)[failing] == "FAIL", result.out
    human = mutualog("verify-receipt", path, "--key", world.vkey)
    assert human.code == 1 and f"[FAIL] {failing}:" in human.out and "NOT VERIFIED" in human.out


def test_a_receipt_checkpoint_signed_by_another_key_fails(
    world: World, tmp_path: Path, mutualog: Mutualog
) -> None:
    other = Ed25519Signer(ORIGIN, bytes(32)).verifier().to_vkey()
    result = mutualog("verify-receipt", write(tmp_path, world.receipt), "--key", other)
    assert result.code == 1 and "[FAIL] checkpoint:" in result.out


# --- a log that lies: exit 1 ---------------------------------------------------------------


def test_a_log_whose_reveal_does_not_match_fails(
    world: World, tmp_path: Path, mutualog: Mutualog
) -> None:
    def change(body: Any) -> Any:
        if isinstance(body, VoteRevealed) and body.juror == world.juror:
            return replace(body, choice=Choice.REJECT)
        if isinstance(body, ClaimDecided):
            return replace(body, approvals=1, rejections=2)
        return body

    forged = forge(world, "bad-reveal", change)
    path = write(tmp_path, world.receipt)
    result = mutualog("verify-receipt", path, "--key", world.vkey, "--log", forged, "--json")
    assert result.code == 1, result.out + result.err
    found = checks(result.out)
    assert found["consistency"] == "ok"  # the sealed vote itself is untouched
    assert found["reveal"] == "FAIL"
    assert "does not open the sealed commitment" in result.out


def test_a_log_whose_tally_does_not_count_the_vote_fails(
    world: World, tmp_path: Path, mutualog: Mutualog
) -> None:
    def change(body: Any) -> Any:
        if isinstance(body, ClaimDecided):
            return replace(body, approvals=1, rejections=1)
        return body

    forged = forge(world, "bad-tally", change)
    path = write(tmp_path, world.receipt)
    result = mutualog("verify-receipt", path, "--key", world.vkey, "--log", forged)
    assert result.code == 1, result.out + result.err
    assert "[ok  ] reveal:" in result.out and "[FAIL] tally:" in result.out


def test_a_log_that_dropped_the_reveal_fails(
    world: World, tmp_path: Path, mutualog: Mutualog
) -> None:
    def change(body: Any) -> Any:
        if isinstance(body, VoteRevealed) and body.juror == world.juror:
            return replace(body, juror=world.receipt["claim"][:32])  # someone else's reveal
        return body

    forged = forge(world, "dropped", change)
    path = write(tmp_path, world.receipt)
    result = mutualog("verify-receipt", path, "--key", world.vkey, "--log", forged)
    assert result.code == 1, result.out + result.err
    assert "[FAIL] reveal:" in result.out and "dropped" in result.out


# --- cannot verify: exit 2, no traceback ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        "{}",
        '{"type": "mutualog.vote-receipt/v1"}',
        "\ud800",
    ],
)
def test_a_malformed_receipt_cannot_be_verified(
    world: World, tmp_path: Path, mutualog: Mutualog, text: str
) -> None:
    path = tmp_path / "receipt.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    result = mutualog("verify-receipt", path, "--key", world.vkey)
    assert result.code == 2 and "cannot verify" in result.err


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("round", "1"),
        ("round", True),
        ("salt", "zz"),
        ("choice", "maybe"),
        ("inclusion_proof", ["00"]),
        ("inclusion_proof", "00"),
        ("leaf_index", -1),
        ("checkpoint", "not a note"),
    ],
)
def test_a_receipt_with_a_bad_field_cannot_be_verified(
    world: World, tmp_path: Path, mutualog: Mutualog, field: str, value: object
) -> None:
    receipt = {**world.receipt, field: value}
    result = mutualog("verify-receipt", write(tmp_path, receipt))
    assert result.code == 2, result.out + result.err


def test_a_missing_file_or_unpinned_log_cannot_be_verified(
    world: World, tmp_path: Path, mutualog: Mutualog
) -> None:
    assert mutualog("verify-receipt", tmp_path / "absent.json", "--key", world.vkey).code == 2
    result = mutualog("verify-receipt", write(tmp_path, world.receipt))
    assert result.code == 2 and "trust" in result.err
    missing = tmp_path / "absent.tar"
    path = write(tmp_path, world.receipt)
    assert mutualog("verify-receipt", path, "--key", world.vkey, "--log", missing).code == 2
