"""The tamper suite: a pool's log re-signed without its rulebook first.

The operator drops the genesis ``pool.rules`` entry, moves it to entry 1, or
replaces it by another entry, then re-signs the log.  Every log-level check
passes; a log that is a pool's must still begin with its rulebook, so
``audit``, ``verify-deduction`` and ``verify-claim`` each exit 1 naming
``rules.genesis``, instead of checking the log as bare entries with every
rule skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.client.harness import Mutualog, Result, Served, Servers
from tests.client.tamper.forgeries import Forge, label_hash, put
from tests.client.tamper.honest import ORIGIN, Demo, forge_instance, json_report
from tests.client.tamper.lies import tell
from tests.client.tampering import Item, at, find
from verifiable.log.bodies import AgeBand, ClaimPaid, MemberJoined, PoolRules


def rulebook_dropped(d: Demo) -> list[Item]:
    return d.log.items()[1:]


def rulebook_moved(d: Demo) -> list[Item]:
    """The rulebook and the first join swap places, each keeping its slot's time."""
    items = d.log.items()
    rules, first = items[0].body, items[1].body
    assert isinstance(rules, PoolRules)
    return put(put(items, 0, first), 1, rules)


def rulebook_replaced(d: Demo) -> list[Item]:
    """Entry 0 a join of an invented member instead of the rulebook."""
    member = label_hash("in the rulebook's place").hex()[:32]
    return put(d.log.items(), 0, MemberJoined(member=member, age_band=AgeBand.FROM_18_TO_39))


@dataclass(frozen=True)
class RulebookKind:
    """A pool's log whose entry 0 is not its rulebook, and what entry 0 is."""

    id: str
    forge: Forge
    entry0: str


RULEBOOK_KINDS = [
    RulebookKind("rulebook-dropped", rulebook_dropped, "member.joined"),
    RulebookKind("rulebook-moved", rulebook_moved, "member.joined"),
    RulebookKind("rulebook-replaced", rulebook_replaced, "member.joined"),
]

GENESIS = re.compile(r"entry 0: rule rules\.genesis: a pool's log begins with its rulebook")


@pytest.fixture(scope="module", params=RULEBOOK_KINDS, ids=lambda k: k.id)
def forged(
    request: pytest.FixtureRequest,
    demo: Demo,
    servers: Servers,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RulebookKind, Path, Served]]:
    """The kind's re-signed log: a snapshot of it, and its instance served."""
    kind: RulebookKind = request.param
    folder = tmp_path_factory.mktemp(kind.id)
    instance = forge_instance(demo, folder, kind.forge(demo))
    snapshot = instance.snapshot(folder / "forged.tar")
    served = servers.serve(instance)
    try:
        yield kind, snapshot, served
    finally:
        servers.stop(served)


def test_audit_fails_rules_genesis(
    forged: tuple[RulebookKind, Path, Served],
    demo: Demo,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    kind, snapshot, _served = forged
    request.getfixturevalue("offline")
    result = mutualog("audit", snapshot, "--key", demo.instance.vkey, "--json")
    assert result.code == 1, result.err
    report = json_report(result)
    # Signed with the log key and well chained: only the rulebook check tells.
    assert all(c["ok"] for c in report["checks"]), report["checks"]
    assert report["rules"]["status"] == "failed"
    assert GENESIS.match(report["rules"]["detail"]), report["rules"]
    assert f"got {kind.entry0})" in report["rules"]["detail"]
    human = mutualog("audit", snapshot, "--key", demo.instance.vkey)
    assert re.search(r"^\[FAIL\] rules: entry 0: rule rules\.genesis: ", human.out, re.M)
    assert human.out.rstrip().endswith("NOT VERIFIED")


def _rules_failure(result: Result) -> dict[str, Any]:
    """The failed ``rules`` finding of a member's check; the proofs pass,
    because it is the log that lies."""
    report = json_report(result)
    assert report["verified"] is False
    checks = {c["name"]: c for c in report["checks"]}
    for name in ("checkpoint", "synced", "inclusion"):
        assert checks[name]["ok"], checks[name]
    rules: dict[str, Any] = checks["rules"]
    assert not rules["ok"], rules
    return rules


def test_verify_deduction_fails_rules_genesis(
    forged: tuple[RulebookKind, Path, Served],
    demo: Demo,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    _kind, _snapshot, served = forged
    told = tell(demo, [])
    assert mutualog("trust", ORIGIN, demo.instance.vkey).code == 0
    out = tmp_path / "bundle.json"
    fetched = mutualog(
        "fetch", "deduction", served.url, "--member", told.member, "--period", told.period,
        "--sample", 1, "-o", out,
    )  # fmt: skip
    assert fetched.code == 0, fetched.out + fetched.err
    request.getfixturevalue("offline")
    result = mutualog(
        "verify-deduction", "--member", told.member, "--period", told.period,
        "--bundle", out, "--json",
    )  # fmt: skip
    assert result.code == 1, result.out + result.err
    rules = _rules_failure(result)
    assert "rule rules.genesis" in str(rules["detail"]), rules
    assert rules["where"] == "entry 0"


def test_verify_claim_fails_rules_genesis(
    forged: tuple[RulebookKind, Path, Served],
    demo: Demo,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    _kind, _snapshot, served = forged
    claim = at(demo.log.decoded, find(demo.log.decoded, ClaimPaid), ClaimPaid).claim
    assert mutualog("trust", ORIGIN, demo.instance.vkey).code == 0
    out = tmp_path / "claim.json"
    fetched = mutualog("fetch", "claim", claim, served.url, "-o", out)
    assert fetched.code == 0, fetched.out + fetched.err
    request.getfixturevalue("offline")
    result = mutualog("verify-claim", claim, "--bundle", out, "--json")
    assert result.code == 1, result.out + result.err
    rules = _rules_failure(result)
    assert "rule rules.genesis" in str(rules["detail"]), rules
    assert rules["where"] == "entry 0"
