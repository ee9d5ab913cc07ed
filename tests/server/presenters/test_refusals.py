"""The refusals' sentences: every code raised has one, every rule of the
pool has one, Chinese pages read them in Chinese, English pages read the
service's own words, and nothing unknown breaks a page."""

# ruff: noqa: RUF001 -- the Chinese sentences' full-width punctuation is what is checked

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask

from server import i18n
from server.pool import errors as pool_errors
from server.pool.errors import PoolInputError, PoolRefusedError, VoteRefusedError
from server.presenters.refusals import RULES, TEMPLATES, refusal, rule_refusal
from server.private import errors as private_errors
from server.private.errors import EvidenceError, InvalidInputError, LoginThrottledError
from verifiable.errors import MalformedError, RuleViolation

ROOT = Path(__file__).resolve().parents[3]
#: Where refusals are raised with their codes.
RAISING = [
    *sorted((ROOT / "server" / "pool").glob("*.py")),
    *sorted((ROOT / "server" / "private").glob("*.py")),
    ROOT / "server" / "rule_text.py",
]
#: The position of the ``code`` argument of each coded error's constructor.
CODE_ARG = {
    "PoolRefusedError": 1,
    "PoolInputError": 1,
    "VoteRefusedError": 0,  # the reason; the code is "vote." + reason
    "InvalidInputError": 2,
    "EvidenceError": 1,
    "UsernameTakenError": 1,
    "AlreadyJoinedError": 1,
    "AlreadyVotedError": 1,
    "LoginRefusedError": 1,
}
#: Errors a page shows that must never be raised without a code.
MUST_CODE = {"PoolRefusedError", "PoolInputError", "InvalidInputError", "EvidenceError"}
ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
LATIN = re.compile(r"[A-Za-z]{4,}")


def registry() -> dict[str, tuple[str, ...]]:
    return {**pool_errors.CODES, **private_errors.CODES}


def _names(node: ast.expr) -> list[str]:
    """The string constants ``node`` may be (a literal or ``a if c else b``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _names(node.body) + _names(node.orelse)
    return []


def raised_codes(paths: list[Path]) -> tuple[dict[str, set[str]], list[str]]:
    """Every code raised in ``paths`` with the keyword parameters given, and
    the places a page-facing refusal is raised without a code."""
    found: dict[str, set[str]] = {}
    uncoded: list[str] = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            name = node.func.id
            if name not in CODE_ARG:
                continue
            position = CODE_ARG[name]
            given = {k.arg for k in node.keywords if k.arg is not None}
            codes = _names(node.args[position]) if len(node.args) > position else []
            if name == "VoteRefusedError":
                codes = [f"vote.{reason}" for reason in codes]
            if not codes and name in MUST_CODE:
                uncoded.append(f"{path.name}:{node.lineno}")
            for code in codes:
                found.setdefault(code, set()).update(given)
    return found, uncoded


def missing_templates(
    codes: Mapping[str, tuple[str, ...]], templates: Mapping[str, object]
) -> list[str]:
    """Codes without a sentence, or whose sentence names another parameter."""
    wrong = []
    for code, params in codes.items():
        template = templates.get(code)
        if template is None:
            wrong.append(f"{code}: no sentence")
            continue
        named = set(re.findall(r"%\((\w+)\)", str(template)))
        if named - set(params):
            wrong.append(f"{code}: names {sorted(named - set(params))}")
    return wrong


def documented_rules() -> set[str]:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    return set(re.findall(r"\[([a-z_]+\.[a-z_]+)\]", text))


def raised_rules() -> set[str]:
    """The rule ids given as literals to ``RuleViolation`` and its helpers in
    the rulebook (a rule passed through a variable is in docs/rules.md)."""
    rules: set[str] = set()
    for path in (ROOT / "verifiable" / "pool").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
                name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                if name in {"RuleViolation", "violation", "_v"} and node.args:
                    rules.update(_names(node.args[0]))
                if name == "require_active" and len(node.args) > 1:
                    rules.update(_names(node.args[1]))
    return rules


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config[i18n.DEFAULT_LOCALE] = "en"
    i18n.init_app(app)
    yield app


def in_lang(app: Flask, headers: dict[str, str], e: Exception) -> str:
    with app.test_request_context("/", headers=headers):
        return refusal(e)


# --- every code and rule has its sentence ------------------------------------------------


def test_every_registered_code_has_a_sentence_naming_its_parameters() -> None:
    assert missing_templates(registry(), TEMPLATES) == []
    assert set(TEMPLATES) <= set(registry()), "a sentence for a code nobody raises"


def test_every_code_raised_is_registered_with_the_parameters_given() -> None:
    found, uncoded = raised_codes(RAISING)
    codes = registry()
    assert uncoded == [], "a refusal raised without a code"
    assert sorted(set(found) - set(codes)) == []
    for code, given in found.items():
        assert given <= set(codes[code]), f"{code} raised with {sorted(given)}"
    # The walk sees the raise sites (it is not vacuous).
    assert {"notice.not_filed", "vote.already_voted", "evidence.empty"} <= set(found)


def test_the_checks_catch_a_planted_missing_code(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        "def f():\n"
        '    raise PoolRefusedError("x", "claim.nowhere", claim=1)\n'
        '    raise PoolInputError("no code at all")\n',
        encoding="utf-8",
    )
    found, uncoded = raised_codes([planted])
    assert "claim.nowhere" in found and "claim.nowhere" not in registry()
    assert len(uncoded) == 1
    without = {k: v for k, v in TEMPLATES.items() if k != "pay.not_approved"}
    assert missing_templates(registry(), without) == ["pay.not_approved: no sentence"]
    extra = {**registry(), "claim.unknown": ()}
    assert missing_templates(extra, TEMPLATES) == ["claim.unknown: names ['claim']"]


def test_every_rule_of_the_pool_has_a_plain_sentence() -> None:
    rules = documented_rules() | raised_rules()
    assert len(rules) > 80  # the docs' and the code's rules were found
    assert sorted(rules - set(RULES)) == []
    planted = {k: v for k, v in RULES.items() if k != "vote.once"}
    assert sorted(rules - set(planted)) == ["vote.once"]


# --- the words on a page ------------------------------------------------------------


def test_a_chinese_page_reads_a_refusal_in_chinese_with_its_values_in_words(
    app: Flask,
) -> None:
    e = PoolRefusedError(
        "claim c1 is voting: only a filed claim that has no notice yet gets one",
        "notice.not_filed",
        claim="c1",
        stage="voting",
    )
    zh = in_lang(app, ZH, e)
    assert zh == "互助申请 c1 当前状态为“评审员投票中”：只有已提交、尚未公示的申请才能公示。"
    assert in_lang(app, EN, e) == (
        "Claim c1 is voting: only a filed claim that has no notice yet gets one."
    )
    until = datetime(2026, 1, 3, 16, 0, tzinfo=UTC)
    late = VoteRefusedError("window_closed", "The voting window ...", claim="c1", until=until)
    assert "2026年1月4日 00:00" in in_lang(app, ZH, late)  # the pool's zone, Asia/Shanghai
    period = PoolRefusedError(
        "period 2026-01-07 is not the next period due; the next period due is 2026-01-21",
        "period.not_next",
        period=date(2026, 1, 7),
        next=date(2026, 1, 21),
    )
    assert in_lang(app, ZH, period) == (
        "2026年1月7日 这一期不是下一个到期的；下一个到期的是 2026年1月21日 这一期。"
    )
    aid = PoolInputError("the proposed aid ...", "notice.amount_range", cap=500_000, amount=0)
    assert "¥5,000.00" in in_lang(app, ZH, aid)


def test_every_template_reads_in_chinese_without_english_words(app: Flask) -> None:
    samples: dict[str, object] = {
        "stage": "filed",
        "band": "18-39",
        "until": datetime(2026, 1, 3, tzinfo=UTC),
        "now": datetime(2026, 1, 3, tzinfo=UTC),
        "effective": datetime(2026, 1, 3, tzinfo=UTC),
        "latest": datetime(2026, 1, 3, tzinfo=UTC),
        "period": date(2026, 1, 7),
        "next": date(2026, 1, 21),
    }
    for code, params in registry().items():
        values = {p: samples.get(p, 7) for p in params}
        e = PoolRefusedError("English", code, **values)
        text = in_lang(app, ZH, e)
        assert text != "English.", code
        words = [
            w for w in LATIN.findall(text) if w not in {"JSON", "YYYY", "DDTHH", "SSZ", "JPEG"}
        ]
        assert words == [], f"{code}: {text}"


def test_private_store_errors_read_in_chinese(app: Flask) -> None:
    short = InvalidInputError(
        "password", "a password needs at least 8 characters", "password.short", least=8
    )
    assert in_lang(app, ZH, short) == "密码至少需要 8 个字符。"
    assert in_lang(app, EN, short) == "A password needs at least 8 characters."
    empty = EvidenceError("document 2: the file is empty", "evidence.empty", n=2)
    assert in_lang(app, ZH, empty) == "第 2 份材料：文件是空的。"
    throttled = LoginThrottledError("too many failed sign-ins ...", retry_after=61)
    assert "2 分钟" in in_lang(app, ZH, throttled)


def test_a_broken_rule_reads_as_what_the_rule_says_with_its_id(app: Flask) -> None:
    e = RuleViolation(
        "objection.window", "claim c1's window closed", seq=9, expected="x", actual="y"
    )
    with app.test_request_context("/", headers=ZH):
        zh = rule_refusal(e)
    assert zh == (
        "互助计划的规则不允许此操作：须在异议期结束前提出异议（规则 objection.window）。"
        "未记录任何内容。"
    )
    with app.test_request_context("/", headers=EN):
        assert rule_refusal(e) == (
            "The pool's rules refuse this: an objection is made before the objection window "
            "closes (rule objection.window). Nothing was recorded."
        )
    # Where the page says itself that nothing was recorded (the operator's).
    assert in_lang(app, EN, e) == (
        "The pool's rules refuse this: an objection is made before the objection window "
        "closes (rule objection.window)."
    )
    # An unknown rule keeps the rulebook's own words.
    unknown = RuleViolation("rule.from_the_future", "something new", seq=3)
    assert in_lang(app, ZH, unknown) == (
        "互助计划的规则不允许此操作：entry 3: rule rule.from_the_future: something new。"
    )


def test_an_unknown_code_or_no_code_falls_back_to_the_english_words(app: Flask) -> None:
    unknown = PoolRefusedError("the moon is not full", "moon.phase", phase=3)
    assert in_lang(app, ZH, unknown) == "The moon is not full."
    assert in_lang(app, ZH, PoolRefusedError("no code here")) == "No code here."
    assert in_lang(app, ZH, MalformedError("rules: not JSON")) == "Rules: not JSON."
    # A refusal lacking a parameter its sentence names is still shown.
    lacking = PoolRefusedError("claim x is voting", "notice.not_filed", claim="x")
    assert in_lang(app, ZH, lacking) == "Claim x is voting."


def test_outside_a_request_a_refusal_is_its_english_sentence() -> None:
    e = PoolRefusedError("there is no claim c1", "claim.unknown", claim="c1")
    assert refusal(e) == "There is no claim c1."
