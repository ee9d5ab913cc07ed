"""The client's human output in Chinese (``LANG=zh_CN.UTF-8``) and English.

Every command runs in this process under both languages: its human output
is Chinese under ``zh_CN`` (no English sentence left beside ids, hashes,
paths and commands), exactly the English it always was under ``C`` and
``en_US``, and its ``--json`` output is byte for byte the same in both.
The catalog itself is checked too: every string marked in ``client/`` has
a Chinese translation, and the committed ``.mo`` is what the ``.po``
compiles to."""

# ruff: noqa: RUF001 - the Chinese output's full-width punctuation is what is tested

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from client import details
from client.cli import main
from client.i18n import _, activate, check_label, languages, load
from tests.client.demo_pool import DemoPool, demo_pool
from tests.client.harness import ORIGIN, LogInstance, MakeLog, Result, Served, Servers
from tests.client.test_receipt import World, write
from tests.client.test_receipt import world as world  # the fixture, shared

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "client" / "locale" / "zh_CN" / "LC_MESSAGES"

ZH = "zh_CN.UTF-8"
LANGS = ("C", "en_US.UTF-8", ZH)


def run(lang: str, *argv: str | Path) -> Result:
    """The client run in this process with ``LANG=lang`` and nothing else
    asking for a language."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as env:
        for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
            env.delenv(name, raising=False)
        env.setenv("LANG", lang)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in argv])
    assert "Traceback" not in err.getvalue(), err.getvalue()
    return Result(code, out.getvalue(), err.getvalue())


@dataclass(frozen=True)
class Scenario:
    """One command's run: its argv after ``--state DIR``, the exit code it
    gives, and what its Chinese output must contain."""

    name: str
    argv: tuple[str | Path, ...]
    code: int
    expect: tuple[str, ...]
    state: Path


def _state(folder: Path, *setup: tuple[str, ...]) -> Path:
    """A state folder after running ``setup`` (in English)."""
    for argv in setup:
        result = run("C", "--state", folder, *argv)
        assert result.code == 0, result.out + result.err
    return folder


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, servers: Servers) -> DemoPool:
    return demo_pool(tmp_path_factory.getbasetemp(), servers)


def _log_scenarios(
    new: Callable[[str], Path], served_log: tuple[LogInstance, Served], world: World
) -> list[Scenario]:
    """trust, sync, audit and verify-receipt."""
    log, served = served_log
    trust = ("trust", ORIGIN, log.vkey)
    synced = _state(new("synced"), trust, ("sync", served.url))
    receipt = ("verify-receipt", write(new("receipt"), world.receipt), "--key", world.vkey)
    return [
        Scenario("trust", trust, 0, ("已固定",), new("trust")),
        Scenario("sync first", ("sync", served.url), 0, ("首次",), _state(new("s1"), trust)),
        Scenario("sync again", ("sync", served.url), 0, ("同一棵树",), synced),
        Scenario("sync refused", ("sync", "http://127.0.0.1:9/"), 2, ("连接被拒绝",), synced),
        Scenario("sync bad url", ("sync", "ftp://example.org/"), 2, ("网址",), synced),
        Scenario("audit example", ("audit", "--example"), 0, ("日志", "规则"), new("audit")),
        Scenario("audit url", ("audit", served.url), 0, ("与上次同步一致",), synced),
        Scenario("verify-receipt", receipt, 0, ("投票", "承诺"), new("r1")),
        Scenario(
            "verify-receipt log", (*receipt, "--log", world.after_close), 0, ("计票",), new("r2")
        ),
        Scenario(
            "verify-receipt pending",
            (*receipt, "--log", world.before_close),
            2,
            ("等待", "NOT YET VERIFIABLE"),
            new("r3"),
        ),
    ]


def _impostor_scenarios(
    new: Callable[[str], Path],
    served_log: tuple[LogInstance, Served],
    make_log: MakeLog,
    servers: Servers,
) -> list[Scenario]:
    """A log of the same origin signed by another key: sync keeps evidence,
    trust refuses the other key."""
    log, _ = served_log
    impostor = make_log(10)
    served = servers.serve(impostor)
    pinned = _state(new("impostor"), ("trust", ORIGIN, log.vkey))
    return [
        Scenario(
            "sync another key",
            ("sync", served.url),
            1,
            ("[失败] 签名（signature）：签名文本：没有任何已知密钥的签名", "证据已保存在"),
            pinned,
        ),
        Scenario(
            "trust another key", ("trust", ORIGIN, impostor.vkey), 2, ("拒绝另一个密钥",), pinned
        ),
    ]


def _member_scenarios(new: Callable[[str], Path], demo: DemoPool) -> list[Scenario]:
    """fetch, verify-deduction and verify-claim against the demo pool."""
    trust = ("trust", demo.log.origin, demo.log.vkey)
    period, member, claim = str(demo.period()), demo.member(demo.period()), demo.paid_claim()
    bundles = new("bundles")
    deduction, claim_bundle, tampered = (bundles / f"{n}.json" for n in ("d", "c", "t"))
    fetch_deduction = ("fetch", "deduction", "--member", member, "--period", period, "-o")
    fetched = _state(
        new("fetched"),
        trust,
        (*fetch_deduction, str(deduction), demo.url),
        ("fetch", "claim", claim, "-o", str(claim_bundle), demo.url),
    )
    data = json.loads(deduction.read_text())
    data["deduction"]["paid"][0][1] += 1
    tampered.write_text(json.dumps(data))
    verify = ("verify-deduction", "--member", member, "--period", period, "--bundle")
    trusted = _state(new("trusted"), trust)
    return [
        Scenario("verify-deduction", (*verify, deduction), 0, ("会员", "每人分摊"), fetched),
        Scenario(
            "verify-deduction tampered",
            (*verify, tampered),
            1,
            ("[失败]", "核验未通过 NOT VERIFIED"),
            fetched,
        ),
        Scenario(
            "verify-claim",
            ("verify-claim", claim, "--bundle", claim_bundle),
            0,
            ("互助申请 ", "进度（stage）：", "已发放"),
            fetched,
        ),
        Scenario(
            "fetch deduction",
            (*fetch_deduction, bundles / "again-d.json", demo.url),
            0,
            ("抽查 3 个互助申请",),
            trusted,
        ),
        Scenario(
            "fetch claim",
            ("fetch", "claim", claim, "-o", bundles / "again-c.json", demo.url),
            0,
            ("已保存",),
            trusted,
        ),
        Scenario("no bundle", ("verify-claim", claim), 2, ("无法核验",), trusted),
    ]


@pytest.fixture(scope="module")
def scenarios(
    tmp_path_factory: pytest.TempPathFactory,
    served_log: tuple[LogInstance, Served],
    demo: DemoPool,
    world: World,
    make_log: MakeLog,
    servers: Servers,
) -> dict[str, Scenario]:
    def new(name: str) -> Path:
        return tmp_path_factory.mktemp(name)

    listed = [
        *_log_scenarios(new, served_log, world),
        *_impostor_scenarios(new, served_log, make_log, servers),
        *_member_scenarios(new, demo),
    ]
    return {s.name: s for s in listed}


@pytest.fixture(scope="module")
def outputs(
    scenarios: dict[str, Scenario], tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], Result]:
    """Each scenario's human output in each language, each from a copy of
    its state folder so that one run does not change what the next sees."""
    import shutil

    found: dict[tuple[str, str], Result] = {}
    for s in scenarios.values():
        for lang in LANGS:
            folder = tmp_path_factory.mktemp("run") / "state"
            if s.state.exists():
                shutil.copytree(s.state, folder)
            found[s.name, lang] = run(lang, "--state", folder, *s.argv)
    return found


# --- Chinese ---------------------------------------------------------------------------

ALLOWED = re.compile(
    r"""
      `[^`]*`                              # a command
    | \b[a-z]+://\S*                       # a URL, a scheme
    | \bNOT\ YET\ VERIFIABLE\b | \bNOT\ VERIFIED\b | \bVERIFIED\b
    | \b[a-z]+(\.[a-z]+)+\b                # an entry type: vote.sealed, pool.rules
    | [\w.-]*/[\w./%+-]*                   # a path, a URL, an origin
    | \b[A-Za-z0-9+/]{20,}={0,2}           # a key, base64
    | \b[0-9a-f]{8,}\b | \b[0-9a-f]+…      # a hash or an id
    | \bmutualog(-server)?\b | --[a-z-]+ | \b[A-Z_]{2,}\b   # names, options, metavars
    | \b(claims_root|roster_root|fee_rate_bp|surplus_in|surplus_out|tree_size|leaf_index)\b
    | \b(approve|reject|approved|rejected)\b     # a vote's choice as the log writes it
    | \b\d{4}-\d{2}-\d{2}(T[\d:]+Z?)?\b
    """,
    re.VERBOSE,
)


def english_left(text: str, ids: set[str]) -> list[str]:
    """The English words in ``text`` beside ids, hashes, paths and commands."""
    for check_id in sorted(ids, key=len, reverse=True):
        text = text.replace(f"（{check_id}）", "")
    text = ALLOWED.sub(" ", text)
    return re.findall(r"\b[A-Za-z]{2,}\b", text)


def check_ids(result: Result) -> set[str]:
    return set(re.findall(r"（([a-z ]+)）", result.out + result.err))


@pytest.mark.parametrize(
    "name",
    [
        "trust",
        "sync first",
        "sync again",
        "sync refused",
        "sync bad url",
        "sync another key",
        "trust another key",
        "audit example",
        "audit url",
        "verify-receipt",
        "verify-receipt log",
        "verify-receipt pending",
        "verify-deduction",
        "verify-deduction tampered",
        "verify-claim",
        "fetch deduction",
        "fetch claim",
        "no bundle",
    ],
)
def test_the_human_output_is_chinese_under_zh_cn(
    name: str, scenarios: dict[str, Scenario], outputs: dict[tuple[str, str], Result]
) -> None:
    s, zh, en = scenarios[name], outputs[name, ZH], outputs[name, "C"]
    assert zh.code == en.code == s.code, zh.out + zh.err
    text = zh.out + zh.err
    for expected in s.expect:
        assert expected in text, text
    left = english_left(text, check_ids(zh))
    assert not left, f"untranslated words {left} in:\n{text}"
    # The same lines, one for one: nothing dropped or added by translating.
    assert len(zh.out.splitlines()) == len(en.out.splitlines())


def test_check_ids_stay_beside_their_chinese_labels(
    outputs: dict[tuple[str, str], Result],
) -> None:
    zh = outputs["verify-deduction", ZH].out
    assert "[通过] 检查点签名（checkpoint）：" in zh
    assert "[通过] 已发放互助金的申请清单（paid claims）：" in zh
    assert zh.rstrip().endswith("核验通过 VERIFIED")
    failed = outputs["verify-deduction tampered", ZH].out
    assert "[失败] 已发放互助金的申请清单（paid claims）：" in failed
    assert "         位置：" in failed and "         应为：" in failed


# --- English, unchanged ------------------------------------------------------------------


def test_english_is_the_same_under_c_and_en_us(outputs: dict[tuple[str, str], Result]) -> None:
    for (name, lang), result in outputs.items():
        if lang != "en_US.UTF-8":
            continue
        c = outputs[name, "C"]
        # Each run has its own state folder (run<N>), and evidence is named
        # for the time; fetch's sample is drawn at random, so its counts vary.
        mask = r"\d+" if name == "fetch deduction" else r"(?<=/run)\d+|\d{8}T\d{6}Z"
        result, c = (Result(r.code, re.sub(mask, "N", r.out), r.err) for r in (result, c))
        assert result == c, name


EXAMPLE_AUDIT = """\
log     example.org/mutualog/example
source  {source}
size    301   root 57738c1a502db793e2b042266670dc3478d10b38d21463fb0a3ceba0ecd78678
[ok  ] checkpoint: signed by example.org/mutualog/example, size 301
[ok  ] tiles and entries: 301 entries: every tile hashes to the root, every entry is canonical \
and chained
[ok  ] snapshot layout: exactly the log's checkpoint, tiles and bundles
[ok  ] rules: 301 entries replayed under the logged rules: 300 members, 0 claims, 0 periods \
closed, money conserved to the fen
[skip] verifier page: a snapshot or folder holds no page: audit the pool server's URL, or give a \
saved copy with --page FILE
VERIFIED
"""


def test_english_audit_of_the_example_is_as_it_was(
    outputs: dict[tuple[str, str], Result],
) -> None:
    from client.commands.common import example_log

    result = outputs["audit example", "C"]
    assert result.out == EXAMPLE_AUDIT.format(source=example_log()[0])


# --- --json: no language ------------------------------------------------------------------

JSON_SCENARIOS = [
    "sync again",
    "audit example",
    "audit url",
    "verify-receipt",
    "verify-receipt log",
    "verify-receipt pending",
    "verify-deduction",
    "verify-deduction tampered",
    "verify-claim",
]


@pytest.mark.parametrize("name", JSON_SCENARIOS)
def test_json_is_byte_identical_in_every_language(
    name: str, scenarios: dict[str, Scenario], tmp_path: Path
) -> None:
    import shutil

    s = scenarios[name]
    printed = []
    for lang in LANGS:
        folder = tmp_path / lang / "state"
        if s.state.exists():
            shutil.copytree(s.state, folder)
        result = run(lang, "--state", folder, *s.argv, "--json")
        assert result.code == s.code
        printed.append(result.out)
        report = json.loads(result.out)
        assert not re.search(r"[\u4e00-\u9fff]", result.out)
        assert report["checks"]
    assert printed[0] == printed[1] == printed[2]


def test_every_check_id_has_a_chinese_label(scenarios: dict[str, Scenario], tmp_path: Path) -> None:
    import shutil

    names: set[str] = {"rules"}
    for name in JSON_SCENARIOS:
        s = scenarios[name]
        folder = tmp_path / name / "state"
        if s.state.exists():
            shutil.copytree(s.state, folder)
        names |= {
            c["name"]
            for c in json.loads(run("C", "--state", folder, *s.argv, "--json").out)["checks"]
        }
    with activate(load({"LANG": ZH})):
        missing = [n for n in sorted(names) if check_label(n) == n]
    assert not missing


def test_the_english_detector_sees_an_english_sentence() -> None:
    assert english_left("[通过] 签名（signature）：signed by the pinned key", {"signature"}) == [
        "signed",
        "by",
        "the",
        "pinned",
        "key",
    ]
    line = "日志    example.org/mutualog/test  `mutualog sync URL` 3f1c0a9b VERIFIED"
    assert english_left(line, set()) == []


# --- the language asked for ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "chinese"),
    [
        ({"LANG": ZH}, True),
        ({"LANG": "zh_CN"}, True),
        ({"LANG": "C"}, False),
        ({"LANG": "en_US.UTF-8"}, False),
        ({}, False),
        ({"LANGUAGE": "zh_CN:en", "LANG": "C"}, True),
        ({"LANGUAGE": "en:zh_CN", "LANG": ZH}, False),
        ({"LANGUAGE": "en_GB.UTF-8:zh_CN"}, False),
        ({"LANGUAGE": "fr:zh_CN"}, True),
        ({"LC_ALL": "C", "LANG": ZH}, False),
        ({"LC_MESSAGES": ZH, "LANG": "C"}, True),
        ({"LANG": "fr_FR.UTF-8"}, False),
    ],
    ids=lambda v: str(v),
)
def test_the_language_follows_the_environment_as_gettext_does(
    environ: dict[str, str], chinese: bool
) -> None:
    with activate(load(environ)):
        assert (_("VERIFIED") == "核验通过 VERIFIED") is chinese


def test_languages_reads_the_variables_in_gettext_order() -> None:
    assert languages({"LANGUAGE": "zh_CN:en", "LC_ALL": "C"}) == ["zh_CN", "en"]
    assert languages({"LANGUAGE": "", "LC_ALL": "de_DE", "LANG": ZH}) == ["de_DE"]
    assert languages({}) == []


def test_each_run_has_its_own_language(served_log: tuple[LogInstance, Served]) -> None:
    """Nothing is installed globally: a Chinese run leaves the next one English,
    and outside a run the source strings come back."""
    assert run(ZH, "audit", "--example").out.rstrip().endswith("核验通过 VERIFIED")
    assert (
        run("C", "audit", "--example")
        .out.rstrip()
        .endswith(
            "\n[ok  ] rules: "
            + (
                "301 entries replayed under the logged rules: 300 members, 0 claims, "
                "0 periods closed, money conserved to the fen\n[skip] verifier page: a snapshot "
                "or folder holds no page: audit the pool server's URL, or give a saved copy "
                "with --page FILE\nVERIFIED"
            )
        )
    )
    assert _("VERIFIED") == "VERIFIED"
    assert check_label("checkpoint") == "checkpoint"


# --- the catalog ---------------------------------------------------------------------------


def extracted(folder: Path) -> set[tuple[str | None, str]]:
    """The (context, msgid) pairs marked in the Python files under ``folder``,
    with the keywords docs/client.md gives ``pybabel extract``."""
    from babel.messages.extract import DEFAULT_KEYWORDS

    keywords = {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(folder), method_map=[("**.py", "python")], keywords=keywords
    ):
        found.add((context, message if isinstance(message, str) else message[0]))
    return found


def untranslated(catalog: Catalog, wanted: set[tuple[str | None, str]]) -> list[str]:
    """Each wanted message that has no Chinese translation, or only a fuzzy
    one, or is not in the catalog at all."""
    problems = []
    for context, msgid in sorted(wanted, key=lambda m: (m[0] or "", m[1])):
        message = catalog.get(msgid, context=context)
        if message is None:
            problems.append(f"not in the catalog: {msgid!r}")
        else:
            strings = [message.string] if isinstance(message.string, str) else message.string
            if message.fuzzy or not strings or not all(strings):
                problems.append(f"not translated: {msgid!r}")
    return problems


def _catalog() -> Catalog:
    with open(CATALOG / "mutualog.po", "rb") as f:
        return read_po(f, locale="zh_CN")


def test_every_marked_message_has_a_chinese_translation() -> None:
    catalog = _catalog()
    wanted = extracted(ROOT / "client")
    assert len(wanted) > 250  # the extraction found the marked strings
    assert untranslated(catalog, wanted) == []
    stale = {(m.context, m.id) for m in catalog if m.id} - wanted
    assert not stale, f"in the catalog but no longer in client/: {sorted(stale, key=str)}"


def test_a_planted_untranslated_message_is_caught(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from client.i18n import _\n"
        "from client.details import NP_\n"
        "_('a sentence nobody translated')\n"
        "NP_('check', 'a planted check')\n"
    )
    catalog = _catalog()
    wanted = extracted(ROOT / "client") | extracted(tmp_path)
    assert set(untranslated(catalog, wanted)) == {
        "not in the catalog: 'a planted check'",
        "not in the catalog: 'a sentence nobody translated'",
    }
    catalog.add("a sentence nobody translated", "")
    catalog["VERIFIED"].flags.add("fuzzy")
    assert set(untranslated(catalog, wanted)) == {
        "not in the catalog: 'a planted check'",
        "not translated: 'a sentence nobody translated'",
        "not translated: 'VERIFIED'",
    }


#: Words the glossary (docs/i18n.md) puts aside, and the word it uses instead;
#: the server's catalogs are held to the same list (tests/server/test_i18n.py).
SET_ASIDE = {
    "陪审员": "评审员 (juror)",
    "赔付": "发放 (payout, paid)",
    "互助池": "互助计划 (the pool)",
    "成员": "会员 (member)",
    "你": "您 (addressing the reader)",
    "见证人": "见证方 (a witness)",
}


def test_the_catalog_keeps_to_the_glossary() -> None:
    found = sorted(
        f"{message.id!r} says {word}, the glossary {instead}"
        for message in _catalog()
        if message.id
        for string in (
            [message.string] if isinstance(message.string, str) else message.string or ()
        )
        for word, instead in SET_ASIDE.items()
        if word in string
    )
    assert not found, "one word for one thing (docs/i18n.md):\n" + "\n".join(found)


def test_the_committed_mo_is_the_compiled_po() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, _catalog())
    assert (CATALOG / "mutualog.mo").read_bytes() == compiled.getvalue()


def test_the_compiled_catalog_ships_in_the_package() -> None:
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "locale/**/*" in data["tool"]["setuptools"]["package-data"]["client"]
    assert details.TEMPLATES and details.CHECK_LABELS
