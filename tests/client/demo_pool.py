"""The demo pool (``mutualog-server demo --no-serve``) served on 127.0.0.1,
for the end-to-end tests of ``fetch``, ``verify-deduction`` and
``verify-claim``.  Built once per session."""

from __future__ import annotations

import contextlib
import io
import json
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tests.client.harness import LogInstance, Served, Servers
from tests.client.tampering import roster_ids
from verifiable.log.entry import Entry, parse_entry
from verifiable.pool.log_index import LogIndex
from verifiable.pool.rules import moment

__all__ = ["DemoPool", "demo_pool"]

DEMO_MEMBERS = 200


@dataclass
class DemoPool:
    log: LogInstance
    served: Served
    index: LogIndex
    decoded: list[Entry]

    @property
    def url(self) -> str:
        return self.served.url

    def period(self) -> date:
        """The closed period with the most paid claims."""
        return max(self.index.closed, key=lambda p: len(self.index.paid.get(p, [])))

    def member(self, period: date) -> str:
        """A member on the period's roster."""
        return roster_ids(self.decoded, moment(period))[0]

    def paid_claim(self) -> str:
        return self.index.paid[self.period()][0][0]


_built: list[DemoPool] = []


def demo_pool(folder: Path, servers: Servers) -> DemoPool:
    """The demo pool, built in ``folder`` and served the first time."""
    if _built:
        return _built[0]
    from server.cli import main
    from server.db import make_engine
    from server.storage import LogStore

    instance = folder / "demo"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            ["--instance", str(instance), "demo", "--no-serve", "--members", str(DEMO_MEMBERS)]
        )
    assert code == 0
    engine = make_engine(f"sqlite:///{instance / 'mutualog.db'}")
    store = LogStore(engine)
    entries = store.entries(0, store.size())
    engine.dispose()
    decoded = [parse_entry(data, seq=n) for n, data in enumerate(entries)]
    index = LogIndex()
    for e in decoded:
        index.feed(e)
    log = LogInstance(instance, "", "localhost/mutualog/demo")
    served = servers.serve(log)
    with urllib.request.urlopen(served.url + "api/v1/log", timeout=10) as response:
        log.vkey = json.load(response)["verifier_key"]
    _built.append(DemoPool(log, served, index, decoded))
    return _built[0]
