"""``mutualog fetch deduction`` and ``verify-deduction`` end to end: a real
server serving the demo pool; trust, fetch (which syncs), then verify with
every socket blocked.  Tampered bundles exit 1 naming the check; a missing
or unreadable bundle exits 2."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.client.demo_pool import DemoPool, demo_pool
from tests.client.harness import Mutualog, Servers


@pytest.fixture
def demo(tmp_path_factory: pytest.TempPathFactory, servers: Servers) -> DemoPool:
    return demo_pool(tmp_path_factory.getbasetemp(), servers)


@pytest.fixture
def fetched(demo: DemoPool, mutualog: Mutualog, tmp_path: Path) -> tuple[str, str, Path]:
    period, member = str(demo.period()), demo.member(demo.period())
    assert mutualog("trust", demo.log.origin, demo.log.vkey).code == 0
    out = tmp_path / "bundle.json"
    result = mutualog(
        "fetch",
        "deduction",
        "--member",
        member,
        "--period",
        period,
        "--sample",
        "3",
        "-o",
        out,
        demo.url,
    )
    assert result.code == 0, result.err
    assert "3 claims sampled" in result.out
    return member, period, out


def test_verify_offline_exit_0(
    fetched: tuple[str, str, Path], mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    member, period, out = fetched
    request.getfixturevalue("offline")
    result = mutualog("verify-deduction", "--member", member, "--period", period, "--bundle", out)
    assert result.code == 0, result.out + result.err
    assert result.out.rstrip().endswith("VERIFIED")
    for name in (
        "checkpoint",
        "synced",
        "inclusion",
        "roster",
        "paid claims",
        "share",
        "sortition",
        "votes",
        "decision",
        "sample",
    ):
        assert f"[ok  ] {name}:" in result.out
    report = json.loads(
        mutualog(
            "verify-deduction", "--member", member, "--period", period, "--bundle", out, "--json"
        ).out
    )
    assert report["verified"] is True and report["command"] == "verify-deduction"
    assert report["member"] == member and report["period"] == period
    assert isinstance(report["share"], int) and len(report["sample"]) == 3
    assert set(report["checks"][0]) == {"name", "ok", "detail", "expected", "found", "where"}


def test_default_bundle_location(
    demo: DemoPool, mutualog: Mutualog, state: Path, request: pytest.FixtureRequest
) -> None:
    period, member = str(demo.period()), demo.member(demo.period())
    assert mutualog("trust", demo.log.origin, demo.log.vkey).code == 0
    result = mutualog("fetch", "deduction", "--member", member, "--period", period, demo.url)
    assert result.code == 0, result.err
    saved = list(state.glob("logs/*/bundles/deduction-*.json"))
    assert len(saved) == 1 and saved[0].name == f"deduction-{period}-{member}.json"
    request.getfixturevalue("offline")
    result = mutualog("verify-deduction", "--member", member, "--period", period)
    assert result.code == 0, result.out + result.err


def _tamper(out: Path, change: Any) -> None:
    obj = json.loads(out.read_bytes())
    change(obj)
    out.write_text(json.dumps(obj))


def _share_plus_one(obj: dict[str, Any]) -> None:
    obj["deduction"]["paid"][0][1] += 1


def _roster_proof(obj: dict[str, Any]) -> None:
    proof = obj["deduction"]["roster_proof"]
    proof[0] = ("0" if proof[0][0] != "0" else "1") + proof[0][1:]


def _entry_byte(obj: dict[str, Any]) -> None:
    entry = obj["entries"][-1]
    data = bytearray(base64.b64decode(entry["entry"]))
    data[-3] ^= 1
    entry["entry"] = base64.b64encode(bytes(data)).decode()


@pytest.mark.parametrize(
    ("change", "check"),
    [(_share_plus_one, "paid claims"), (_roster_proof, "roster"), (_entry_byte, "inclusion")],
    ids=["paid amount", "roster proof", "entry byte"],
)
def test_tampered_bundle_exit_1(
    fetched: tuple[str, str, Path],
    mutualog: Mutualog,
    change: Any,
    check: str,
    request: pytest.FixtureRequest,
) -> None:
    member, period, out = fetched
    request.getfixturevalue("offline")
    _tamper(out, change)
    result = mutualog("verify-deduction", "--member", member, "--period", period, "--bundle", out)
    assert result.code == 1, result.out + result.err
    assert f"[FAIL] {check}:" in result.out
    assert "expected:" in result.out
    assert result.out.rstrip().endswith("NOT VERIFIED")


def test_missing_or_bad_bundle_exit_2(
    fetched: tuple[str, str, Path],
    mutualog: Mutualog,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    member, period, out = fetched
    request.getfixturevalue("offline")
    args = ("verify-deduction", "--member", member, "--period", period, "--bundle")
    result = mutualog(*args, tmp_path / "nothing.json")
    assert result.code == 2 and "cannot be read" in result.err
    (tmp_path / "junk.json").write_text("{}")
    result = mutualog(*args, tmp_path / "junk.json")
    assert result.code == 2 and "not a verification bundle" in result.err
    result = mutualog("verify-deduction", "--member", "XYZ", "--period", period, "--bundle", out)
    assert result.code == 2
    result = mutualog("verify-deduction", "--member", member, "--period", "2024-13-01")
    assert result.code == 2


def test_bundle_older_than_sync_exit_2(
    demo: DemoPool, fetched: tuple[str, str, Path], mutualog: Mutualog, state: Path
) -> None:
    member, period, out = fetched
    checkpoint = next(state.glob("logs/*/checkpoint"))
    text = checkpoint.read_bytes()
    obj = json.loads(out.read_bytes())
    # Another size than the synced one: the user must fetch again.
    lines = obj["checkpoint"].split("\n")
    lines[1] = str(int(lines[1]) - 1)
    obj["checkpoint"] = "\n".join(lines)
    out.write_text(json.dumps(obj))
    result = mutualog("verify-deduction", "--member", member, "--period", period, "--bundle", out)
    assert result.code == 2 and "fetch the bundle again" in result.err
    assert checkpoint.read_bytes() == text
