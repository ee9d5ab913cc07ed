"""The read path as deployed: nginx in front of gunicorn (several workers)
with docs/deploy/nginx-mutualog.conf, serving the checkpoint, tiles and
entry bundles from the folder the sequencer keeps (MUTUALOG_TILE_DIR).
Members join through it (appends by the gunicorn workers) while writers
in other processes append; a client then syncs and audits through nginx, and
every file nginx serves, once the workers' publishers have caught up, has
the bytes and headers the application gives."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest

from client.cli import main as client_main
from server import create_app
from server.cli import main
from server.db import make_engine
from server.snapshot import snapshot_order
from server.storage import LogStore
from tests.client.harness import LogInstance, member_lines
from tests.server.identities import id_number, mobile
from tests.server.test_nginx_site import _TOKEN, Answer, Browser, behind_nginx
from tests.server.test_tilefiles import wait_for_checkpoint
from tests.server.tile_dir_check import check_tile_dir

pytestmark = pytest.mark.slow

ORIGIN = "example.org/nginx-tiles"
JOINS = 6


def _get(port: int, path: str, gzip: bool = False) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip" if gzip else "identity"})
        response = conn.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        conn.close()


def _post(browser: Browser, path: str, form: dict[str, str]) -> Answer:
    """Post the form at ``path`` with the page's CSRF token, again while the
    server holds the request back (429, 503: its hashing slots are busy)."""
    for _ in range(30):
        token = _TOKEN.search(browser.send("GET", path).body)
        assert token, f"no CSRF token on {path}"
        answer = browser.send("POST", path, {"csrf_token": token[1], **form})
        if answer.status not in (429, 503):
            return answer
        time.sleep(float(answer.headers.get("retry-after", "1")))
    raise AssertionError(f"{path}: held back 30 times")


def _join(port: int, n: int) -> int:
    """Register, sign in and join as member ``n`` through nginx; the status
    of the page the join leads to."""
    browser = Browser(port, f"127.0.5.{n + 1}")
    username, password = f"joiner{n}", "correct horse battery staple"
    account = {"username": username, "password": password}
    answer = _post(browser, "/register", account | {"confirm": password})
    assert answer.status == 302, answer.body[:300]
    answer = _post(browser, "/login", account)
    assert answer.status == 302, answer.body[:300]
    details = {"name": f"Joiner {n}", "id_number": id_number("nginx", n), "phone": mobile(n)}
    answer = _post(browser, "/join", details)
    assert answer.status == 302, answer.body[:300]
    return browser.send("GET", answer.headers["location"]).status


def _client(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    code = client_main(list(argv))
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def _write_at_once(tmp_path: Path, instance: Path, port: int) -> int:
    """Writers in several processes at once, each publishing after its
    commits, while members join through nginx, each its own address, three
    at a time (appends by the gunicorn workers, each worker's publisher
    thread publishing after its commits); the log's size after them."""
    server = Path(sys.executable).parent / "mutualog-server"
    batches = []
    for n in range(3):
        path = tmp_path / f"batch-{n}.jsonl"
        path.write_bytes(member_lines(f"writer-{n}", 300 + 7 * n))
        batches.append(path)
    writers = [
        subprocess.Popen(
            [str(server), "--instance", str(instance), "append", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for path in batches
    ]
    try:
        joined = list(ThreadPoolExecutor(3).map(partial(_join, port), range(JOINS)))
    finally:
        for writer in writers:
            _, err = writer.communicate(timeout=300)
            assert writer.returncode == 0, err
    assert joined == [200] * JOINS, joined
    return 1 + 300 + 307 + 314 + JOINS


def _files_are_the_applications(
    port: int, instance: Path, tiles: Path, database_url: str, size: int
) -> None:
    """Every file nginx serves: the application's bytes and headers."""
    app = create_app(
        {
            "MUTUALOG_INSTANCE": instance,
            "MUTUALOG_DATABASE_URL": database_url,
            "MUTUALOG_TILE_DIR": tiles,
            "TESTING": True,
        }
    )
    flask = app.test_client()
    paths = ["/checkpoint", *(f"/{c.path()}" for c in snapshot_order(size))]
    paths.append("/tile/entries/000.p/1")  # a partial bundle of an older tree
    try:
        for path in paths:
            for gzip in (False, True):
                status, headers, body = _get(port, path, gzip)
                accept = {"Accept-Encoding": "gzip" if gzip else "identity"}
                ours = flask.get(path, headers=accept)
                assert (status, body) == (ours.status_code, ours.data), path
                assert "x-cache-status" not in headers, f"{path} did not come from the file"
                for name in ("Content-Type", "Cache-Control", "Content-Encoding"):
                    assert headers.get(name.lower()) == ours.headers.get(name), (path, name)
    finally:
        app.extensions["mutualog"].engine.dispose()


def _the_rest_goes_to_the_application(port: int, tiles: Path, size: int) -> None:
    """What is not a tile's file goes to the application: /checkpoint/latest,
    and the writer's own files, which no location serves."""
    status, headers, _ = _get(port, "/checkpoint/latest")
    assert status == 200 and "x-cache-status" in headers
    (tiles / "tile/0/.tmp-abc").write_bytes(b"half a tile")
    (tiles / ".tiles-size").write_text(f"{size}\n")  # true, and only written when ahead
    for hidden in ("/tile/0/.tmp-abc", "/.lock", "/.tiles-size", "/tile/entries/000.gz"):
        assert (tiles / hidden[1:]).exists(), hidden
        status, headers, body = _get(port, hidden)
        # The application's answer (404), not the file.
        assert status == 404 and body != (tiles / hidden[1:]).read_bytes(), hidden
        assert "etag" not in headers and "last-modified" not in headers, hidden


def test_a_client_syncs_and_audits_through_nginx_from_the_files(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    instance, tiles = tmp_path / "instance", tmp_path / "tiles"
    settings = {
        "MUTUALOG_DATABASE_URL": database_url,
        "MUTUALOG_TILE_DIR": str(tiles),
        "MUTUALOG_SECURE_COOKIES": "false",
        "MUTUALOG_HASH_SLOTS": "8",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MUTUALOG_STATE", str(tmp_path / "state"))
    assert main(["--instance", str(instance), "init", "--origin", ORIGIN]) == 0
    vkey = capsys.readouterr().out.strip()
    log = LogInstance(instance, vkey, ORIGIN)
    log.begin_pool()  # the pool's rulebook, by a sequencer that keeps no files
    with behind_nginx(tmp_path, instance, settings, workers=3) as port:
        size = _write_at_once(tmp_path, instance, port)
        # The workers' publishers run after the appends have answered.
        wait_for_checkpoint(tiles, size)
        url = f"http://127.0.0.1:{port}"
        _client(capsys, "trust", ORIGIN, vkey)
        _client(capsys, "sync", url)
        report = json.loads(_client(capsys, "audit", url, "--json"))
        assert report["verified"] and report["size"] == report["entries"] == size
        _files_are_the_applications(port, instance, tiles, database_url, size)
        _the_rest_goes_to_the_application(port, tiles, size)
    (tiles / "tile/0/.tmp-abc").unlink()
    (tiles / ".tiles-size").unlink()
    engine = make_engine(database_url)
    try:
        assert LogStore(engine).size() == size
        assert check_tile_dir(tiles, engine) == size
    finally:
        engine.dispose()
