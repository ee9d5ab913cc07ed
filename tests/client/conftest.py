"""Fixtures for the client's tests.

``offline`` makes any attempt to open a socket fail the test, so a command
that claims to work offline really does.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


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
