"""Benchmark the verifier page: its weight, and the time a phone takes to
check a big pool's deduction.  Run by hand; not a test.

    python -m bench.verifier                                # 1,000,000 members
    python -m bench.verifier --instance DIR --database-url sqlite:///DIR/log.db   # reuse a pool
    python -m bench.verifier --weight-only

* **Weight**: the page's bytes (:func:`server.verifier.build.page_bytes`,
  or ``--page FILE``), and gzipped at level 9 as a server would send them.
* **Time**: a pool of ``--members`` members is generated with
  ``mutualog-server generate`` (or an existing instance is reused), and the
  deduction bundle of one member of its latest closed period with three
  paid claims sampled is built by the server's own bundle builder
  (:func:`server.bundles.build_deduction_bundle`).  The page, written to a
  file and opened from it as a member's saved copy would be, is given the
  log's key (typed) and the bundle (chosen), and Debian's Chromium, with
  its CPU slowed ``--throttle`` times through the DevTools protocol
  (``Emulation.setCPUThrottlingRate``, a mid-range phone being about 4x
  slower than a desktop core), runs the check: the time is from the tap on
  "check" to the verdict, the median of ``--runs`` runs.

Targets (issue 15): under 300 KB with everything the page needs, and under
2 s for a 1,000,000-member deduction with a 3-claim sample at 4x.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.machine import machine

TARGET_BYTES = 300_000
TARGET_SECONDS = 2.0
SAMPLE = 3


def weight(page: bytes) -> None:
    packed = gzip.compress(page, compresslevel=9, mtime=0)
    print(f"page: {len(page):,} bytes, {len(packed):,} gzipped (target < {TARGET_BYTES:,})")
    print(f"sha256 {hashlib.sha256(page).hexdigest()}")


def generate(instance: Path, url: str, members: int, days: int) -> None:
    from server.cli import main

    started = time.monotonic()
    argv = ["--instance", str(instance), "--database-url", url, "generate"]
    code = main([*argv, "--members", str(members), "--days", str(days)])
    if code != 0:
        raise SystemExit(f"generate failed with exit {code}")
    print(f"generated {members:,} members in {time.monotonic() - started:.0f} s")


def deduction_bundle(instance: Path, url: str) -> tuple[bytes, str, str, date, list[str]]:
    """The bundle, the log's verifier key, the member, the period and the
    sample: the latest closed period with at least three paid claims."""
    from server.bundles import build_deduction_bundle, checkpoint_at
    from server.config import load_settings
    from server.db import make_engine
    from server.keys import load_log_signer
    from server.log_index import stored_index

    settings = load_settings({"MUTUALOG_INSTANCE": instance, "MUTUALOG_DATABASE_URL": url})
    vkey = load_log_signer(settings).verifier().to_vkey()
    engine = make_engine(url)
    try:
        held = stored_index(engine)
        size, _ = checkpoint_at(held.store, None)
        with held.lock:
            index = held.catch_up(size)
            periods = [p for p in sorted(index.closed) if len(index.paid.get(p) or ()) >= SAMPLE]
            if not periods:
                raise SystemExit("no closed period has three paid claims")
            period = periods[-1]
            sample = sorted(claim for claim, _ in index.paid[period])[:SAMPLE]
        roster = held.roster(period).ids
        member = roster[len(roster) // 2]
        started = time.monotonic()
        bundle = build_deduction_bundle(engine, size, member, period, sample).to_bytes()
        print(
            f"log of {size:,} entries; period {period}, {len(roster):,} members on its roster; "
            f"bundle {len(bundle):,} bytes, built in {time.monotonic() - started:.1f} s"
        )
    finally:
        engine.dispose()
    return bundle, vkey, member, period, sample


def time_check(page: bytes, bundle: bytes, vkey: str, throttle: float, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser.browser_helpers import CHROMIUM, CHROMIUM_ARGS

    with tempfile.TemporaryDirectory(prefix="mutualog-verifier-") as folder:
        page_file = Path(folder) / "verifier.html"
        page_file.write_bytes(page)
        bundle_file = Path(folder) / "deduction.json"
        bundle_file.write_bytes(bundle)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                seconds, verdicts = [], set()
                for _ in range(runs):
                    context = browser.new_context(viewport={"width": 390, "height": 844})
                    tab = context.new_page()
                    tab.goto(page_file.as_uri())
                    tab.locator("body[data-ready=true]").wait_for()
                    tab.locator("#typed-key").fill(vkey)
                    tab.locator("#save-key").click()
                    tab.locator("#forget").wait_for(state="visible")
                    tab.locator("#mode-file").check()
                    tab.locator("#file").set_input_files(str(bundle_file))
                    cdp = context.new_cdp_session(tab)
                    cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
                    started = time.perf_counter()
                    tab.locator("#check").click()
                    tab.locator('#verdict[data-verdict]:not([data-verdict=""])').wait_for(
                        timeout=600_000
                    )
                    seconds.append(time.perf_counter() - started)
                    verdicts.add(str(tab.locator("#verdict").get_attribute("data-verdict")))
                    context.close()
            finally:
                browser.close()
    runs_text = ", ".join(f"{s:.2f}" for s in seconds)
    print(
        f"check at {throttle:g}x CPU throttling: median {statistics.median(seconds):.2f} s "
        f"(runs: {runs_text}; target < {TARGET_SECONDS:g} s); verdict {', '.join(sorted(verdicts))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    # Long enough for the third period, the first with paid claims, to close.
    parser.add_argument("--days", type=int, default=70)
    parser.add_argument("--instance", type=Path, help="reuse (or keep) this instance")
    parser.add_argument("--database-url", help="its database (default: SQLite in the instance)")
    parser.add_argument("--page", type=Path, help="measure this built page instead")
    parser.add_argument("--throttle", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--weight-only", action="store_true")
    args = parser.parse_args()
    print("command: python -m bench.verifier " + " ".join(sys.argv[1:]))
    print(machine("at the start"))
    if args.page:
        page = args.page.read_bytes()
    else:
        from server.verifier.build import page_bytes

        page = page_bytes()
    weight(page)
    if args.weight_only:
        return
    instance = args.instance or Path(tempfile.mkdtemp(prefix="mutualog-bench-verifier-"))
    url = args.database_url or f"sqlite:///{instance / 'log.db'}"
    if not (instance / "log.db").exists() and not args.database_url:
        generate(instance, url, args.members, args.days)
    bundle, vkey, member, period, sample = deduction_bundle(instance, url)
    print(f"member {member}, period {period}, sample {' '.join(sample)}")
    time_check(page, bundle, vkey, args.throttle, args.runs)


if __name__ == "__main__":
    main()
