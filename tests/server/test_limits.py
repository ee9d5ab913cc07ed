"""Every integer a request carries is bounded where it enters the server.

The routes are enumerated, not listed by hand: the JSON API's integer
parameters from the OpenAPI document, the pages' integer path parts from
the application's URL map, the forms' integer fields from the form classes.
Each answers -1, 2**63, 2**64 and 10**100 with a 4xx and a body, and
changes nothing — where SQLite (or PostgreSQL) once met the number and
answered 500.  A new integer parameter must be declared
(:mod:`server.views.params`) or named in the tables below, or a test fails.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from sqlalchemy import Engine
from werkzeug.routing.converters import NumberConverter
from wtforms import DecimalField, FloatField, IntegerField
from wtforms.validators import Regexp

from server import juror_forms, member_forms, operator_forms
from server.auth import accounts_service
from server.forms import FlaskForm
from server.openapi import openapi_document
from server.private.accounts import Role
from server.views.params import DECLARED, MAX_STORED, Integer, IntegerConverter
from tests.server.pool_helpers import (
    PASSWORD,
    VotingPool,
    build_voting_pool,
    csrf,
    row_counts,
    served_pool_app,
    sign_in,
)

if TYPE_CHECKING:
    from werkzeug.test import TestResponse

    from tests.clock import FixedClock

BAD = ("-1", str(2**63), str(2**64), str(10**100))
OPERATOR = "boss"

# A valid value for each parameter the API takes, so that only the one
# under test is wrong.
_EXAMPLES = {
    "index": "0",
    "size": "1",
    "old": "1",
    "new": "1",
    "offset": "0",
    "limit": "1",
    "member": "0" * 32,
    "period": "2026-01-07",
    "claim": "0" * 32,
    "claim_id": "0" * 32,
}

# The pages' integers that are not path parts: endpoint -> (a path, the query parameter).
QUERY_INTEGERS = {
    "public.claims": ("/pool/claims", "page"),
    "member.period_statement": ("/dashboard/periods/2026-01-07", "page"),
}

# The forms' integer fields: (form class, field) -> (endpoint path, who posts).
FORM_INTEGERS = {
    ("ReadForm", "through"): ("/notifications/read", "member"),
    ("VoteForm", "round"): ("/juror/vote", "juror"),
    ("CastForm", "round"): ("/juror/vote/cast", "juror"),
    ("AnswerForm", "objection"): ("/operator/actions/answer", "operator"),
    ("ConfirmPayForm", "amount"): ("/operator/actions/pay/confirm", "operator"),
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES", "MUTUALOG_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    yield from served_pool_app(engine, tmp_path, clock)


@pytest.fixture
def voting(app: Flask, clock: FixedClock) -> VotingPool:
    pool = build_voting_pool(app, clock)
    with app.app_context():
        accounts_service().register(OPERATOR, PASSWORD, clock(), Role.OPERATOR)
    return pool


def _refused(response: TestResponse, what: str) -> None:
    assert 400 <= response.status_code < 500, (what, response.status_code)
    assert response.get_data(), f"{what}: an empty body"


# --- the declarations ---------------------------------------------------------------


def test_every_declaration_stays_within_what_the_database_holds() -> None:
    for declared in DECLARED:
        assert 0 <= declared.minimum <= declared.maximum <= MAX_STORED, declared
        for text in BAD:
            with pytest.raises(Exception, match=declared.name):
                declared.parse(text)
        assert declared.parse(str(declared.maximum)) == declared.maximum
        assert declared.parse(str(declared.minimum)) == declared.minimum


@pytest.mark.parametrize("text", ["+1", " 1", "1 ", "01", "1_0", "\u0661", "", "1e3", "0x1"])
def test_an_integer_is_written_one_way_only(text: str) -> None:
    with pytest.raises(Exception, match="without sign, spaces or leading zeros"):
        Integer("n", 0, 10**6, "").parse(text)


def test_every_integer_of_the_openapi_document_states_its_bounds() -> None:
    document = openapi_document()
    found = 0
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                if schema.get("type") != "integer":
                    # Strings are bounded by a pattern, an enum or a format.
                    assert {"pattern", "format", "enum"} & set(schema), (path, parameter)
                    continue
                found += 1
                assert 0 <= schema["minimum"] <= schema["maximum"] <= MAX_STORED, path
    assert found >= 8


# --- the JSON API, from the OpenAPI document ----------------------------------------


def _api_cases() -> Iterator[tuple[str, dict[str, str], str]]:
    """(path, query, name of the integer under test) for every integer parameter."""
    for path, operations in openapi_document()["paths"].items():
        parameters = operations["get"].get("parameters", [])
        for under_test in parameters:
            if under_test["schema"].get("type") != "integer":
                continue
            for bad in BAD:
                url, query = "/api/v1" + path, {}
                for p in parameters:
                    value = bad if p is under_test else _EXAMPLES.get(p["name"])
                    if value is None:
                        continue
                    if p["in"] == "path":
                        url = url.replace("{" + p["name"] + "}", value)
                    else:
                        query[p["name"]] = value
                yield url, query, under_test["name"]


def test_every_integer_of_the_api_refuses_what_the_database_cannot_hold(
    app: Flask, voting: VotingPool
) -> None:
    client = app.test_client()
    cases = list(_api_cases())
    assert len(cases) >= 8 * len(BAD)
    for url, query, name in cases:
        response = client.get(url, query_string=query)
        _refused(response, f"{url} {query}")
        body = response.get_json()
        assert body["error"] == "bad_parameter" and name in body["message"], (url, body)


# --- the pages' path parts, from the URL map ----------------------------------------


def test_no_route_takes_an_undeclared_integer(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            assert not isinstance(converter, NumberConverter), (
                f"{rule.rule}: <{name}> is an undeclared number; declare it in server.views.params"
            )


def _integer_rules(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, rule, argument) of every path part that is a declared integer."""
    found = []
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                found.append((rule.endpoint, rule.rule, name))
    return found


def _path(rule: str, argument: str, value: str, claim: str) -> str:
    """``rule`` with ``value`` for ``argument`` and ``claim`` for any other part."""

    def fill(found: re.Match[str]) -> str:
        return value if found.group(1) == argument else claim

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", fill, rule)


def test_every_integer_path_part_refuses_what_the_database_cannot_hold(
    app: Flask, voting: VotingPool, engine: Engine
) -> None:
    rules = _integer_rules(app)
    assert {endpoint for endpoint, _, _ in rules} >= {
        "member.claim_evidence",
        "juror.redacted_page",
        "operator.evidence",
        "operator.redacted_page",
        "juror.receipt",
        "juror.receipt_file",
    }
    clients = {
        "anonymous": app.test_client(),
        "claimant": sign_in(app, voting.usernames[voting.claimant]),
        "juror": sign_in(app, voting.usernames[voting.jurors[0]]),
        "operator": sign_in(app, OPERATOR),
    }
    before = row_counts(engine)
    for endpoint, rule, argument in rules:
        for bad in (*BAD, "0"):
            path = _path(rule, argument, bad, voting.claim)
            for who, client in clients.items():
                _refused(client.get(path), f"{endpoint} {path} as {who}")
    assert row_counts(engine) == before


def test_every_integer_query_of_a_page_refuses_what_the_database_cannot_hold(
    app: Flask, voting: VotingPool
) -> None:
    member = sign_in(app, voting.usernames[voting.claimant])
    for endpoint, (path, name) in QUERY_INTEGERS.items():
        for bad in BAD:
            _refused(member.get(path, query_string={name: bad}), f"{endpoint} {name}={bad}")


# --- the forms' integer fields, from the form classes -------------------------------


def _form_classes() -> Iterator[type[FlaskForm]]:
    for module in (member_forms, juror_forms, operator_forms):
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, FlaskForm) and value.__module__ == module.__name__:
                yield value


def _is_integer_field(unbound: Any) -> bool:
    """An integer field, or a text field whose pattern accepts digits alone."""
    if unbound.field_class in (IntegerField, DecimalField, FloatField):
        return True
    validators = unbound.kwargs.get("validators") or []
    return any(isinstance(v, Regexp) and v.regex.search("1") for v in validators)


def test_every_integer_field_of_a_form_is_in_the_table() -> None:
    found = set()
    for form in _form_classes():
        for name, unbound in inspect.getmembers(form):
            if hasattr(unbound, "field_class") and _is_integer_field(unbound):
                found.add((form.__name__, name))
    assert found == set(FORM_INTEGERS)


def test_every_integer_field_refuses_what_the_database_cannot_hold(
    app: Flask, voting: VotingPool, engine: Engine
) -> None:
    clients = {
        "member": sign_in(app, voting.usernames[voting.claimant]),
        "juror": sign_in(app, voting.usernames[voting.jurors[0]]),
        "operator": sign_in(app, OPERATOR),
    }
    tokens = {
        "member": csrf(clients["member"], "/claims/new"),
        "juror": csrf(clients["juror"], "/claims/new"),
        "operator": csrf(clients["operator"], "/operator/rules"),
    }
    base = {
        "claim": voting.claim,
        "round": "1",
        "choice": "approve",
        "reason": "The records are clear.",
        "token": "x",
        "text": "An answer.",
        "objection": "1",
        "amount": "100",
        "through": "1",
    }
    before = row_counts(engine)
    for (_form, field), (path, who) in FORM_INTEGERS.items():
        for bad in BAD:
            data = {**base, field: bad, "csrf_token": tokens[who]}
            _refused(clients[who].post(path, data=data), f"{path} {field}={bad}")
    assert row_counts(engine) == before
