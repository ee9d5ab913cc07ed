"""Fixtures of the tamper suite (docs/tamper-suite.md).

``demo``
    The honest demo log with the juror's round closed
    (:func:`tests.client.tamper.honest.build_demo`), built once per session.
``earlier``
    The log as a member synced it, ``SYNCED_BEHIND`` entries shorter,
    served by ``mutualog-server serve``.
``liars``
    The dishonest servers of the member kinds (:class:`~tests.client.tamper.lies.Liars`);
    each is started when first asked for and stopped when the next is.
``shop``
    What a doctored bundle is made from (:class:`~tests.client.tamper.lies.Shop`),
    with the honest log served.

They are session-scoped: every file of the suite reads the same logs and
none changes them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.client.harness import Servers
from tests.client.tamper.honest import SYNCED_BEHIND, Demo, Synced, build_demo
from tests.client.tamper.lies import Liars, Shop, tell
from tests.client.tampering import publish


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return build_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def earlier(demo: Demo, servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Synced:
    entries = demo.log.entries[: len(demo.log.entries) - SYNCED_BEHIND]
    folder = tmp_path_factory.mktemp("earlier")
    log = publish(folder / "instance", demo.log.key_file, entries, demo.log.signer)
    return Synced(log, servers.serve(log))


@pytest.fixture(scope="session")
def liars(
    demo: Demo, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Liars]:
    liars = Liars(demo, servers, tmp_path_factory.mktemp("liars"))
    try:
        yield liars
    finally:
        liars.stop()


@pytest.fixture(scope="session")
def shop(demo: Demo, servers: Servers, earlier: Synced, liars: Liars) -> Iterator[Shop]:
    honest = servers.serve(demo.instance)
    told = tell(demo, [])
    try:
        yield Shop(demo, honest, earlier, liars, told.member, told.period)
    finally:
        servers.stop(honest)
