"""Every form field whose text goes into the log takes it through the one
module that owns those texts: whatever a form accepts at its first step, the
log accepts in the field it fills, as the form left it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from werkzeug.datastructures import MultiDict

from server.db import make_engine, upgrade
from server.forms import FlaskForm
from server.juror_forms import VoteForm
from server.log_texts import accept
from server.member_forms import AppealForm, ObjectionForm
from server.operator_forms import (
    AnswerForm,
    ErasureForm,
    NoticeForm,
    OverrideForm,
    RulesForm,
)
from server.pool_service import PoolInputError
from tests.clock import FixedClock
from tests.server.pool_helpers import make_pool_app
from tests.verifiable.log.test_texts import log_reads
from verifiable.log.texts import (
    ANSWER,
    APPEAL_REASON,
    ERASURE_REASON,
    NOTICE,
    OBJECTION,
    OVERRIDE_REASON,
    OVERRIDE_TARGET,
    RULES_REASON,
    VOTE_REASON,
    TextRule,
    prepare,
)

#: Every form field whose text reaches an entry, with the rule of its field.
FIELDS: list[tuple[type[FlaskForm], str, TextRule]] = [
    (ObjectionForm, "text", OBJECTION),
    (AppealForm, "reason", APPEAL_REASON),
    (VoteForm, "reason", VOTE_REASON),
    (NoticeForm, "text", NOTICE),
    (AnswerForm, "text", ANSWER),
    (RulesForm, "reason", RULES_REASON),
    (OverrideForm, "target", OVERRIDE_TARGET),
    (OverrideForm, "reason", OVERRIDE_REASON),
    (ErasureForm, "reason", ERASURE_REASON),
]
IDS = [f"{form.__name__}.{name}" for form, name, _ in FIELDS]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("texts")
    engine: Engine = make_engine(f"sqlite:///{folder / 'texts.sqlite'}")
    upgrade(engine)
    app = make_pool_app(engine, folder, FixedClock())
    yield app
    app.extensions["mutualog"].engine.dispose()
    engine.dispose()


def _validated(app: Flask, form_class: type[FlaskForm], name: str, text: str) -> str | None:
    """The field's data after its own validators, or ``None`` if refused."""
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict({name: text}), meta={"csrf": False})
        field = form[name]
        return str(field.data) if field.validate(form) else None


_TEXTS = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from("\r\n\t \u202a\u202e\u2066\u2069\x00\x85\u3000"),
    ),
    max_size=600,
)


@pytest.mark.parametrize(("form_class", "name", "rule"), FIELDS, ids=IDS)
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXTS)
def test_what_a_form_accepts_the_log_accepts(
    app: Flask, form_class: type[FlaskForm], name: str, rule: TextRule, text: str
) -> None:
    kept = _validated(app, form_class, name, text)
    if kept is not None:
        log_reads(rule, kept)
        assert kept == prepare(text, rule)


@pytest.mark.parametrize(("form_class", "name", "rule"), FIELDS, ids=IDS)
@pytest.mark.parametrize(
    "text",
    ["two\r\nlines", "a\u202eb", "tab\there", "x" * 2001],
    ids=["crlf", "rlo", "tab", "too-long"],
)
def test_a_text_is_made_plain_or_refused_at_its_field(
    app: Flask, form_class: type[FlaskForm], name: str, rule: TextRule, text: str
) -> None:
    kept = _validated(app, form_class, name, text)
    if text == "two\r\nlines" and rule.multiline:
        assert kept == "two\nlines"
    else:
        assert kept is None


def test_the_commands_take_texts_the_same_way() -> None:
    assert accept(" two\r\nlines ", NOTICE) == "two\nlines"
    with pytest.raises(PoolInputError, match="U\\+202E at position 1"):
        accept("a\u202eb", NOTICE)
