"""The tamper suite: a member's bundles doctored after the fact.

The server answers the bundle routes with a doctored file: a static web
server over the exported log (checkpoint and tiles) and the file at the
route's path.  The member fetches with ``--sample 0``, so the deduction
bundle is all that is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.client.harness import LogInstance, Mutualog, Servers
from tests.client.tamper.forgeries import padded_roster, period_index, share_wrong
from tests.client.tamper.honest import ORIGIN, json_report
from tests.client.tamper.lies import Shop
from tests.client.tampering import bundle_site, check_roster, get_bundle
from verifiable.log.bundle import Bundle
from verifiable.pool.roster import roster_inclusion_proof


def entry_not_its_proof(s: Shop) -> tuple[LogInstance, Bundle]:
    """The period's entry swapped for one with another share, the honest
    proof kept."""
    e = s.demo.log.decoded
    i = period_index(e)
    forged = replace(e[i], body=share_wrong(s.demo)[i].body).to_bytes()
    b = s.honest_bundle()
    entries = tuple(replace(x, data=forged) if x.index == i else x for x in b.entries)
    return s.demo.instance, replace(b, entries=entries)


def from_a_fork(s: Shop) -> tuple[LogInstance, Bundle]:
    """A bundle of a re-signed log of the same size (the fee inflated), next
    to the honest tiles the member synced."""
    return s.demo.instance, get_bundle(s.liars.url("fee"), s.path())


def at_another_size(s: Shop) -> tuple[LogInstance, Bundle]:
    return s.demo.instance, get_bundle(s.earlier.served.url, s.path())


def for_another_member(s: Shop) -> tuple[LogInstance, Bundle]:
    ids = check_roster(s.demo.log.decoded, period_index(s.demo.log.decoded))
    other = next(m for m in ids if m != s.member)
    return s.demo.instance, s.honest_bundle(other)


def padded_roster_proven(s: Shop) -> tuple[LogInstance, Bundle]:
    """The roster with an invented member, and the member's proof in that
    padded tree: what a careful operator serves for ``member-added-to-roster``."""
    b = get_bundle(s.liars.url("added"), s.path())
    assert b.deduction is not None
    index, proof = roster_inclusion_proof(padded_roster(s.demo), s.member)
    deduction = replace(b.deduction, roster_index=index, roster_proof=tuple(proof))
    return s.liars.instance("added"), replace(b, deduction=deduction)


@dataclass(frozen=True)
class DoctoredKind:
    """A doctored deduction bundle; ``code`` is the exit code of ``fetch``
    when it refuses the bundle (2), else of ``verify-deduction``."""

    id: str
    make: Callable[[Shop], tuple[LogInstance, Bundle]]
    code: int
    check: str
    detail: str


DOCTORED_KINDS = [
    DoctoredKind(
        "bundle-entry-not-its-proof",
        entry_not_its_proof,
        1,
        "inclusion",
        "is not proven in the tree of size",
    ),
    DoctoredKind("bundle-from-a-fork", from_a_fork, 1, "synced", "same size and different roots"),
    DoctoredKind("bundle-at-another-size", at_another_size, 2, "", "not the synced size"),
    DoctoredKind(
        "bundle-for-another-member",
        for_another_member,
        1,
        "period entry",
        "the bundle is not for this member and period",
    ),
]


@pytest.mark.parametrize("kind", DOCTORED_KINDS, ids=lambda k: k.id)
def test_verify_deduction_catches_a_doctored_bundle(
    kind: DoctoredKind,
    shop: Shop,
    servers: Servers,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    log, bundle = kind.make(shop)
    site = bundle_site(
        log.export(tmp_path / "export"), tmp_path / "site", {"api/v1/bundles/deduction": bundle}
    )
    served = servers.static(site)
    try:
        assert mutualog("trust", ORIGIN, shop.demo.instance.vkey).code == 0
        out = tmp_path / "bundle.json"
        args = ("--member", shop.member, "--period", shop.period)
        fetched = mutualog("fetch", "deduction", served.url, *args, "--sample", 0, "-o", out)
    finally:
        servers.stop(served)
    if kind.code == 2:
        assert fetched.code == 2 and kind.detail in fetched.err, fetched.err
        assert not out.exists()
        return
    assert fetched.code == 0, fetched.err
    request.getfixturevalue("offline")
    result = mutualog("verify-deduction", *args, "--bundle", out, "--json")
    assert result.code == 1, result.out + result.err
    failed = {c["name"]: c for c in json_report(result)["checks"] if not c["ok"]}
    assert kind.check in failed, failed
    assert kind.detail in failed[kind.check]["detail"]


def test_a_padded_roster_is_left_to_the_auditors(
    shop: Shop,
    servers: Servers,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    """``member-added-to-roster`` told carefully: the operator proves each
    member in the padded tree it committed to.  The member's own leaf is
    there, and ``roster_size`` is bound to ``sharing`` by the formula, so
    ``verify-deduction`` passes: a member cannot see who else is on the
    roster (docs/threat-model.md).  The padding lowers every share, and the
    audit names it (``period.roster``, in the rule kinds above)."""
    log, bundle = padded_roster_proven(shop)
    site = bundle_site(
        log.export(tmp_path / "export"), tmp_path / "site", {"api/v1/bundles/deduction": bundle}
    )
    served = servers.static(site)
    try:
        assert mutualog("trust", ORIGIN, shop.demo.instance.vkey).code == 0
        out = tmp_path / "bundle.json"
        args = ("--member", shop.member, "--period", shop.period)
        fetched = mutualog("fetch", "deduction", served.url, *args, "--sample", 0, "-o", out)
        assert fetched.code == 0, fetched.err
    finally:
        servers.stop(served)
    request.getfixturevalue("offline")
    result = mutualog("verify-deduction", *args, "--bundle", out, "--json")
    assert result.code == 0, result.out
    report = json_report(result)
    checks = {c["name"]: c for c in report["checks"]}
    assert (
        checks["roster"]["ok"]
        and f"of {len(padded_roster(shop.demo))}" in checks["roster"]["detail"]
    )
    snapshot = log.snapshot(tmp_path / "padded.tar")
    audited = json_report(mutualog("audit", snapshot, "--key", shop.demo.instance.vkey, "--json"))
    assert re.match(r"entry \d+: rule period\.roster: ", audited["rules"]["detail"])
