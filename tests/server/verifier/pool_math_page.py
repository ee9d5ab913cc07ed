"""Runs the pool math's cases in the page: ``pool_math_runner.js`` is a
function of a batch of cases that imports the modules it needs from the
loopback server of :mod:`verifier_harness`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["run_pool_math"]

RUNNER = Path(__file__).with_name("pool_math_runner.js")


def run_pool_math(page: Page, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each case's ``{verdict, value}`` from the JavaScript modules, in order."""
    source = RUNNER.read_text(encoding="utf-8")
    bare = [{k: v for k, v in c.items() if k != "mutation"} for c in cases]
    out: list[dict[str, Any]] = []
    for start in range(0, len(bare), 500):
        out.extend(page.evaluate(source, bare[start : start + 500]))
    return out
