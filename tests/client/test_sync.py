"""``mutualog trust`` and ``mutualog sync`` against real log servers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from verifiable.log.checkpoint import Checkpoint
from verifiable.log.note import Note

if TYPE_CHECKING:
    from tests.client.harness import LogInstance, MakeLog, Mutualog, Served, Servers

ORIGIN = "example.org/mutualog/test"  # the origin make_log gives every instance


def _size(note: bytes) -> int:
    return Checkpoint.from_text(Note.from_bytes(note).text).size


def _stored(state: Path) -> bytes:
    (folder,) = (state / "logs").iterdir()
    return (folder / "checkpoint").read_bytes()


def _evidence(state: Path) -> list[Path]:
    (folder,) = (state / "logs").iterdir()
    return sorted((folder / "evidence").iterdir())


def test_trust_then_sync_stores_the_checkpoint(
    served_log: tuple[LogInstance, Served], mutualog: Mutualog, state: Path
) -> None:
    log, served = served_log
    assert mutualog("trust", ORIGIN, log.vkey).code == 0
    first = mutualog("sync", served.url)
    assert first.code == 0, first.out + first.err
    assert "[ok  ] signature" in first.out and "first checkpoint" in first.out
    assert first.out.rstrip().endswith("VERIFIED")
    assert _size(_stored(state)) == 600

    again = mutualog("sync", served.url, "--json")
    assert again.code == 0
    report = json.loads(again.out)
    assert report["verified"] and report["stored"]
    assert (report["old_size"], report["new_size"]) == (600, 600)
    assert [c["name"] for c in report["checks"]] == ["signature", "consistency"]
    assert "the same tree" in report["checks"][1]["detail"]
    assert report["transfer"]["requests"] == 1 and report["transfer"]["tiles"] == 0


def test_sync_after_growth_proves_consistency(
    make_log: MakeLog, servers: Servers, mutualog: Mutualog, state: Path
) -> None:
    log = make_log(300)
    served = servers.serve(log)
    mutualog("trust", ORIGIN, log.vkey)
    assert mutualog("sync", served.url).code == 0
    log.append(700)
    grown = mutualog("sync", served.url, "--origin", ORIGIN)
    assert grown.code == 0, grown.out
    assert "size 300 -> 1000: proven with" in grown.out
    assert _size(_stored(state)) == 1000
    servers.stop(served)


def test_a_log_that_shrank_is_evidence(
    make_log: MakeLog, servers: Servers, mutualog: Mutualog, state: Path, tmp_path: Path
) -> None:
    log = make_log(300)
    older = log.snapshot(tmp_path / "older.tar")
    served = servers.serve(log)
    mutualog("trust", ORIGIN, log.vkey)
    assert mutualog("sync", served.url).code == 0
    log.append(200)
    assert mutualog("sync", served.url).code == 0
    newest = _stored(state)
    servers.stop(served)

    # The operator restores last week's backup under the same key and URL.
    restored = make_log(same_key_as=log, restore=older)
    served = servers.serve(restored, port=served.port)
    result = mutualog("sync", served.url)
    assert result.code == 1
    assert "[FAIL] consistency: the log shrank: size 300 after size 500" in result.out
    assert "NOT VERIFIED" in result.out
    assert _stored(state) == newest
    (evidence,) = _evidence(state)
    assert evidence.name.endswith("-shrank")
    assert (evidence / "old-checkpoint").read_bytes() == newest
    assert _size((evidence / "new-checkpoint").read_bytes()) == 300
    described = json.loads((evidence / "evidence.json").read_text())
    assert described["kind"] == "shrank" and described["check"] == "consistency"
    servers.stop(served)


def test_a_fork_is_evidence(
    make_log: MakeLog, servers: Servers, mutualog: Mutualog, state: Path, tmp_path: Path
) -> None:
    # Two instances with one key and a common history, then different entries:
    # the split view a member and their neighbour could be shown.
    honest = make_log(300)
    common = honest.snapshot(tmp_path / "common.tar")
    other = make_log(same_key_as=honest, restore=common)
    honest.append(100, tag="honest")
    other.append(150, tag="other")
    served_honest, served_other = servers.serve(honest), servers.serve(other)
    mutualog("trust", ORIGIN, honest.vkey)
    assert mutualog("sync", served_honest.url).code == 0
    seen = _stored(state)

    result = mutualog("sync", served_other.url)
    assert result.code == 1
    assert "[FAIL] consistency: the log forked: consistency proof from size 400" in result.out
    assert _stored(state) == seen
    (evidence,) = _evidence(state)
    assert evidence.name.endswith("-fork")
    assert (evidence / "old-checkpoint").read_bytes() == seen
    assert _size((evidence / "new-checkpoint").read_bytes()) == 450
    servers.stop(served_honest)
    servers.stop(served_other)


def test_a_checkpoint_signed_by_another_key_is_evidence(
    served_log: tuple[LogInstance, Served],
    make_log: MakeLog,
    servers: Servers,
    mutualog: Mutualog,
    state: Path,
) -> None:
    log, _ = served_log
    impostor = make_log(10)  # same origin, its own key
    served = servers.serve(impostor)
    mutualog("trust", ORIGIN, log.vkey)
    result = mutualog("sync", served.url)
    assert result.code == 1
    assert "[FAIL] signature: " in result.out and "no signature by a known key" in result.out
    (evidence,) = _evidence(state)
    assert evidence.name.endswith("-bad-checkpoint")
    assert not (evidence / "old-checkpoint").exists()
    assert not (state / "logs" / evidence.parent.parent.name / "checkpoint").exists()
    servers.stop(served)


def test_trust_refuses_a_different_key_unless_replaced(
    served_log: tuple[LogInstance, Served], make_log: MakeLog, mutualog: Mutualog, state: Path
) -> None:
    log, served = served_log
    other = make_log()
    assert mutualog("trust", ORIGIN, log.vkey).code == 0
    assert mutualog("sync", served.url).code == 0
    refused = mutualog("trust", ORIGIN, other.vkey)
    assert refused.code == 2 and "refusing a different key" in refused.err
    assert mutualog("trust", ORIGIN, log.vkey).code == 0  # the same key again is fine
    replaced = mutualog("trust", ORIGIN, other.vkey, "--replace")
    assert replaced.code == 0
    (folder,) = (state / "logs").iterdir()
    assert not (folder / "checkpoint").exists()


# --- cannot verify ---------------------------------------------------------------------


def test_unreachable_server(mutualog: Mutualog, servers: Servers) -> None:
    result = mutualog("sync", f"http://127.0.0.1:{servers.free_port()}/")
    assert result.code == 2
    assert "cannot verify: GET http://127.0.0.1:" in result.err and "refused" in result.err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/log/", "not an http:// or https:// URL"),
        ("example.org/log", "not an http:// or https:// URL"),
        ("http://127.0.0.1:1/?x=1", "no query or fragment"),
    ],
    ids=["ftp", "no-scheme", "query"],
)
def test_bad_urls(mutualog: Mutualog, url: str, message: str) -> None:
    result = mutualog("sync", url)
    assert result.code == 2 and message in result.err


def test_a_log_that_is_not_pinned(
    served_log: tuple[LogInstance, Served], mutualog: Mutualog
) -> None:
    result = mutualog("sync", served_log[1].url)
    assert result.code == 2 and "is not pinned" in result.err and "mutualog trust" in result.err


def test_a_garbage_checkpoint(servers: Servers, mutualog: Mutualog, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "checkpoint").write_bytes(b"<html>hello</html>\n")
    served = servers.static(tmp_path / "site")
    result = mutualog("sync", served.url)
    assert result.code == 2
    assert "not a signed checkpoint note" in result.err
    servers.stop(served)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("trust.json", b"{not json", "corrupt state file: not JSON"),
        ("trust.json", b"[]", "corrupt state file: not a JSON object"),
        ("trust.json", b'{"format": "mutualog-trust/1"}', "corrupt state file: unexpected keys"),
        ("checkpoint", b"example.org/mutualog/test\n1\nAAAA\n", "corrupt state file: the stored"),
    ],
    ids=["trust-not-json", "trust-list", "trust-fields", "checkpoint"],
)
def test_a_corrupt_state_file(
    served_log: tuple[LogInstance, Served],
    mutualog: Mutualog,
    state: Path,
    name: str,
    content: bytes,
    message: str,
) -> None:
    log, served = served_log
    mutualog("trust", ORIGIN, log.vkey)
    assert mutualog("sync", served.url).code == 0
    (folder,) = (state / "logs").iterdir()
    (folder / name).write_bytes(content)
    result = mutualog("sync", served.url)
    assert result.code == 2
    assert message in result.err and str(folder / name) in result.err


def test_tiles_the_log_does_not_serve(
    make_log: MakeLog, servers: Servers, mutualog: Mutualog, tmp_path: Path
) -> None:
    log = make_log(300)
    site = log.export(tmp_path / "site")
    served = servers.static(site)
    mutualog("trust", ORIGIN, log.vkey)
    assert mutualog("sync", served.url).code == 0
    log.append(100)
    log.export(site)
    shutil.rmtree(site / "tile")
    result = mutualog("sync", served.url)
    assert result.code == 2
    assert "the log does not serve it" in result.err
    servers.stop(served)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["trust", ORIGIN, "not-a-key"], "verifier key"),
        (["trust", ORIGIN, "KEY", "--witness", "w1", "KEY"], "signature type 0x01"),
        (["trust", ORIGIN, "KEY", "--witnesses-required", "1"], "but 0 witness(es) are trusted"),
    ],
    ids=["bad-key", "log-key-as-witness", "k-above-n"],
)
def test_trust_bad_inputs(
    served_log: tuple[LogInstance, Served], mutualog: Mutualog, argv: list[str], message: str
) -> None:
    vkey = served_log[0].vkey
    argv = [vkey if a == "KEY" else a for a in argv]
    result = mutualog(*argv)
    assert result.code == 2
    assert message in result.err
