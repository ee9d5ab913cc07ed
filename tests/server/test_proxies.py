"""The client's address behind trusted reverse proxies (server/proxies.py):
with MUTUALOG_PROXIES=1 the per-address sign-in limit counts each client's
forwarded address apart; with 0 a forged X-Forwarded-For changes nothing;
anything but 0 to 5 is refused at start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2.profiles import CHEAPEST
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from server import create_app
from server.config import ConfigError
from server.keys import create_key_file
from tests.server.test_request_limits import send

if TYPE_CHECKING:
    from tests.clock import FixedClock


def _app(engine: Engine, tmp_path: Path, clock: FixedClock, proxies: object) -> Flask:
    key = tmp_path / "instance" / "log.key"
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        create_key_file(key, "example.org/mutualog/test", bytes(32))
    return create_app(
        {
            "MUTUALOG_INSTANCE": tmp_path / "instance",
            "MUTUALOG_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "MUTUALOG_SECURE_COOKIES": False,
            "MUTUALOG_ARGON2": CHEAPEST,
            "MUTUALOG_CLOCK": clock,
            "MUTUALOG_LOGIN_PER_ADDRESS": 2,
            "MUTUALOG_PROXIES": proxies,
            "TESTING": True,
        }
    )


@pytest.fixture
def behind_one(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = _app(engine, tmp_path, clock, 1)
    yield app
    app.extensions["mutualog"].engine.dispose()


@pytest.fixture
def direct(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = _app(engine, tmp_path, clock, 0)
    yield app
    app.extensions["mutualog"].engine.dispose()


def _guess(client: FlaskClient, forwarded: str, n: int) -> TestResponse:
    """A wrong password for an unknown user, as the proxy forwards it from
    ``forwarded``."""
    client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded
    return send(client, "/login", username=f"nobody{n}", password="guess guess")


def test_behind_a_proxy_each_client_address_has_its_own_allowance(behind_one: Flask) -> None:
    first, second = behind_one.test_client(), behind_one.test_client()
    assert [_guess(first, "198.51.100.1", n).status_code for n in range(3)] == [400, 400, 429]
    # Another member behind the same proxy is not held to the first one's guesses.
    assert _guess(second, "198.51.100.2", 3).status_code == 400


def test_a_client_cannot_choose_its_address_through_the_proxys_header(behind_one: Flask) -> None:
    """The proxy appends the address it saw: a value the client sent before
    it is not the one taken."""
    client = behind_one.test_client()
    statuses = [_guess(client, f"203.0.113.{n}, 198.51.100.9", n).status_code for n in range(3)]
    assert statuses == [400, 400, 429]


def test_without_proxies_the_header_is_ignored(direct: Flask) -> None:
    client = direct.test_client()
    statuses = [_guess(client, f"198.51.100.{n}", n).status_code for n in range(3)]
    assert statuses == [400, 400, 429]


@pytest.mark.parametrize("value", ["x", "-1", "6", "1.5", True])
def test_a_bad_count_of_proxies_is_refused_at_start(
    engine: Engine, tmp_path: Path, clock: FixedClock, value: object
) -> None:
    with pytest.raises(ConfigError, match="MUTUALOG_PROXIES"):
        _app(engine, tmp_path, clock, value)
