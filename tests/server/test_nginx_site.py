"""docs/deploy/nginx-mutualog.conf, run: nginx in front of gunicorn with
MUTUALOG_PROXIES=1, on loopback (:func:`behind_nginx`, which
test_nginx_tiles.py uses too).  Without a tile folder the read path comes
from nginx's cache;
a burst of sign-in posts from one address is cut at nginx with 429; and the
application's per-address limit sees each client's own address (members
connect from addresses of their own in 127/8, all of it loopback)."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from server.cli import main

SITE = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "nginx-mutualog.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


class Browser:
    """A client with its own source address and cookies."""

    def __init__(self, port: int, source: str) -> None:
        self.port, self.source = port, source
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(self.source, 0)
        )
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read().decode("utf-8", "replace")
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key.strip()] = rest.split(";", 1)[0]
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()

    def sign_in(self, username: str, password: str) -> int:
        page = self.send("GET", "/login").body
        token = _TOKEN.search(page)
        assert token, page[:300]
        form = {"csrf_token": token[1], "username": username, "password": password}
        return self.send("POST", "/login", form).status


def _wait(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{what} exited with {process.returncode}"
        try:
            if Browser(port, "127.0.0.1").send("GET", "/checkpoint").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} did not answer within 60 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _nginx_conf(folder: Path, upstream: int, port: int, tiles: Path) -> Path:
    site = SITE.read_text()
    for old, new in (
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("/var/cache/nginx/mutualog", str(folder / "cache")),
        ("root /var/lib/mutualog/tiles;", f"root {tiles};"),
    ):
        assert old in site, f"{SITE} no longer has {old!r}"
        site = site.replace(old, new)
    conf = folder / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "nginx-error.log"};
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {folder}; proxy_temp_path {folder}; fastcgi_temp_path {folder};
  uwsgi_temp_path {folder}; scgi_temp_path {folder};
{site}
}}
"""
    )
    return conf


@contextmanager
def behind_nginx(
    tmp_path: Path, instance: Path, settings: dict[str, str], workers: int = 2
) -> Iterator[int]:
    """The instance served by ``gunicorn -w workers`` behind nginx, with
    MUTUALOG_PROXIES=1 and ``settings``: nginx's port.  The site's tile
    folder is the instance's MUTUALOG_TILE_DIR if set, else a missing one."""
    if not Path(NGINX).exists():
        message = "nginx not found (apt-get install -y nginx)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALOG_")}
    env |= {"MUTUALOG_INSTANCE": str(instance), "MUTUALOG_PROXIES": "1", **settings}
    upstream, port = _free_port(), _free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    app = subprocess.Popen(
        [str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{upstream}", "server:create_app()"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    front = None
    try:
        _wait(upstream, app, "gunicorn")
        tiles = Path(settings.get("MUTUALOG_TILE_DIR", tmp_path / "no-tiles"))
        conf = _nginx_conf(tmp_path, upstream, port, tiles)
        command = [NGINX, "-c", str(conf), "-e", str(tmp_path / "nginx-error.log")]
        if os.geteuid() == 0:
            command += ["-g", "user root;"]
        front = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(port, front, "nginx")
        yield port
    finally:
        if front is not None:
            _stop(front)
        _stop(app)


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[int]:
    """An initialised instance served by gunicorn behind nginx: nginx's port."""
    instance = tmp_path / "instance"
    assert main(["--instance", str(instance), "init", "--origin", "example.org/nginx"]) == 0
    settings = {"MUTUALOG_SECURE_COOKIES": "false", "MUTUALOG_LOGIN_PER_ADDRESS": "2"}
    with behind_nginx(tmp_path, instance, settings) as port:
        yield port


def test_the_read_path_comes_from_nginxs_cache(proxied: int) -> None:
    reader = Browser(proxied, "127.0.0.9")
    first = reader.send("GET", "/checkpoint")
    again = reader.send("GET", "/checkpoint")
    assert first.status == again.status == 200
    assert first.body == again.body and first.body.startswith("example.org/nginx\n0\n")
    assert again.headers.get("x-cache-status") == "HIT", again.headers


def test_a_burst_of_sign_ins_from_one_address_is_cut_at_nginx(proxied: int) -> None:
    flood = Browser(proxied, "127.0.1.1")
    statuses = [flood.send("POST", "/login", {"username": "x"}).status for _ in range(40)]
    # The burst allowance reaches the application (which refuses a post
    # without its CSRF token, 400); the rest nginx answers itself.
    assert statuses.count(429) >= 10, statuses
    assert set(statuses) <= {400, 429}, statuses
    # Another address is not held to it.
    assert Browser(proxied, "127.0.2.1").send("GET", "/login").status == 200


def test_the_application_counts_each_clients_own_address(proxied: int) -> None:
    guesser, member = Browser(proxied, "127.0.3.1"), Browser(proxied, "127.0.3.2")
    statuses = [guesser.sign_in(f"nobody{n}", "wrong guess") for n in range(3)]
    assert statuses == [400, 400, 429]  # MUTUALOG_LOGIN_PER_ADDRESS=2, from this address
    # Behind the same nginx, another member's sign-in is not refused for it.
    assert member.sign_in("nobody9", "wrong guess") == 400
