"""Schemathesis over the whole OpenAPI document, against the application.

Every operation of ``/api/v1/openapi.json`` gets requests generated from
its parameters' schemas — the same declarations that validate them
(:mod:`server.views.params`) — sent in-process (WSGI) to a demo pool's
application; every answer must be no server error, a status code the
document lists, the content type it names and a body its response schema
accepts.  The examples are bounded so the run stays short; Hypothesis's
database is off, so a run does not depend on the runs before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.openapi import openapi_document
from tests.server.demo_helpers import DemoBuild, demo_app, shared_demo

MAX_EXAMPLES = 40


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES", "MUTUALOG_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    return shared_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def app(demo: DemoBuild) -> Iterator[Flask]:
    with demo_app(demo) as app:
        yield app


@pytest.fixture(scope="module")
def api_schema(app: Flask) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


OPERATIONS = [
    (path, method)
    for path, operations in openapi_document()["paths"].items()
    for method in operations
]
# In-process, nothing undoes a Content-Encoding as an HTTP client would:
# the answers are asked for uncompressed.
IDENTITY = {"Accept-Encoding": "identity"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[p for p, _ in OPERATIONS])
def test_every_operation_answers_as_the_document_says(
    api_schema: schemathesis.BaseSchema, path: str, method: str
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Case[Any]) -> None:
        case.call_and_validate(checks=CHECKS, headers=IDENTITY)

    check()


def test_the_fuzzer_reads_the_document_the_server_serves(
    api_schema: schemathesis.BaseSchema,
) -> None:
    assert api_schema.raw_schema == openapi_document()


def test_real_bundles_conform_to_their_response_schema(
    api_schema: schemathesis.BaseSchema, app: Flask
) -> None:
    """A fuzzer's random ids find no bundle: these requests name real ones,
    so the Bundle schema is checked against what the server sends."""
    client = app.test_client()
    claims = client.get("/api/v1/pool/claims?limit=1000").get_json()["claims"]
    paid = [c for c in claims if c["paid_period"] is not None]
    assert paid
    claim = api_schema["/bundles/claim/{claim}"]["get"]
    deduction = api_schema["/bundles/deduction"]["get"]
    bundle = client.get(f"/api/v1/bundles/claim/{paid[0]['claim']}", headers=IDENTITY)
    jurors = [j["member"] for j in bundle.get_json()["jurors"]]
    period = paid[0]["paid_period"]
    # A juror of the claim, paying into the period it was paid in.
    member = next(
        m
        for m in jurors
        if client.get(f"/api/v1/bundles/deduction?member={m}&period={period}").status_code == 200
    )
    cases = [
        claim.Case(path_parameters={"claim": paid[0]["claim"]}),
        claim.Case(path_parameters={"claim": paid[-1]["claim"]}),
        deduction.Case(query={"member": member, "period": period}),
        deduction.Case(query={"member": member, "period": period, "sample": paid[0]["claim"]}),
    ]
    for case in cases:
        response = case.call(headers=IDENTITY)
        assert response.status_code == 200, response.text[:300]
        case.validate_response(response, checks=CHECKS)
