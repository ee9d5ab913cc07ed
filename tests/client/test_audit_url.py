"""``mutualog audit`` from a URL, a folder and a snapshot; resuming an
interrupted audit; the rules replay."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from client.audit import AuditReport, audit_log
from client.fetch import Fetcher, FetchError, HttpFetcher
from client.sources import DirectorySource, SourceError, open_source
from client.state import StateDir
from verifiable.log.bodies import AgeBand, Body, MemberJoined, PoolRules
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import GENESIS_PREV, make_entry
from verifiable.log.merkle import leaf_hash, root_hash
from verifiable.log.note import Ed25519Signer, Ed25519Verifier
from verifiable.log.tiles import (
    TileCoord,
    build_bundles,
    build_tiles,
    decode_bundle,
    encode_bundle,
    tile_hashes,
)

if TYPE_CHECKING:
    from tests.client.harness import LogInstance, MakeLog, Mutualog, Served, Servers

ORIGIN = "example.org/mutualog/test"


def _report(result: Any) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(result.out)
    return report


def _progress_file(state: Path, origin: str = ORIGIN) -> Path:
    from client.state import safe_name

    return state / "logs" / safe_name(origin) / "audit-state.sqlite"


def test_url_folder_and_snapshot_give_the_same_report(
    served_log: tuple[LogInstance, Served],
    mutualog: Mutualog,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    log, served = served_log
    folder = log.export(tmp_path / "export")
    snapshot = log.snapshot(tmp_path / "log.tar")
    from_url = mutualog("audit", served.url, "--key", log.vkey, "--json")
    assert from_url.code == 0
    by_url = _report(from_url)
    transfer = by_url.pop("transfer")
    assert transfer["tiles"] == 7 and transfer["requests"] == 8  # each tile once

    request.getfixturevalue("offline")  # the rest needs no network
    by_folder = _report(mutualog("audit", folder, "--key", log.vkey, "--json"))
    by_snapshot = _report(mutualog("audit", snapshot, "--key", log.vkey, "--json"))
    layout = by_snapshot["checks"].pop()
    assert layout == {
        "name": "snapshot layout",
        "ok": True,
        "detail": "exactly the log's checkpoint, tiles and bundles",
    }
    pages = [r.pop("verifier_page") for r in (by_url, by_folder, by_snapshot)]
    for report in (by_url, by_folder, by_snapshot):
        report.pop("source")
    assert by_url == by_folder == by_snapshot
    # A URL's audit would fetch the page if the log published its hash; a
    # snapshot or folder holds none.
    assert [p["status"] for p in pages] == ["skip", "skip", "skip"]
    assert "publishes no hash of a verifier page" in pages[0]["detail"]
    assert pages[1]["detail"] == pages[2]["detail"] != pages[0]["detail"]
    assert by_url["verified"] and by_url["size"] == by_url["entries"] == 600
    assert [c["name"] for c in by_url["checks"]] == ["checkpoint", "tiles and entries"]
    assert by_url["rules"]["status"] == "ok"


def test_human_output_names_each_check(
    served_log: tuple[LogInstance, Served], mutualog: Mutualog
) -> None:
    log, served = served_log
    result = mutualog("audit", served.url, "--key", log.vkey)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == f"log     {ORIGIN}"
    assert lines[1] == f"source  {served.url}"
    assert "[ok  ] checkpoint: signed by example.org/mutualog/test, size 600" in lines
    assert any(line.startswith("[ok  ] tiles and entries: 600 entries") for line in lines)
    assert (
        "[ok  ] rules: 600 entries replayed under the logged rules: 599 members, "
        "0 claims, 0 periods closed, money conserved to the fen" in lines
    )
    assert lines[-1] == "VERIFIED"


def test_a_pinned_log_needs_no_key(
    served_log: tuple[LogInstance, Served], mutualog: Mutualog
) -> None:
    log, served = served_log
    unpinned = mutualog("audit", served.url)
    assert unpinned.code == 2 and "give SOURCE and --key, or pin" in unpinned.err
    mutualog("trust", ORIGIN, log.vkey)
    assert mutualog("sync", served.url).code == 0
    report = _report(mutualog("audit", served.url, "--json"))
    assert report["verified"]
    assert {"name": "consistent with last sync", "ok": True}.items() <= report["checks"][1].items()


def test_a_key_other_than_the_pinned_one_is_refused(
    served_log: tuple[LogInstance, Served], make_log: MakeLog, mutualog: Mutualog
) -> None:
    log, served = served_log
    mutualog("trust", ORIGIN, log.vkey)
    result = mutualog("audit", served.url, "--key", make_log().vkey)
    assert result.code == 2 and "--key differs from the key pinned" in result.err


def test_the_witness_policy_applies_to_audit(
    served_log: tuple[LogInstance, Served], mutualog: Mutualog, tmp_path: Path
) -> None:
    log, served = served_log
    vkey = mutualog("witness", "keygen", "w1", "--out", tmp_path / "w1.key").out.strip()
    mutualog("trust", ORIGIN, log.vkey, "--witness", "w1", vkey)
    result = mutualog("audit", served.url)
    assert result.code == 1
    assert "[FAIL] witnesses: 0 of 1 trusted witnesses cosigned; 1 required" in result.out


# --- resuming ---------------------------------------------------------------------------


class FetchHook:
    """Records every tile a source fetches and fails once at ``fail_at``."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, cls: type, error: Exception | None = None
    ) -> None:
        self.paths: list[str] = []
        self.fail_at: str | None = None
        original = cls.fetch

        def fetch(source: Any, tile: TileCoord) -> bytes | None:
            self.paths.append(tile.path())
            if tile.path() == self.fail_at:
                self.fail_at = None
                raise error or FetchError(f"GET {tile.path()}: connection reset (test)")
            result: bytes | None = original(source, tile)
            return result

        monkeypatch.setattr(cls, "fetch", fetch)

    def take(self) -> list[str]:
        paths, self.paths = self.paths, []
        return paths


SIZE = 6 * 256 + 10  # six full level-0 tiles and a partial one


@pytest.fixture(scope="module")
def big_log(make_log: MakeLog, servers: Servers) -> tuple[LogInstance, Served]:
    log = make_log(SIZE)
    return log, servers.serve(log)


def test_an_interrupted_audit_continues_where_it_stopped(
    big_log: tuple[LogInstance, Served],
    mutualog: Mutualog,
    monkeypatch: pytest.MonkeyPatch,
    state: Path,
) -> None:
    log, served = big_log
    hook = FetchHook(monkeypatch, HttpFetcher)
    full = mutualog("audit", served.url, "--key", log.vkey)
    assert full.code == 0
    everything = hook.take()
    assert len(everything) == 15 and not _progress_file(state).exists()

    hook.fail_at = "tile/entries/003"
    interrupted = mutualog("audit", served.url, "--key", log.vkey)
    assert interrupted.code == 2
    assert "cannot verify: GET tile/entries/003: connection reset" in interrupted.err
    assert "entries 0..767 are proven and saved; run the same command again" in interrupted.err
    assert _progress_file(state).exists()
    hook.take()

    resumed = mutualog("audit", served.url, "--key", log.vkey, "--json")
    assert resumed.code == 0
    again = hook.take()
    # Only the tiles after the resume point, and the partial tiles (which
    # prove this checkpoint extends the saved prefix): nothing of tiles 0-2.
    assert sorted(again) == sorted(
        ["tile/0/006.p/10", "tile/1/000.p/6", "tile/entries/006.p/10"]
        + [f"tile/{kind}/00{n}" for kind in ("0", "entries") for n in (3, 4, 5)]
    )
    report = _report(resumed)
    assert report["resumed_from"] == 768 and report["entries"] == SIZE
    names = [c["name"] for c in report["checks"]]
    assert names == ["checkpoint", "resume point", "tiles and entries"]
    assert report["checks"][1]["detail"].startswith(
        "entries 0..767 proven and their rules replayed by an interrupted audit"
    )
    assert not _progress_file(state).exists()


def test_restart_starts_over(
    big_log: tuple[LogInstance, Served],
    mutualog: Mutualog,
    monkeypatch: pytest.MonkeyPatch,
    state: Path,
) -> None:
    log, served = big_log
    hook = FetchHook(monkeypatch, HttpFetcher)
    hook.fail_at = "tile/entries/004"
    assert mutualog("audit", served.url, "--key", log.vkey).code == 2
    hook.take()
    restarted = mutualog("audit", served.url, "--key", log.vkey, "--restart", "--json")
    assert restarted.code == 0 and _report(restarted)["resumed_from"] == 0
    assert len(hook.take()) == 15


def test_a_resumed_audit_follows_growth(
    make_log: MakeLog,
    servers: Servers,
    mutualog: Mutualog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = make_log(600)
    served = servers.serve(log)
    hook = FetchHook(monkeypatch, HttpFetcher)
    hook.fail_at = "tile/entries/001"
    assert mutualog("audit", served.url, "--key", log.vkey).code == 2
    log.append(500)
    report = _report(mutualog("audit", served.url, "--key", log.vkey, "--json"))
    assert report["verified"] and report["resumed_from"] == 256 and report["entries"] == 1100
    assert "size 256 -> 1100: proven with" in report["checks"][1]["detail"]
    servers.stop(served)


def test_a_resume_point_the_log_forked_from_is_a_failure(
    make_log: MakeLog,
    servers: Servers,
    mutualog: Mutualog,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    honest = make_log(300)
    other = make_log(same_key_as=honest, restore=honest.snapshot(tmp_path / "common.tar"))
    honest.append(300, tag="honest")
    other.append(300, tag="other")
    served_honest, served_other = servers.serve(honest), servers.serve(other)
    hook = FetchHook(monkeypatch, HttpFetcher)
    hook.fail_at = "tile/entries/002.p/88"
    assert mutualog("audit", served_honest.url, "--key", honest.vkey).code == 2

    result = mutualog("audit", served_other.url, "--key", honest.vkey, "--json")
    assert result.code == 1
    report = _report(result)
    resume = report["checks"][1]
    assert resume["name"] == "resume point" and not resume["ok"]
    assert "this checkpoint does not extend them: the log forked" in resume["detail"]
    # The audit then checked the log it was shown from its first entry.
    assert report["resumed_from"] == 0 and report["entries"] == 600
    assert report["checks"][2] == {
        "name": "tiles and entries",
        "ok": True,
        "detail": "600 entries: every tile hashes to the root, every entry is canonical "
        "and chained",
    }
    servers.stop(served_honest)
    servers.stop(served_other)


def test_a_corrupt_resume_file_starts_afresh(
    served_log: tuple[LogInstance, Served], mutualog: Mutualog, state: Path
) -> None:
    log, served = served_log
    path = _progress_file(state)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an SQLite file" * 100)
    result = mutualog("audit", served.url, "--key", log.vkey, "--json")
    assert result.code == 0
    report = _report(result)
    assert report["resumed_from"] == 0 and report["entries"] == 600
    assert any(
        n.startswith("saved audit state not usable (") and n.endswith("); started afresh")
        for n in report["notes"]
    )
    assert not path.exists()


# --- the rules replay -------------------------------------------------------------------

RULES_ORIGIN = "example.org/mutualog/rules"
START = datetime(2026, 1, 1, tzinfo=UTC)


def _member(i: int) -> tuple[str, Body]:
    return "member.joined", MemberJoined(member=f"{i:032x}", age_band=AgeBand.FROM_18_TO_39)


def _log_files(bodies: list[tuple[str, Body]]) -> tuple[dict[str, bytes], str]:
    """A signed log of these entries: its files by path, and its verifier key."""
    signer = Ed25519Signer(RULES_ORIGIN, bytes(range(1, 33)))
    entries, prev = [], GENESIS_PREV
    for seq, (type_, body) in enumerate(bodies):
        data = make_entry(seq, prev, START + timedelta(seconds=seq), type_, body).to_bytes()
        entries.append(data)
        prev = leaf_hash(data)
    leaves = [leaf_hash(e) for e in entries]
    files = {
        c.path(): data for c, data in {**build_tiles(leaves), **build_bundles(entries)}.items()
    }
    checkpoint = Checkpoint(RULES_ORIGIN, len(entries), root_hash(leaves))
    files["checkpoint"] = sign_checkpoint(checkpoint, signer)
    return files, signer.verifier().to_vkey()


def _write_log(folder: Path, bodies: list[tuple[str, Body]]) -> str:
    """A signed log of these entries as exported tiles; its verifier key."""
    files, vkey = _log_files(bodies)
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    return vkey


def _rulebook() -> tuple[str, Body]:
    return "pool.rules", PoolRules(effective=START, rules={}, reason="The default rulebook.")


@pytest.mark.usefixtures("offline")
def test_the_example_log_replays_under_its_rules(mutualog: Mutualog) -> None:
    result = mutualog("audit", "--example", "--json")
    assert result.code == 0
    rules = _report(result)["rules"]
    assert rules["status"] == "ok"
    assert rules["summary"]["members"] == 300 and rules["summary"]["entries"] == 301
    assert rules["summary"]["ledger_fen"] == {
        "collected": 0,
        "aid": 0,
        "fees": 0,
        "refunds": 0,
        "surplus": 0,
    }
    human = mutualog("audit", "--example")
    assert "[ok  ] rules: 301 entries replayed under the logged rules: 300 members" in human.out


@pytest.mark.usefixtures("offline")
def test_a_broken_rule_fails_the_audit_and_the_log_checks_go_on(
    mutualog: Mutualog, tmp_path: Path
) -> None:
    bodies = [_rulebook(), *(_member(i) for i in range(300)), _member(7), _member(300)]
    vkey = _write_log(tmp_path, bodies)
    result = mutualog("audit", tmp_path, "--key", vkey, "--json")
    assert result.code == 1
    report = _report(result)
    assert report["rules"]["status"] == "failed"
    assert report["rules"]["detail"].startswith("entry 301: rule member.unique:")
    assert report["checks"][-1]["ok"] and report["entries"] == 303
    human = mutualog("audit", tmp_path, "--key", vkey)
    assert "[FAIL] rules: entry 301: rule member.unique" in human.out
    assert human.out.rstrip().endswith("NOT VERIFIED")


@pytest.mark.usefixtures("offline")
def test_a_resumed_audit_takes_up_the_saved_pool_state(
    mutualog: Mutualog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vkey = _write_log(tmp_path, [_rulebook(), *(_member(i) for i in range(700))])
    hook = FetchHook(monkeypatch, DirectorySource, SourceError("disk unplugged (test)"))
    hook.fail_at = "tile/entries/002.p/189"
    interrupted = mutualog("audit", tmp_path, "--key", vkey)
    assert interrupted.code == 2 and "entries 0..511 are proven and saved" in interrupted.err
    hook.take()
    report = _report(mutualog("audit", tmp_path, "--key", vkey, "--json"))
    assert report["verified"] and report["resumed_from"] == 512
    assert report["rules"]["status"] == "ok" and report["rules"]["summary"]["members"] == 700
    # The pool's state is the saved one: nothing before the resume point is read again.
    again = hook.take()
    assert not {"tile/entries/000", "tile/entries/001", "tile/0/000", "tile/0/001"} & set(again)


@pytest.fixture
def served_rulebook(tmp_path: Path, servers: Servers) -> Iterator[tuple[str, Served]]:
    folder = tmp_path / "rulebook-log"
    folder.mkdir()
    vkey = _write_log(folder, [_rulebook(), *(_member(i) for i in range(700))])
    served = servers.static(folder)
    yield vkey, served
    servers.stop(served)


@dataclass
class Interrupted:
    """An audit of ``url`` that stopped after proving entries 0..511."""

    url: str
    vkey: str
    hook: FetchHook
    state: Path

    @property
    def saved(self) -> Path:
        return _progress_file(self.state, RULES_ORIGIN)

    def resume(self, mutualog: Mutualog) -> dict[str, Any]:
        report = _report(mutualog("audit", self.url, "--key", self.vkey, "--json"))
        assert report["verified"] and report["resumed_from"] == 512
        assert report["rules"]["status"] == "ok" and report["rules"]["summary"]["members"] == 700
        return report


@pytest.fixture
def interrupted(
    served_rulebook: tuple[str, Served],
    mutualog: Mutualog,
    monkeypatch: pytest.MonkeyPatch,
    state: Path,
) -> Interrupted:
    vkey, served = served_rulebook
    hook = FetchHook(monkeypatch, HttpFetcher)
    hook.fail_at = "tile/entries/002.p/189"
    result = mutualog("audit", served.url, "--key", vkey)
    assert result.code == 2 and "entries 0..511 are proven and saved" in result.err
    assert _progress_file(state, RULES_ORIGIN).exists()
    hook.take()
    return Interrupted(served.url, vkey, hook, state)


def test_a_resumed_audit_of_a_url_downloads_nothing_before_the_saved_point(
    interrupted: Interrupted, mutualog: Mutualog
) -> None:
    interrupted.resume(mutualog)
    again = interrupted.hook.take()
    assert not {"tile/entries/000", "tile/entries/001", "tile/0/000", "tile/0/001"} & set(again)
    assert "tile/entries/002.p/189" in again
    assert not interrupted.saved.exists()


def test_a_saved_state_changed_on_disk_is_not_resumed(
    interrupted: Interrupted, mutualog: Mutualog
) -> None:
    # One byte of a member's record changed in the SQLite file: the records
    # no longer match the saved digest, so the audit starts afresh.
    data = bytearray(interrupted.saved.read_bytes())
    at = data.index(b'["00000000000000000000000000000007",')
    data[at + 33] = ord("6")
    interrupted.saved.write_bytes(bytes(data))
    report = _report(mutualog("audit", interrupted.url, "--key", interrupted.vkey, "--json"))
    assert report["verified"] and report["resumed_from"] == 0
    assert report["rules"]["summary"]["members"] == 700
    assert any("saved audit state not usable" in n for n in report["notes"])
    assert {"tile/entries/000", "tile/entries/001"} <= set(interrupted.hook.take())


# --- a log served from memory -------------------------------------------------------------


class MemoryLog:
    """A :class:`~client.fetch.Fetcher` serving a log from a dict of paths,
    honest or not: what a test hands ``audit_log`` with no server and no file."""

    def __init__(self, files: dict[str, bytes], *, remote: bool = False) -> None:
        self.files = files
        self.remote = remote
        self.label = "memory:"
        self.stats = None
        self.fetched: list[str] = []

    def url(self, path: str) -> str:
        return self.label + path

    def get(self, path: str, limit: int) -> bytes | None:
        self.fetched.append(path)
        return self.files.get(path)

    def checkpoint(self) -> bytes:
        return self.files["checkpoint"]

    def fetch(self, tile: TileCoord) -> bytes | None:
        return self.get(tile.path(), 1 << 24)

    def listing(self) -> frozenset[str]:
        return frozenset(self.files)

    def close(self) -> None:
        pass


@pytest.fixture
def memory_log() -> tuple[dict[str, bytes], str]:
    return _log_files([_rulebook(), *(_member(i) for i in range(600))])


def _audit_memory(
    files: dict[str, bytes], vkey: str, state: StateDir | None = None, *, remote: bool = False
) -> AuditReport:
    source: Fetcher = MemoryLog(files, remote=remote)
    return audit_log(source, Ed25519Verifier.from_vkey(vkey), RULES_ORIGIN, state=state)


@pytest.mark.usefixtures("offline")
def test_a_log_served_from_memory_is_audited_like_any_other(
    memory_log: tuple[dict[str, bytes], str], tmp_path: Path
) -> None:
    files, vkey = memory_log
    report = _audit_memory(files, vkey)
    assert report.ok and report.entries == 601
    assert [c.name for c in report.checks] == ["checkpoint", "tiles and entries", "snapshot layout"]
    assert report.rules is not None and report.rules.status == "ok"
    # The same log from a folder gives the same verdicts (a folder has no layout to check).
    _write_log(tmp_path, [_rulebook(), *(_member(i) for i in range(600))])
    folder = audit_log(
        open_source(tmp_path), Ed25519Verifier.from_vkey(vkey), RULES_ORIGIN
    ).to_json()
    memory = report.to_json()
    memory["checks"].pop()  # type: ignore[attr-defined]
    assert {**memory, "source": ""} == {**folder, "source": ""}


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize(
    ("lie", "detail"),
    [
        pytest.param(
            lambda f: f.update(
                {"tile/entries/000": f["tile/entries/000"].replace(b"0007", b"0008", 1)}
            ),
            "tile/entries/000: entry 8 (log index 8) has leaf hash",
            id="altered-entry",
        ),
        pytest.param(lambda f: f.pop("tile/0/000"), "tile/0/000: missing", id="missing-tile"),
        pytest.param(
            lambda f: f.update({"tile/1/000.p/2": bytes(64)}),
            "partial tiles tile/0/002.p/89, tile/1/000.p/2 hash to root",
            id="lying-upper-tile",
        ),
        pytest.param(lambda f: f.update({"extra": b""}), "'extra'", id="extra-file"),
    ],
)
def test_a_dishonest_log_served_from_memory_fails_the_audit(
    memory_log: tuple[dict[str, bytes], str], lie: Callable[[dict[str, bytes]], object], detail: str
) -> None:
    files, vkey = memory_log
    files = dict(files)
    lie(files)
    report = _audit_memory(files, vkey)
    assert not report.ok
    (failed,) = [c for c in report.checks if not c.ok]
    assert detail in failed.detail


def _tampered_tile_detail(files: dict[str, bytes]) -> str:
    honest = files["tile/0/001"]
    files["tile/0/001"] = bytes(32) + honest[32:]
    got, expected = (root_hash(tile_hashes(t)) for t in (files["tile/0/001"], honest))
    return (
        f"tile/0/001: tile hashes to {got.hex()}, but the tree of size 601 "
        f"holds {expected.hex()} for it"
    )


def _altered_entry_detail(files: dict[str, bytes]) -> str:
    # Entry 515, the fourth of the partial bundle, names member 514.
    path = "tile/entries/002.p/89"
    entries = decode_bundle(files[path])
    honest = entries[3]
    entries[3] = honest.replace(b"%032x" % 514, b"%032x" % 9999, 1)
    files[path] = encode_bundle(entries)
    return (
        f"{path}: entry 3 (log index 515) has leaf hash {leaf_hash(entries[3]).hex()}, "
        f"tile/0/2 holds {leaf_hash(honest).hex()}"
    )


def _malformed_tile_detail(files: dict[str, bytes]) -> str:
    files["tile/0/001"] = bytes(8160)
    return "tile/0/001: tile: 8160 bytes, expected 8192 (256 hashes)"


def _dropped_entry_detail(files: dict[str, bytes]) -> str:
    files["tile/entries/001"] = encode_bundle(decode_bundle(files["tile/entries/001"])[:-1])
    return "tile/entries/001: entry bundle: 255 entries, expected 256"


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize(
    "lie",
    [_tampered_tile_detail, _altered_entry_detail, _malformed_tile_detail, _dropped_entry_detail],
    ids=["tampered-level0-tile", "altered-entry", "malformed-level0-tile", "dropped-entry"],
)
def test_a_failed_walk_is_worded_as_the_audit_always_worded_it(
    memory_log: tuple[dict[str, bytes], str], lie: Callable[[dict[str, bytes]], str]
) -> None:
    """The detail of a failed "tiles and entries" check is part of the
    audit's --json output, a stable interface: pinned byte for byte."""
    files, vkey = memory_log
    files = dict(files)
    detail = lie(files)
    report = _audit_memory(files, vkey)
    assert report.to_json()["checks"][-1] == {  # type: ignore[index]
        "name": "tiles and entries",
        "ok": False,
        "detail": detail,
    }


@pytest.mark.usefixtures("offline")
def test_a_remote_log_in_memory_resumes_from_its_saved_state(
    memory_log: tuple[dict[str, bytes], str], tmp_path: Path
) -> None:
    """A failed audit forgets its saved state; an interrupted one keeps it
    and the next takes it up, whatever class the fetcher is."""
    files, vkey = memory_log
    state = StateDir(tmp_path / "state")
    cut = dict(files)
    del cut["tile/entries/002.p/89"]
    first = _audit_memory(cut, vkey, state, remote=True)
    assert first.checks[-1].name == "tiles and entries" and not first.checks[-1].ok
    # A failed audit forgets its resume point; an interrupted one keeps it.
    source = MemoryLog(files, remote=True)
    interrupted = MemoryLog(cut, remote=True)

    def fail(tile: TileCoord) -> bytes | None:
        if tile.path() == "tile/entries/002.p/89":
            raise FetchError("connection reset (test)")
        return source.fetch(tile)

    interrupted.fetch = fail  # type: ignore[method-assign]
    verifier = Ed25519Verifier.from_vkey(vkey)
    with pytest.raises(FetchError):
        audit_log(interrupted, verifier, RULES_ORIGIN, state=state)
    assert state.audit_state_path(RULES_ORIGIN).exists()
    source.fetched.clear()
    report = audit_log(source, verifier, RULES_ORIGIN, state=state)
    assert report.ok and report.resumed_from == 512 and report.entries == 601
    assert report.rules is not None and report.rules.status == "ok"
    assert not {"tile/entries/000", "tile/entries/001"} & set(source.fetched)
