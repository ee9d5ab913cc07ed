"""``mutualog verify-claim --redacted``: the claimant's download of a
redacted copy (its salt and page images) checked offline against the
commitment the claim's notice carries — and a copy with one byte of one
page changed, or shown as another document, refused (exit 1)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from server.db import make_engine
from server.private.redacted import redacted_pages
from server.private.sealing import Sealer
from tests.client.demo_pool import DemoPool, demo_pool
from tests.client.harness import Mutualog, Servers


@pytest.fixture
def demo(tmp_path_factory: pytest.TempPathFactory, servers: Servers) -> DemoPool:
    return demo_pool(tmp_path_factory.getbasetemp(), servers)


def _opening(demo: DemoPool, claim: str, number: int) -> dict[str, object]:
    """What the claimant's page gives for the copy of document ``number``."""
    instance = demo.log.folder
    engine = make_engine(f"sqlite:///{instance / 'mutualog.db'}", Sealer(instance))
    try:
        copy = redacted_pages(engine, claim, number - 1)
    finally:
        engine.dispose()
    assert copy is not None
    return {
        "claim": claim,
        "document": number,
        "commitment": copy.copy.commitment.hex(),
        "salt": copy.salt.hex(),
        "pages": [base64.b64encode(p).decode("ascii") for p in copy.pages],
    }


def test_a_redacted_copy_verifies_against_the_notice(
    demo: DemoPool, mutualog: Mutualog, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    claim = demo.paid_claim()
    assert mutualog("trust", demo.log.origin, demo.log.vkey).code == 0
    bundle = tmp_path / "claim.json"
    assert mutualog("fetch", "claim", claim, "-o", str(bundle), demo.url).code == 0
    good = _opening(demo, claim, 1)
    honest = tmp_path / "copy-1.json"
    honest.write_text(json.dumps(good))
    altered_page = dict(good)
    page = bytearray(base64.b64decode(str(good["pages"][0])))  # type: ignore[index]
    page[-20] ^= 1
    altered_page["pages"] = [base64.b64encode(bytes(page)).decode("ascii")]
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(altered_page))
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({**good, "document": 2}))
    request.getfixturevalue("offline")

    result = mutualog("verify-claim", claim, "--bundle", bundle, "--redacted", honest)
    assert result.code == 0, result.out
    assert "[ok  ] redacted copy:" in result.out
    for forged in (altered, elsewhere):
        result = mutualog("verify-claim", claim, "--bundle", bundle, "--redacted", forged)
        assert result.code == 1, result.out
        assert "[FAIL] redacted copy:" in result.out
    result = mutualog("verify-claim", claim, "--bundle", bundle, "--redacted", bundle.parent)
    assert result.code == 2
