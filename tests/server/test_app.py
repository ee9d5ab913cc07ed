"""The application factory: settings from config and environment, no app at
import, the one JSON error handler, and the production command (gunicorn)."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.exceptions import InternalServerError

from server import create_app
from server.cli import main
from server.config import ConfigError, load_settings
from server.keys import create_key_file
from server.storage import NotInLogError
from verifiable.errors import MalformedError, MutualogError

ENV = ("MUTUALOG_INSTANCE", "MUTUALOG_DATABASE_URL", "MUTUALOG_ORIGIN", "MUTUALOG_KEY_FILE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def dispose(app: Flask) -> None:
    app.extensions["mutualog"].engine.dispose()


def test_defaults_need_nothing(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.instance == tmp_path / "instance"
    assert settings.database_url == f"sqlite:///{tmp_path / 'instance' / 'mutualog.db'}"
    assert settings.key_file == tmp_path / "instance" / "log.key"
    assert settings.origin is None
    with pytest.raises(ConfigError, match="no origin: set MUTUALOG_ORIGIN"):
        settings.require_origin()


def test_environment_then_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MUTUALOG_INSTANCE", "relative/inst")
    monkeypatch.setenv("MUTUALOG_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("MUTUALOG_ORIGIN", "example.org/from-env")
    monkeypatch.setenv("MUTUALOG_KEY_FILE", "keys/log.key")
    settings = load_settings()
    # Paths are resolved once, against the directory the server started in.
    assert settings.instance == tmp_path / "relative" / "inst"
    assert settings.key_file == tmp_path / "keys" / "log.key"
    assert settings.database_url == "sqlite:///elsewhere.db"
    assert settings.origin == "example.org/from-env"
    overridden = load_settings(
        {"MUTUALOG_INSTANCE": tmp_path / "cfg", "MUTUALOG_ORIGIN": "example.org/from-config"}
    )
    assert overridden.instance == tmp_path / "cfg"
    assert overridden.origin == "example.org/from-config"
    assert overridden.database_url == "sqlite:///elsewhere.db"
    # An empty variable counts as unset.
    monkeypatch.setenv("MUTUALOG_DATABASE_URL", "")
    monkeypatch.setenv("MUTUALOG_ORIGIN", "")
    empty = load_settings()
    assert empty.database_url.endswith("relative/inst/mutualog.db")
    assert empty.origin is None


def test_create_app_uses_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MUTUALOG_INSTANCE", str(tmp_path / "env-instance"))
    app = create_app({"TESTING": True, "MUTUALOG_ORIGIN": "example.org/x"})
    context = app.extensions["mutualog"]
    assert context.settings.instance == tmp_path / "env-instance"
    assert context.settings.origin == "example.org/x"
    assert app.instance_path == str(tmp_path / "env-instance")
    assert app.config["TESTING"] is True
    assert str(context.engine.url) == f"sqlite:///{tmp_path / 'env-instance' / 'mutualog.db'}"
    # Nothing is served from disk but the web pages' stylesheet folder, and
    # every route belongs to a blueprint (test_authorization has a row for each).
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {e.split(".")[0] for e in endpoints} <= {
        "tiles",
        "api",
        "pool_api",
        "bundle_api",
        "signin",
        "member",
        "notices",
        "juror",
        "operator",
        "public",
        "verifier",
    }
    assert {e for e in endpoints if e.endswith(".static")} == {"signin.static"}
    # Creating an app touches no file.
    assert not (tmp_path / "env-instance").exists()
    dispose(app)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"MUTUALOG_ORIGIN": "has space"}, "MUTUALOG_ORIGIN"),
        ({"MUTUALOG_ORIGIN": "a+b"}, "MUTUALOG_ORIGIN"),
        ({"MUTUALOG_ORIGIN": "line\nbreak"}, "MUTUALOG_ORIGIN"),
        ({"MUTUALOG_INSTANCE": 5}, "expected a string or path"),
        ({"MUTUALOG_DATABASE_URL": "mysql://db"}, "not supported"),
    ],
    ids=["space", "plus", "newline", "not-a-path", "unsupported-database"],
)
def test_bad_settings_are_refused(config: dict[str, object], message: str) -> None:
    with pytest.raises(MutualogError, match=message):
        create_app(config)


def test_no_application_is_built_at_import() -> None:
    for name in (
        "server",
        "server.app",
        "server.context",
        "server.views.api",
        "server.views.tiles",
    ):
        module = importlib.import_module(name)
        assert not any(isinstance(value, Flask) for value in vars(module).values()), name


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app({"MUTUALOG_INSTANCE": tmp_path / "instance", "TESTING": True})

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail: /etc/shadow")

    @app.get("/past-the-log")
    def past_the_log() -> str:
        raise NotInLogError("tree size 9 is beyond the log's size 3")

    @app.get("/malformed")
    def malformed() -> str:
        raise MalformedError("proof: index 5 is not below size 5")

    @app.get("/http-500")
    def http_500() -> str:
        raise InternalServerError("secret internal description")

    yield app
    dispose(app)


def test_unknown_paths_and_methods_are_json(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    response = client.post("/api/v1/log")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


def test_errors_of_the_layers_below_map_to_4xx(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/past-the-log")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "not_found",
        "message": "tree size 9 is beyond the log's size 3",
    }
    response = client.get("/malformed")
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_parameter"


def test_unexpected_errors_are_a_bare_json_500_and_logged(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    for path in ("/boom", "/http-500"):
        with caplog.at_level(logging.ERROR):
            response = client.get(path)
        assert response.status_code == 500
        assert response.get_json() == {
            "error": "internal_error",
            "message": "internal server error",
        }
        assert b"secret" not in response.data
    assert "secret detail" in caplog.text


def test_a_key_for_another_origin_makes_the_log_unavailable(tmp_path: Path) -> None:
    create_key_file(tmp_path / "log.key", "example.org/the-key", bytes(32))
    app = create_app({"MUTUALOG_INSTANCE": tmp_path, "MUTUALOG_ORIGIN": "example.org/configured"})
    response = app.test_client().get("/api/v1/log")
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"
    assert "PRIVATE" not in response.get_data(as_text=True)
    dispose(app)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.slow
def test_gunicorn_serves_the_documented_command(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = {**os.environ, "MUTUALOG_INSTANCE": str(instance)}
    assert main(["--instance", str(instance), "init", "--origin", "example.org/gunicorn"]) == 0
    port = _free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "server:create_app()"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        body = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/checkpoint", timeout=10) as r:
                    body = r.read()
                    break
            # Not up yet: refused, reset, or (a worker still starting on a
            # loaded machine) a read that timed out, which urllib does not wrap.
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        assert body.startswith(b"example.org/gunicorn\n0\n")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/log", timeout=30) as r:
            assert b'"size":0' in r.read()
    finally:
        _stop(process)
        assert process.stderr is not None
        process.stderr.close()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.mark.slow
def test_gunicorn_preload_forks_workers_that_share_no_connection(
    tmp_path: Path, database_url: str
) -> None:
    # With --preload the application (and its engine, which the migrations
    # have used) is built once and forked: each worker must forget the
    # parent's pooled connections, or two workers' queries interleave on one
    # socket.  Many reads at once, over several workers, each answer right.
    instance = tmp_path / "instance"
    base = ["--instance", str(instance), "--database-url", database_url]
    assert main([*base, "init", "--origin", "example.org/preload"]) == 0
    lines = tmp_path / "entries.jsonl"
    lines.write_text(
        "".join(
            f'{{"type":"member.joined","body":{{"member":"{i:032x}","age_band":"18-39"}}}}\n'
            for i in range(40)
        )
    )
    assert main([*base, "append", str(lines)]) == 0
    env = {
        **os.environ,
        "MUTUALOG_INSTANCE": str(instance),
        "MUTUALOG_DATABASE_URL": database_url,
    }
    port = _free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "--preload", "-w", "3", "-b", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        [*command, "server:create_app()"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _get(url + "/checkpoint")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        paths = [f"/api/v1/proof/inclusion?index={i % 40}&size=40" for i in range(120)] + [
            f"/api/v1/entries/{i % 40}" for i in range(120)
        ]
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(lambda p: _get(url + p), paths))
        assert [status for status, _ in answers] == [200] * len(paths)
        for path, (_, body) in zip(paths[:120], answers[:120], strict=True):
            assert b'"leaf_index"' in body or b'"index"' in body, (path, body[:200])
    finally:
        _stop(process)
