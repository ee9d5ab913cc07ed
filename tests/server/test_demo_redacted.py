"""The demo's jurors are served nothing that identifies a claimant.

The demo's documents as filed name the patient (name, ID number, phone in
the text, the document information, a JPEG comment).  Its noticed claims
carry redacted copies; the demo's juror, signed in, reads the case page of
the claim they were drawn for and every URL it links to under ``/juror``
(the page images inline and as downloads), and every byte of it is
scanned for the claimant's identifiers by the private-data guard's
matcher: no hit.  The same scan over the original documents finds them —
the positive control that makes the first scan mean something.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.pool_app import current_pool
from server.private.evidence import evidence_content
from server.private.members import member_details
from server.private.redacted import list_redacted, redacted_pages
from server.private_guard import PrivateIdentity, find_private
from server.redaction import RedactionError, scan_bytes
from tests.server.demo_helpers import DemoBuild, clear_environment, demo_app, shared_demo
from verifiable.log.bodies import ClaimNoticed
from verifiable.pool.redacted import verify_redacted
from verifiable.pool.state import Stage

_JUROR = re.compile(r"username juror +password (\S+) +\(drawn to vote on claim ([0-9a-f]{32})")
_LINK = re.compile(r'(?:src|href)="(/juror/[^"]+)"')


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    return shared_demo(tmp_path_factory)


@pytest.fixture
def app(demo: DemoBuild) -> Iterator[Flask]:
    with demo_app(demo) as app:
        yield app


def _claimant(app: Flask, claim_id: str) -> PrivateIdentity:
    with app.app_context():
        view = current_pool().claim(claim_id)
        assert view is not None
        details = member_details(current_pool().engine, view.member)
    assert details is not None
    return PrivateIdentity(details.name, details.id_number, details.phone)


def _juror(app: Flask, demo: DemoBuild) -> tuple[FlaskClient, str]:
    found = _JUROR.search(demo.stdout)
    assert found, demo.stdout
    password, claim = found.groups()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    data = {"csrf_token": token.group(1), "username": "juror", "password": password}
    assert client.post("/login", data=data).status_code == 302
    return client, claim


def _served(client: FlaskClient, claim: str) -> dict[str, bytes]:
    """The case page and everything under /juror it links to, by URL."""
    served: dict[str, bytes] = {}
    todo = [f"/juror/claims/{claim}"]
    while todo:
        url = todo.pop().replace("&amp;", "&")
        if url in served:
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        served[url] = response.data
        if response.mimetype == "text/html":
            todo += _LINK.findall(response.get_data(as_text=True))
    return served


def test_every_byte_served_to_the_juror_is_free_of_the_claimants_identifiers(
    app: Flask, demo: DemoBuild
) -> None:
    client, claim = _juror(app, demo)
    who = [_claimant(app, claim)]
    served = _served(client, claim)
    images = [url for url in served if url.endswith(".png") or ".png?" in url]
    assert len(images) >= 2 and any("download=1" in url for url in images)
    for url, data in served.items():
        scan_bytes(data, who)  # raises on a hit
        if not url.endswith(".png") and ".png?" not in url:
            assert find_private(data.decode("utf-8"), who, shapes=False) is None, url
    # The files as filed are not a juror's to read, by any route.
    with app.app_context():
        view = current_pool().claim(claim)
        assert view is not None and view.stage is Stage.VOTING
        count = view.evidence
    for n in range(1, count + 1):
        assert client.get(f"/juror/claims/{claim}/evidence/{n}").status_code == 404
        assert client.get(f"/claims/{claim}/evidence/{n}").status_code == 404
        assert client.get(f"/operator/claims/{claim}/evidence/{n}").status_code == 403


def test_the_same_scan_finds_the_identifiers_in_the_originals(app: Flask, demo: DemoBuild) -> None:
    _, claim = _juror(app, demo)
    who = [_claimant(app, claim)]
    with app.app_context():
        engine = current_pool().engine
        view = current_pool().claim(claim)
        assert view is not None
        for position in range(view.evidence):
            stored = evidence_content(engine, claim, position)
            assert stored is not None
            with pytest.raises(RedactionError) as found:
                scan_bytes(stored.content, who)
            assert found.value.found is not None


def test_every_noticed_claim_commits_to_its_redacted_copies(app: Flask, demo: DemoBuild) -> None:
    with app.app_context():
        pool = current_pool()
        noticed = [c for c in pool.state().claims() if c.notice_amount]
        assert noticed
        for view in noticed:
            body = pool.notice(view.id)
            assert isinstance(body, ClaimNoticed) and body.redacted is not None
            assert len(body.redacted) == view.evidence
            copies = list_redacted(pool.engine, view.id)
            for position, commitment in enumerate(body.redacted):
                assert copies[position].commitment == commitment
                opened = redacted_pages(pool.engine, view.id, position)
                if opened is not None:  # erased with the evidence otherwise
                    verify_redacted(commitment, opened.salt, opened.pages)
