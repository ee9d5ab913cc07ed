"""The demo (``mutualog-server demo --no-serve``) built for the tests: built
once per session and shared by the demo's, its privacy's, the public
figures' and the public pages' tests, which only read it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from server import create_app
from server.cli import cli
from server.db import make_engine
from server.storage import LogStore

__all__ = [
    "MEMBERS",
    "DemoBuild",
    "build_demo",
    "clear_environment",
    "demo_app",
    "shared_demo",
]

#: Founding members of the tests' demo: small, and still every case appears.
MEMBERS = 500


@dataclass
class DemoBuild:
    instance: Path
    stdout: str
    stderr: str

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.instance / 'mutualog.db'}"

    def entries(self) -> list[bytes]:
        engine = make_engine(self.database_url)
        try:
            store = LogStore(engine)
            return store.entries(0, store.size())
        finally:
            engine.dispose()


def build_demo(instance: Path, members: int = MEMBERS) -> DemoBuild:
    """Build the demo with the command line into ``instance``."""
    args = ["--instance", str(instance), "demo", "--members", str(members), "--no-serve"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return DemoBuild(instance, result.stdout, result.stderr)


_built: list[DemoBuild] = []


def shared_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """The session's demo of :data:`MEMBERS` members, built the first time."""
    if not _built:
        _built.append(build_demo(tmp_path_factory.mktemp("demo") / "demo"))
    return _built[0]


@contextmanager
def demo_app(demo: DemoBuild) -> Iterator[Flask]:
    """The server's application over the demo's instance, for tests."""
    app = create_app({"MUTUALOG_INSTANCE": demo.instance, "TESTING": True})
    try:
        yield app
    finally:
        app.extensions["mutualog"].engine.dispose()


def clear_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No instance settings from the environment: the tests' own apply."""
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES", "MUTUALOG_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
