"""The private-data guard on every route that takes a text for the public
log: each operator page (both steps), each member's and juror's page, each
``mutualog-server pool`` command, and the pool's own operations beneath
them all.  A table of texts with identifiers planted in them — anyone's ID
numbers and mobile numbers in every spelling, and the name, ID number and
phone of the member the text concerns — is refused on each route, with the
log, its checkpoint and every table's rows as they were; the refusal says
what was found and where, never the identifier.  Clean texts — hex ids,
dates, amounts, postcodes — are accepted, and published."""

# ruff: noqa: RUF001 -- full-width characters are what is tested

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, Table, update

from server.auth import accounts_service
from server.cli import main
from server.db import make_engine, upgrade
from server.demo import DemoIdentities
from server.juror_forms import seal_vote_form
from server.log_texts import PrivateDataError, accept
from server.models import MemberDetailsRow
from server.pool.notice_facts import NoticeDetails
from server.pool_app import current_pool
from server.private.accounts import Role
from server.private.evidence import Upload
from server.private.identity import check_character
from server.private.members import member_details
from server.private.sealing import Sealer, sealer_of
from server.private.submissions import new_token
from server.private_guard import PrivateIdentity, find_private
from tests.clock import FixedClock
from tests.server.pool_helpers import (
    PASSWORD,
    PDF,
    RULES,
    add_members,
    csrf,
    make_pool_app,
    sign_in,
    text_of,
)
from tests.server.redaction_files import redact_all
from tests.server.test_authorization import State, state_of
from verifiable.log.bodies import AgeBand, Choice
from verifiable.log.notice_facts import HospitalGrade
from verifiable.log.texts import NOTICE, TEXT_RULES, prepare

OPERATOR = "boss"
ID_X = "11010519491231002X"  # GB 11643-1999's own example
ID_D = "31010419890620121" + check_character("31010419890620121")
DEMO = DemoIdentities(11).details("cd" * 16, AgeBand.FROM_40_TO_59)
HEX32 = "0123456789abcdef" * 2
HEX64 = "13912345678" + "0" * 7 + "abcdef" * 7 + "1" * 4

#: (id, text): identifiers anyone's, in every spelling.
SHAPES = [
    ("id-x", f"A member aged 18-39, ID {ID_X}, asks for aid."),
    ("id-lower-x", f"ID {ID_X.lower()}"),
    ("id-after-chinese", f"身份证{ID_D}，申请互助金"),
    ("id-spaced", "身份证号：110105 19491231 002X"),
    ("id-full-width", "身份证：１１０１０５１９４９１２３１００２Ｘ"),
    ("id-full-width-x", "11010519491231002Ｘ"),
    ("id-dashes-parens", "ID (110105)1949-1231-002X"),
    ("id-dots", "ID 110105.19491231.002X"),
    ("id-middle-dots", "110105·19491231·002X"),
    ("id-full-width-parens", f"申请人（身份证：{ID_D}）确诊"),
    ("id-equals", f"id_number={ID_D}"),
    ("id-demo", f"身份证{DEMO.id_number}"),
    ("phone-after-chinese", "电话13912345678"),
    ("phone-plus86-spaces", "call +86 139 1234 5678 please"),
    ("phone-plus86-dashes", "+86-139-1234-5678"),
    ("phone-0086", "0086 139 1234 5678"),
    ("phone-parens", "(139) 1234-5678"),
    ("phone-full-width", "手机１３９１２３４５６７８"),
    ("phone-plus86-full-width", "+86１３９１２３４５６７８"),
    ("phone-ideographic-spaces", "139　1234　5678"),
    ("phone-zero-width", "139\u200b1234\u200b5678"),
    ("phone-en-dash", "139–1234–5678"),
    ("phone-end-of-sentence", "Please call 13712345678."),
    ("phone-second-line", "The claimant can be reached.\n15912345678"),
    ("phone-colon", "手机:15912345678"),
    ("phone-comma", "联系人手机号码 18612345678，请核实"),
    ("phone-each-digit", "contact 1 7 7 1 2 3 4 5 6 7 8"),
    ("phone-brackets", "[13912345678]"),
    ("phone-demo", f"手机 {DEMO.phone}"),
    ("phone-demo-dashes", f"{DEMO.phone[:3]}-{DEMO.phone[3:7]}-{DEMO.phone[7:]}"),
]

#: (id, template): the identifiers of the member concerned, filled in per route.
CONCERNED = [
    ("name", "{name} asks for aid."),
    ("name-after-chinese", "会员{name}申请互助金"),
    ("name-spaced", "会员 {spaced} 申请"),
    ("name-dashes", "{dashed}"),
    ("name-full-width-spaces", "{wide}"),
    ("name-before-digits", "{name}1990年确诊"),
    ("own-id", "ID {id_number}"),
    ("own-id-spaced", "{id_spaced}"),
    ("own-phone", "手机{phone}"),
    ("own-phone-plus86", "+86 {phone_spaced}"),
    ("own-phone-dashes", "{phone_dashed}"),
    ("own-phone-full-width", "{phone_wide}"),
]

#: Clean texts: ids of the log, dates, amounts, postcodes, ages, counts.
CLEAN = [
    f"Claim {HEX32} was filed on 2026-03-14.",
    f"Root {HEX64} at size 4512.",
    f"会员 {HEX32} 申请 ¥300,000.00 互助金，确诊日期 2026年3月14日。",
    "Aid ¥13,800,000 shared by 4,096 members; 5000000 fen; period 2026-04-01.",
    "The hospital's postcode is 100010; the member is 40-59, a member for 18 months.",
    "Seqs 12, 13, 14 and 15 are answered; see entry 4512.",
    "十八至三十九岁会员申请重大疾病互助金。",
]


def _identity(details: PrivateIdentity) -> dict[str, str]:
    name, number, phone = details.name, details.id_number, details.phone
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in phone)
    return {
        "name": name,
        "spaced": " ".join(name),
        "dashed": "-".join(name),
        "wide": "\u3000".join(name),
        "id_number": number,
        "id_spaced": f"{number[:6]} {number[6:14]} {number[14:]}",
        "phone": phone,
        "phone_spaced": f"{phone[:3]} {phone[3:7]} {phone[7:]}",
        "phone_dashed": f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
        "phone_wide": wide,
    }


def planted(concerned: PrivateIdentity | None) -> list[tuple[str, str]]:
    """The table for a route: the shapes, and the identifiers of the member
    it concerns, if any (at least 40 texts for a route about a member)."""
    texts = list(SHAPES)
    if concerned is not None:
        values = _identity(concerned)
        texts += [(i, template.format(**values)) for i, template in CONCERNED]
    return texts


@dataclass(frozen=True)
class Pool:
    folder: Path
    filed: str  # claimant A: no notice yet
    noticed: str  # claimant B: noticed, an objection not answered
    objection: int
    rejected: str  # claimant C: rejected, open to appeal
    voting: str  # claimant E: its panel voting
    juror: str  # a juror of ``voting`` who has not voted
    claimants: dict[str, str]  # claim id -> member id
    usernames: dict[str, str]  # member id -> username


def _named_as_in_the_demo(engine: Engine, members: list[str]) -> None:
    """Give ``members`` the Chinese names the demo gives its members, in the
    private store: a name without spaces, found only as the member's."""
    table = cast(Table, MemberDetailsRow.__table__)
    sealer = sealer_of(engine)
    with engine.begin() as conn:
        for n, member in enumerate(members):
            name = DemoIdentities(n).details(member, AgeBand.FROM_18_TO_39).name
            sealed = sealer.seal_text(table.name, "name", member, name)
            conn.execute(update(table).where(table.c.member_id == member).values(name=sealed))


def _build(folder: Path) -> Pool:
    engine = make_engine(f"sqlite:///{folder / 'pool.db'}", Sealer(folder / "instance"))
    upgrade(engine)
    # In the past, so that the commands, on the system's clock, find it done.
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=20))
    app = make_pool_app(engine, folder, clock)
    try:
        with app.app_context():
            pool = current_pool()
            pool.start(RULES)
            usernames = add_members(pool, 7, "member", clock())
            jurors = list(usernames)
            for member in jurors:
                pool.qualify_juror(member)
            pool.commit_jury_pool()
            joined = add_members(pool, 4, "claimant", clock())
            claimants = list(joined)
            usernames.update(joined)
            _named_as_in_the_demo(engine, claimants)
            accounts_service().register(OPERATOR, PASSWORD, clock(), Role.OPERATOR)
            clock.advance(days=11)
            pdf = Upload(PDF, "application/pdf", "discharge.pdf")
            claims = [
                pool.file_claim(m, "cancer", 5_000_000, clock().date(), [pdf]) for m in claimants
            ]
            filed, noticed, rejected, voting = claims
            redact_all(pool, filed)
            notice = "A member aged 18-39 asks for aid for cancer."
            for claim in (rejected, voting):
                redact_all(pool, claim)
                pool.publish_notice(claim, notice)
            clock.advance(days=3)
            panel = pool.draw_panel(rejected)
            for juror in panel.jurors:
                pool.seal_vote(rejected, 1, juror, Choice.REJECT, "Not covered.")
            clock.advance(days=3)
            pool.close_voting(rejected)
            drawn = pool.draw_panel(voting)
            # Three days ago: its objection window is open two days ago.
            redact_all(pool, noticed)
            pool.publish_notice(noticed, notice)
            objection = pool.file_objection(noticed, jurors[5], "The amount looks high.")
    finally:
        app.extensions["mutualog"].engine.dispose()
        engine.dispose()
    return Pool(
        folder,
        filed,
        noticed,
        objection,
        rejected,
        voting,
        drawn.jurors[0],
        dict(zip(claims, claimants, strict=True)),
        usernames,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    return _build(tmp_path_factory.mktemp("guarded"))


@dataclass
class Instance:
    pool: Pool
    folder: Path
    app: Flask
    engine: Engine

    def identity(self, member: str) -> PrivateIdentity:
        details = member_details(self.engine, member)
        assert details is not None
        return PrivateIdentity(details.name, details.id_number, details.phone)

    def claimant(self, claim: str) -> PrivateIdentity:
        return self.identity(self.pool.claimants[claim])

    def state(self) -> State:
        return state_of(self.app, self.engine)


@pytest.fixture
def instance(built: Pool, tmp_path: Path) -> Iterator[Instance]:
    folder = tmp_path / "copy"
    shutil.copytree(built.folder, folder)
    engine = make_engine(f"sqlite:///{folder / 'pool.db'}", Sealer(folder / "instance"))
    # Two days ago: the panel of ``voting`` still votes, ``noticed`` takes
    # objections and ``rejected`` an appeal, on the pages' clock.
    app = make_pool_app(engine, folder, FixedClock(datetime.now(UTC) - timedelta(days=2)))
    yield Instance(built, folder, app, engine)
    app.extensions["mutualog"].engine.dispose()
    engine.dispose()


_SENTENCE = re.compile(r"Character (\d+) starts (what looks like|the [a-zA-Z ]+ of a member)")


def expected(text: str, rule_name: str, concerned: PrivateIdentity | None) -> int:
    """Where the guard must say the first identifier starts (from 1)."""
    found = find_private(prepare(text, TEXT_RULES[rule_name]), [concerned] if concerned else [])
    assert found is not None, text
    return found.position + 1


# --- the pages ----------------------------------------------------------------------


@dataclass(frozen=True)
class PageRoute:
    """A page's form: who posts it, where, its other fields, the field the
    text goes into and its rule, and whom the text concerns."""

    role: str  # "operator", "objector", "claimant", "juror"
    path: str
    rule: str
    field: str
    fields: Callable[[Instance], dict[str, str]]
    concerned: Callable[[Instance], PrivateIdentity | None]


def _future() -> str:
    return (datetime.now(UTC) + timedelta(days=30)).date().isoformat()


def _vote(inst: Instance, cast: bool) -> Callable[[str], dict[str, str]]:
    def fields(text: str) -> dict[str, str]:
        base = {"claim": inst.pool.voting, "round": "1", "choice": "approve", "reason": text}
        if not cast:
            return base
        secret = inst.app.secret_key
        assert secret
        seal = seal_vote_form(secret, inst.pool.voting, 1, inst.pool.juror, "approve", text)
        return {**base, "token": seal, "submission": new_token()}

    return fields


#: The structured facts of a notice, beside its investigation summary.
FACTS = {"grade": "tertiary-a", "province": "51"}


def _claim(name: str) -> Callable[[Instance], dict[str, str]]:
    return lambda inst: {"claim": getattr(inst.pool, name)}


PAGES = {
    "notice": PageRoute(
        "operator", "/operator/actions/notice", "notice", "text", _claim("filed"),
        lambda i: i.claimant(i.pool.filed),
    ),
    "notice-summary": PageRoute(
        "operator", "/operator/actions/notice", "notice_summary", "summary",
        lambda i: {"claim": i.pool.filed, "text": CLEAN[6], **FACTS},
        lambda i: i.claimant(i.pool.filed),
    ),
    "answer": PageRoute(
        "operator", "/operator/actions/answer", "answer", "text",
        lambda i: {"claim": i.pool.noticed, "objection": str(i.pool.objection)},
        lambda i: i.claimant(i.pool.noticed),
    ),
    "rules": PageRoute(
        "operator", "/operator/rules", "rules_reason", "reason",
        lambda i: {"changes": '{"share.fee_rate_bp": 700}', "effective": _future()},
        lambda i: None,
    ),
    "override": PageRoute(
        "operator", "/operator/override", "override_reason", "reason",
        lambda i: {"action": "note", "target": i.pool.filed},
        lambda i: i.claimant(i.pool.filed),
    ),
    "erase-member": PageRoute(
        "operator", "/operator/erase", "erasure_reason", "reason",
        lambda i: {"kind": "member", "subject": i.pool.claimants[i.pool.filed]},
        lambda i: i.claimant(i.pool.filed),
    ),
    "erase-evidence": PageRoute(
        "operator", "/operator/erase", "erasure_reason", "reason",
        lambda i: {"kind": "evidence", "subject": i.pool.filed},
        lambda i: i.claimant(i.pool.filed),
    ),
    "objection": PageRoute(
        "objector", "/claims/object", "objection", "text",
        lambda i: {"claim": i.pool.noticed, "submission": new_token()},
        lambda i: i.claimant(i.pool.noticed),
    ),
    "appeal": PageRoute(
        "claimant", "/claims/appeal", "appeal", "reason",
        lambda i: {"claim": i.pool.rejected, "submission": new_token()},
        lambda i: i.claimant(i.pool.rejected),
    ),
}  # fmt: skip


def _client(inst: Instance, role: str) -> FlaskClient:
    pool = inst.pool
    username = {
        "operator": OPERATOR,
        "objector": "member6",  # neither the claimant nor the objector already heard
        "claimant": pool.usernames[pool.claimants[pool.rejected]],
        "juror": pool.usernames[pool.juror],
    }[role]
    return sign_in(inst.app, username)


def _single_line(route_rule: str, text: str) -> bool:
    return TEXT_RULES[route_rule].multiline or "\n" not in text


def _refusals(
    inst: Instance,
    client: FlaskClient,
    path: str,
    rule: str,
    concerned: PrivateIdentity | None,
    fields: Callable[[str], dict[str, str]],
) -> list[str]:
    """Post every planted text; what was not refused as it must be."""
    token = csrf(client, "/")
    wrong = []
    for case, text in planted(concerned):
        if not _single_line(rule, text):
            continue
        response = client.post(path, data={"csrf_token": token, **fields(text)})
        page = text_of(response)
        said = _SENTENCE.search(page)
        where = expected(text, rule, concerned)
        if response.status_code != 400 or said is None or said.group(1) != str(where):
            wrong.append(f"{case}: {response.status_code} {said and said.group(0)} (at {where})")
    return wrong


#: Each page's steps: the operator's publishing forms have a confirm step
#: after the preview, which checks the text again; the others have one.
_STEPS = [
    (route, step)
    for route, spec in PAGES.items()
    for step in ("first", "confirm")
    if step == "first" or (spec.role == "operator" and route != "rules")
]


@pytest.mark.parametrize(("route", "step"), _STEPS)
def test_every_page_refuses_every_planted_text(instance: Instance, route: str, step: str) -> None:
    spec = PAGES[route]
    path = spec.path
    if step == "confirm":
        path = f"{path}/confirm"
    client = _client(instance, spec.role)
    before = instance.state()
    others = spec.fields(instance)
    wrong = _refusals(
        instance, client, path, spec.rule, spec.concerned(instance),
        lambda text: {**others, spec.field: text},
    )  # fmt: skip
    assert wrong == []
    assert instance.state() == before


@pytest.mark.parametrize("cast", [False, True], ids=["review", "cast"])
def test_the_jurors_reason_is_refused_at_both_steps(instance: Instance, cast: bool) -> None:
    client = _client(instance, "juror")
    before = instance.state()
    path = "/juror/vote/cast" if cast else "/juror/vote"
    concerned = instance.claimant(instance.pool.voting)
    wrong = _refusals(instance, client, path, "vote_reason", concerned, _vote(instance, cast))
    assert wrong == []
    assert instance.state() == before


def test_the_refusal_is_in_chinese_on_a_chinese_page(instance: Instance) -> None:
    client = _client(instance, "operator")
    client.set_cookie("lang", "zh_CN")
    response = client.post(
        "/operator/actions/notice",
        data={
            "csrf_token": csrf(client, "/"),
            "claim": instance.pool.filed,
            "text": "电话13912345678",
        },
    )
    assert response.status_code == 400
    assert "第 3 个字符起像是一个手机号" in text_of(response)
    before = instance.state()
    fields = {"csrf_token": csrf(client, "/"), "claim": instance.pool.filed, "text": CLEAN[2]}
    preview = text_of(client.post("/operator/actions/notice", data=fields))
    assert "发布这条公示？" in preview and "发布到日志" in preview and CLEAN[2] in preview
    assert instance.state() == before


# --- the commands -------------------------------------------------------------------


def _args(inst: Instance) -> list[str]:
    return [
        "--instance", str(inst.folder / "instance"),
        "--database-url", f"sqlite:///{inst.folder / 'pool.db'}",
        "pool",
    ]  # fmt: skip


COMMANDS: dict[str, tuple[str, Callable[[Instance, str], list[str]], bool]] = {
    "notice": ("notice", lambda i, t: ["notice", i.pool.filed, "--text", t], True),
    "notice-summary": (
        "notice_summary",
        lambda i, t: ["notice", i.pool.filed, "--text", CLEAN[6], "--grade", "tertiary-a",
                      "--province", "51", "--summary", t],
        True,
    ),
    "answer": (
        "answer",
        lambda i, t: ["answer", i.pool.noticed, str(i.pool.objection), "--text", t],
        True,
    ),
    "rules": (
        "rules_reason",
        lambda i, t: ["rules", "--file", str(i.folder / "rules.json"), "--effective", _future(),
                      "--reason", t],
        False,
    ),
    "override": (
        "override_reason", lambda i, t: ["override", "note", i.pool.filed, "--reason", t], True
    ),
    "erase-member": (
        "erasure_reason",
        lambda i, t: ["erase-member", i.pool.claimants[i.pool.filed], "--reason", t],
        True,
    ),
    "erase-evidence": (
        "erasure_reason", lambda i, t: ["erase-evidence", i.pool.filed, "--reason", t], True
    ),
}  # fmt: skip


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_refuses_every_planted_text(
    instance: Instance, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    rule, argv, about_filed = COMMANDS[command]
    (instance.folder / "rules.json").write_text('{"share.fee_rate_bp": 700}')
    concerned = None
    if about_filed:
        claim = instance.pool.noticed if command == "answer" else instance.pool.filed
        concerned = instance.claimant(claim)
    before = instance.state()
    wrong = []
    for case, text in planted(concerned):
        if not _single_line(rule, text):
            continue
        code = main([*_args(instance), *argv(instance, text)])
        out, err = capsys.readouterr()
        where = expected(text, rule, concerned)
        line = err.strip().splitlines()[-1] if err.strip() else ""
        leaked = [v for v in re.findall(r"[0-9]{7,}", text) if v in err]
        if code != 2 or out or f"character {where} starts" not in line or leaked:
            wrong.append(f"{case}: exit {code} {line!r} {leaked}")
    assert wrong == []
    assert instance.state() == before


# --- the pool itself, beneath the forms and the commands ------------------------------


def _details(summary: str) -> NoticeDetails:
    return NoticeDetails(HospitalGrade.TERTIARY_A, "51", summary)


def test_the_pools_operations_refuse_them_too(instance: Instance) -> None:
    pool_ = instance.pool
    before = instance.state()
    with instance.app.app_context():
        pool = current_pool()
        objector = next(m for m, u in pool_.usernames.items() if u == "member6")
        operations: list[tuple[str, PrivateIdentity, Callable[[str], object]]] = [
            ("notice", instance.claimant(pool_.filed),
             lambda t: pool.publish_notice(pool_.filed, t)),
            ("notice summary", instance.claimant(pool_.filed),
             lambda t: pool.publish_notice(pool_.filed, CLEAN[6], None, _details(t))),
            ("answer", instance.claimant(pool_.noticed),
             lambda t: pool.answer(pool_.noticed, pool_.objection, t)),
            ("objection", instance.claimant(pool_.noticed),
             lambda t: pool.file_objection(pool_.noticed, objector, t)),
            ("appeal", instance.claimant(pool_.rejected), lambda t: pool.appeal(pool_.rejected, t)),
            ("vote", instance.claimant(pool_.voting),
             lambda t: pool.seal_vote(pool_.voting, 1, pool_.juror, Choice.APPROVE, t)),
            ("override", instance.claimant(pool_.filed),
             lambda t: pool.override("note", pool_.filed, t)),
            ("erase member", instance.claimant(pool_.filed),
             lambda t: pool.erase_member(pool_.claimants[pool_.filed], t, None)),
            ("erase evidence", instance.claimant(pool_.filed),
             lambda t: pool.erase_evidence(pool_.filed, t, None)),
        ]  # fmt: skip
        wrong = []
        for name, concerned, operation in operations:
            for case, text in planted(concerned):
                if "\n" in text:
                    continue
                try:
                    operation(text)
                except PrivateDataError:
                    continue
                except Exception as e:  # any other answer is wrong
                    wrong.append(f"{name} {case}: {type(e).__name__} {e}")
                else:
                    wrong.append(f"{name} {case}: accepted")
    assert wrong == []
    assert instance.state() == before


# --- clean texts ----------------------------------------------------------------------


@pytest.mark.parametrize("text", CLEAN)
def test_clean_texts_pass_the_guard(instance: Instance, text: str) -> None:
    concerned = instance.claimant(instance.pool.filed)
    for rule in TEXT_RULES.values():
        assert accept(text, rule, concerned=[concerned]) == prepare(text, rule)


def test_clean_texts_are_published_by_the_pages_and_the_commands(
    instance: Instance, capsys: pytest.CaptureFixture[str]
) -> None:
    pool_ = instance.pool
    client = _client(instance, "operator")
    token = csrf(client, "/")
    fields = {"csrf_token": token, "claim": pool_.filed, "text": CLEAN[2]}
    preview = client.post("/operator/actions/notice", data=fields)
    assert preview.status_code == 200
    assert CLEAN[2] in text_of(preview) and "Publish to the log" in text_of(preview)
    done = client.post("/operator/actions/notice/confirm", data=fields)
    assert done.status_code == 302, text_of(done)
    code = main(
        [*_args(instance), "answer", pool_.noticed, str(pool_.objection), "--text", CLEAN[0]]
    )
    assert code == 0, capsys.readouterr()
    for n, text in enumerate(CLEAN):
        reason = f"{text} ({n})"
        code = main([*_args(instance), "override", "note", pool_.rejected, "--reason", reason])
        assert code == 0, capsys.readouterr()
    with instance.app.app_context():
        pool = current_pool()
        assert pool.notice(pool_.filed) is not None
        notice = pool.notice(pool_.filed)
        assert notice is not None and notice.text == prepare(CLEAN[2], NOTICE)
