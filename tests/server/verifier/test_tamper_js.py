"""The tamper suite's lies, caught by the verifier page's JavaScript as by the
client.

Every kind of ``tests/client/tamper`` that ``verify-deduction``,
``verify-claim`` and ``verify-receipt`` catch (``DEDUCTION_KINDS`` and
``CLAIM_KINDS`` of ``test_member_kinds.py``, ``DOCTORED_KINDS`` of
``test_doctored_bundles.py``, ``JUROR_KINDS`` of ``test_receipt_kinds.py``)
is built as those tests build it, with their builders, wired as their
conftest wires them (fixtures here, since tests import no conftest): the
dishonest server serves its bundles and the member's own ``fetch`` code
gathers them (:func:`client.bundles.fetch_deduction`, with the client's
sample), or the doctored bundle is made by the kind.  ``verify.js`` must then
give the verdict and the findings ``verifiable/`` gives, and fail the check
the tamper test names.

Two checks of the client are the page's to make, not ``verify.js``'s: that
the bundle's checkpoint is the one synced (``synced``, and ``fetch``'s
refusal of a bundle at another size) is made from the checkpoint
``verify.js`` gives back.  The juror kinds are lies in the log, not in the
receipt: the receipt's own checks pass in both, and with the claim's bundle
the forged log serves (``verify-receipt --bundle``) both fail the check that
``verify-receipt --log`` fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from client.bundles import fetch_claim, fetch_deduction
from client.fetch import HttpFetcher
from tests.client.harness import Servers
from tests.client.tamper.honest import (
    ORIGIN,
    SYNCED_BEHIND,
    Demo,
    Synced,
    build_demo,
    forge_instance,
)
from tests.client.tamper.lies import Liars, Shop, tell
from tests.client.tamper.test_doctored_bundles import DOCTORED_KINDS, DoctoredKind
from tests.client.tamper.test_member_kinds import CLAIM_KINDS, DEDUCTION_KINDS, MemberKind
from tests.client.tamper.test_receipt_bundle import served_bundle
from tests.client.tamper.test_receipt_kinds import JUROR_KINDS, JurorKind
from tests.client.tampering import publish
from tests.server.verifier.pool_cases import python_verdict, run_cases
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.fields import format_date
from verifiable.log.note import Note

if TYPE_CHECKING:
    from playwright.sync_api import Page

Kind = MemberKind | DoctoredKind | JurorKind
KINDS: list[tuple[str, Kind]] = [
    *(("deduction", k) for k in DEDUCTION_KINDS),
    *(("claim", k) for k in CLAIM_KINDS),
    *(("doctored", k) for k in DOCTORED_KINDS),
    *(("receipt", k) for k in JUROR_KINDS),
]
#: The checks of ``verify-receipt`` that read the log (``--log`` or ``--bundle``).
LOG_CHECKS = {"consistency", "reveal", "tally"}
#: What the client's deduction sample asks for (``fetch deduction --sample 64``
#: in the tamper tests).
SAMPLE = 64

_JS = """async (args) => {
  const verify = await import('/js/verify.js');
  const {toHex} = await import('/js/encoding.js');
  const r = await verify.verifyDeduction(args);
  const c = r.checkpoint;
  return c === null ? null : [String(c.size), toHex(c.rootHash)];
}"""


# --- the tamper suite's logs and servers, as its conftest wires them ----------------


@pytest.fixture(scope="module")
def tamper_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    running = Servers(tmp_path_factory.mktemp("servers"))
    try:
        yield running
    finally:
        for served in list(running.running):
            running.stop(served)


@pytest.fixture(scope="module")
def tamper_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return build_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def tamper_liars(
    tamper_demo: Demo, tamper_servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Liars]:
    liars = Liars(tamper_demo, tamper_servers, tmp_path_factory.mktemp("liars"))
    try:
        yield liars
    finally:
        liars.stop()


@pytest.fixture(scope="module")
def tamper_shop(
    tamper_demo: Demo,
    tamper_servers: Servers,
    tamper_liars: Liars,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Shop]:
    entries = tamper_demo.log.entries[: len(tamper_demo.log.entries) - SYNCED_BEHIND]
    folder = tmp_path_factory.mktemp("earlier")
    log = publish(folder / "instance", tamper_demo.log.key_file, entries, tamper_demo.log.signer)
    earlier = Synced(log, tamper_servers.serve(log))
    honest = tamper_servers.serve(tamper_demo.instance)
    told = tell(tamper_demo, [])
    try:
        yield Shop(tamper_demo, honest, earlier, tamper_liars, told.member, told.period)
    finally:
        tamper_servers.stop(honest)
        tamper_servers.stop(earlier.served)


def _size(url: str) -> int:
    return Checkpoint.from_text(Note.from_bytes(HttpFetcher(url).checkpoint()).text).size


def _failed(outcome: dict[str, Any]) -> set[str]:
    return {name for name, status in outcome["findings"] if status == "FAIL"}


def _agreed(page: Page, case: dict[str, Any]) -> dict[str, Any]:
    js = run_cases(page, [case])[0]
    py = python_verdict(case)
    assert js == py, f"JavaScript {js} but Python {py}"
    return py


def _bundle_case(fn: str, text: str, vkey: str, **args: str) -> dict[str, Any]:
    return {"fn": fn, "args": {"bundleText": text, "verifierKey": vkey, "origin": ORIGIN, **args}}


def _member(page: Page, served: Liars, kind: MemberKind, what: str) -> None:
    """A lie served by a dishonest server: fetched as the member fetches it."""
    told = served.lie(kind.lie)
    url = served.url(kind.lie)
    fetcher = HttpFetcher(url)
    vkey = served.demo.instance.vkey
    if what == "deduction":
        bundle = fetch_deduction(fetcher, _size(url), told.member, told.period, SAMPLE)
        if told.claim:
            assert told.claim in bundle.claims
        case = _bundle_case(
            "verifyDeduction",
            bundle.to_bytes().decode(),
            vkey,
            member=told.member,
            period=format_date(told.period),
        )
    else:
        bundle = fetch_claim(fetcher, _size(url), told.claim)
        case = _bundle_case("verifyClaim", bundle.to_bytes().decode(), vkey, claim=told.claim)
    outcome = _agreed(page, case)
    assert outcome["verdict"] == "FAILED"
    assert kind.check in _failed(outcome), outcome
    # Signed with the log key and proven: it is the log that lies.
    assert {"checkpoint", "inclusion"}.isdisjoint(_failed(outcome))


def _doctored(page: Page, made: Shop, kind: DoctoredKind, tmp_path: Path) -> None:
    """A bundle doctored after the fact, beside the log the member synced."""
    log, bundle = kind.make(made)
    synced = Checkpoint.from_text(
        Note.from_bytes((log.export(tmp_path / "export") / "checkpoint").read_bytes()).text
    )
    case = _bundle_case(
        "verifyDeduction",
        bundle.to_bytes().decode(),
        made.demo.instance.vkey,
        member=made.member,
        period=format_date(made.period),
    )
    outcome = _agreed(page, case)
    given = page.evaluate(_JS, case["args"])
    assert given is not None, outcome
    size, root = int(given[0]), given[1]
    if kind.code == 2:
        # The client's fetch refuses a bundle at another size; the page,
        # comparing the checkpoint verify.js gives back, does too.
        assert size != synced.size
        return
    assert size == synced.size
    failed = _failed(outcome) | ({"synced"} if root != synced.root_hash.hex() else set())
    assert kind.check in failed, (kind.check, failed)


def _receipt(page: Page, honest: Demo, kind: JurorKind, tmp_path: Path) -> None:
    """The juror's receipt is what the server handed out; the lie is in the log."""
    forged = forge_instance(honest, tmp_path, kind.forge(honest))
    receipt = json.loads(honest.receipt.read_text())
    bundle = served_bundle(forged, tmp_path / "claim.json", honest.claim, receipt["tree_size"])
    case = {
        "fn": "verifyReceipt",
        "args": {
            "receiptText": honest.receipt.read_text(),
            "verifierKey": honest.instance.vkey,
            "origin": "",
        },
    }
    outcome = _agreed(page, case)
    assert outcome["verdict"] == "VERIFIED"
    assert [name for name, _ in outcome["findings"]] == [
        "checkpoint",
        "sealed entry",
        "inclusion",
        "commitment",
    ]
    assert kind.check in LOG_CHECKS
    case["args"]["bundleText"] = bundle.read_text()
    outcome = _agreed(page, case)
    assert outcome["verdict"] == "FAILED"
    assert kind.check in _failed(outcome), outcome
    assert {"checkpoint", "inclusion", "commitment", "log checkpoint"}.isdisjoint(_failed(outcome))


def test_every_kind_is_covered() -> None:
    counts = (len(DEDUCTION_KINDS), len(CLAIM_KINDS), len(DOCTORED_KINDS), len(JUROR_KINDS))
    assert len(KINDS) == sum(counts) >= 31, counts
    assert len({k.id for _, k in KINDS}) == len(KINDS)


@pytest.mark.slow
@pytest.mark.parametrize(("what", "kind"), KINDS, ids=[f"{w}-{k.id}" for w, k in KINDS])
def test_the_page_catches_what_the_client_catches(
    what: str,
    kind: Kind,
    verifier_page: Page,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    if isinstance(kind, MemberKind):
        _member(verifier_page, request.getfixturevalue("tamper_liars"), kind, what)
    elif isinstance(kind, DoctoredKind):
        _doctored(verifier_page, request.getfixturevalue("tamper_shop"), kind, tmp_path)
    else:
        _receipt(verifier_page, request.getfixturevalue("tamper_demo"), kind, tmp_path)
