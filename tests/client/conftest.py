"""Fixtures for the client's tests.

``offline`` makes any attempt to open a socket fail the test, so a command
that claims to work offline really does.

``state`` (autouse) points ``MUTUALOG_STATE`` at a fresh folder, so no test
reads or writes the real user's state folder; ``english`` (autouse) sets
``LANG=C``, so the human output is the English the tests expect.

``make_log`` creates real log server instances with ``mutualog-server``
(:class:`tests.client.harness.LogInstance`); ``servers`` starts and stops
``mutualog-server serve`` and ``python -m http.server`` (:class:`Servers`).
``served_log`` is one pool's log of 600 entries (its rulebook, then
joins), served for the whole session, for tests that only read.
``mutualog`` runs the client in this process.

Only fixtures live here: a test that needs one of the classes they hand out
imports it from :mod:`tests.client.harness`, never from this file.  A
conftest is pytest's to load; helpers kept in plain modules are found and
imported like any other code.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.harness import (
    ORIGIN,
    SERVED_SIZE,
    LogInstance,
    MakeLog,
    Mutualog,
    Result,
    Served,
    Servers,
    server_main,
)


class NetworkUsedError(AssertionError):
    pass


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: object, **kwargs: object) -> None:
        raise NetworkUsedError("the client opened a socket in an offline command")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client's human output in English, whatever the machine's locale:
    the tests pin its English wording (tests/client/test_i18n.py sets the
    language it wants)."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C")


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("MUTUALOG_STATE", str(folder))
    return folder


# --- log instances ----------------------------------------------------------------


@pytest.fixture(scope="session")
def make_log(tmp_path_factory: pytest.TempPathFactory) -> MakeLog:
    """``make_log(size=0, origin=ORIGIN, same_key_as=None, restore=None)``:
    a new instance holding a pool's log of ``size`` entries, its rulebook
    then ``size - 1`` joins; with ``same_key_as`` it signs with that
    instance's key, and with ``restore`` it starts from that snapshot (which
    needs the key)."""

    def make(
        size: int = 0,
        *,
        origin: str = ORIGIN,
        same_key_as: LogInstance | None = None,
        restore: Path | None = None,
    ) -> LogInstance:
        folder = tmp_path_factory.mktemp("instance")
        if same_key_as is not None:
            shutil.copy2(same_key_as.folder / "log.key", folder / "log.key")
            log = LogInstance(folder, same_key_as.vkey, same_key_as.origin)
            assert restore is not None, "an instance with a copied key starts from a snapshot"
            log.server("restore", str(restore))
        else:
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                code = server_main(["--instance", str(folder), "init", "--origin", origin])
            assert code == 0
            log = LogInstance(folder, out.getvalue().strip(), origin)
        if size:
            log.begin_pool()
            if size > 1:
                log.append(size - 1)
        return log

    return make


# --- servers ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    running = Servers(tmp_path_factory.mktemp("servers"))
    try:
        yield running
    finally:
        for served in list(running.running):
            running.stop(served)


@pytest.fixture(scope="session")
def served_log(make_log: MakeLog, servers: Servers) -> tuple[LogInstance, Served]:
    """A log of 600 entries (two full level-0 tiles and a partial one),
    served for the session; tests must not change it."""
    log = make_log(SERVED_SIZE)
    return log, servers.serve(log)


# --- running the client -------------------------------------------------------------


@pytest.fixture
def mutualog(capsys: pytest.CaptureFixture[str]) -> Mutualog:
    """``mutualog(*argv)``: run the client in this process; its exit code and
    output.  No run may end in a traceback."""
    from client.cli import main

    capsys.readouterr()

    def run(*argv: str | Path) -> Result:
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Result(code, captured.out, captured.err)

    return run
