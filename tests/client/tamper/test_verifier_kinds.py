"""The tamper suite: a verifier page other than the one the log publishes.

The honest demo publishes its page's hash when it is set up
(``verifier.published``).  A dishonest server serves the honest log and
another page at ``/verifier`` (a static web server over the exported log,
with the page as the file ``verifier``); ``mutualog audit URL`` fails
``verifier page`` while every log-level check and the rules pass.  A saved
copy is checked the same way, offline, with ``audit SNAPSHOT --page FILE``.
The re-signed logs whose publication breaks a rule are rule kinds
(``test_rule_kinds.py``: ``verifier.hash``, ``verifier.unchanged``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from server.verifier.build import page_bytes
from tests.client.harness import Mutualog, Servers
from tests.client.tamper.honest import Demo, json_report


def doctored(page: bytes) -> bytes:
    """The page with a script of the operator's that says VERIFIED whatever
    the checks find: what a doctored page would do."""
    script = b"<script>document.title = 'VERIFIED';</script>"
    out = page.replace(b"</body>", script + b"</body>", 1)
    assert out != page
    return out


def withheld(page: bytes) -> None:
    """No page at all where the log publishes one."""
    return None


@dataclass(frozen=True)
class PageKind:
    """A server that serves the honest log and ``serve(page)`` at /verifier
    (``None``: nothing); ``audit`` fails ``verifier page`` with ``detail``."""

    id: str
    serve: Callable[[bytes], bytes | None]
    detail: str


PAGE_KINDS = [
    PageKind("verifier-page-doctored", doctored, "not to the page's hash published in entry"),
    PageKind("verifier-page-withheld", withheld, "but there is no page at"),
]


def _audit_site(
    demo: Demo, page: bytes | None, servers: Servers, tmp_path: Path, mutualog: Mutualog
) -> tuple[int, dict[str, Any]]:
    site = tmp_path / "site"
    shutil.copytree(demo.instance.export(tmp_path / "export"), site)
    if page is not None:
        (site / "verifier").write_bytes(page)
    served = servers.static(site)
    try:
        result = mutualog("audit", served.url, "--key", demo.instance.vkey, "--json")
    finally:
        servers.stop(served)
    return result.code, json_report(result)


def test_the_honest_page_beside_the_honest_log_passes(
    demo: Demo, servers: Servers, tmp_path: Path, mutualog: Mutualog
) -> None:
    code, report = _audit_site(demo, page_bytes(), servers, tmp_path, mutualog)
    assert code == 0 and report["verified"], report
    assert report["verifier_page"]["status"] == "ok"
    assert "the page's hash published in entry" in report["verifier_page"]["detail"]


@pytest.mark.parametrize("kind", PAGE_KINDS, ids=lambda k: k.id)
def test_audit_catches_a_page_the_log_does_not_publish(
    kind: PageKind, demo: Demo, servers: Servers, tmp_path: Path, mutualog: Mutualog
) -> None:
    code, report = _audit_site(demo, kind.serve(page_bytes()), servers, tmp_path, mutualog)
    assert code == 1 and not report["verified"]
    # The log is the honest one: only the page can tell.
    assert all(c["ok"] for c in report["checks"]), report["checks"]
    assert report["rules"]["status"] == "ok"
    page = report["verifier_page"]
    assert (page["name"], page["status"]) == ("verifier page", "FAIL")
    assert kind.detail in page["detail"]


def test_a_saved_copy_is_checked_against_a_snapshot_offline(
    demo: Demo, tmp_path: Path, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    snapshot = demo.instance.snapshot(tmp_path / "demo.tar")
    honest, forged = tmp_path / "verifier.html", tmp_path / "doctored.html"
    honest.write_bytes(page_bytes())
    forged.write_bytes(doctored(page_bytes()))
    request.getfixturevalue("offline")
    key = demo.instance.vkey
    ok = mutualog("audit", snapshot, "--key", key, "--page", honest)
    assert ok.code == 0, ok.out
    assert f"[ok  ] verifier page: the page at {honest} hashes to " in ok.out
    bad = json_report(mutualog("audit", snapshot, "--key", key, "--page", forged, "--json"))
    assert not bad["verified"] and bad["verifier_page"]["status"] == "FAIL"
    assert bad["verifier_page"]["detail"].startswith(f"the page at {forged} hashes to ")
