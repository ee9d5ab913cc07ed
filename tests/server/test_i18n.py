"""Both languages: every message translated, catalogs compiled, the locale
chosen as documented, money and dates formatted per locale, and a refused
form that keeps what was typed.

The guards (every message has its Chinese; every ``.mo`` is its ``.po``
compiled) are each shown to fail on a planted fault, so a green run means
something.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from werkzeug.test import TestResponse

from server import create_app, i18n
from server.config import ConfigError
from server.db import make_engine, upgrade
from tests.clock import FixedClock
from tests.server.pool_helpers import (
    PDF,
    build_voting_pool,
    served_pool_app,
    sign_in,
)
from tests.server.test_web import make_app

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server"
TRANSLATIONS = SERVER / "translations"
#: The keywords the code marks strings with (Flask-Babel's lazy ones too).
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}
PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


# --- (a) every message has its Chinese -------------------------------------------------


def extracted(root: Path) -> Iterator[tuple[str, int, str]]:
    """(file, line, message id) for every string marked in ``root``, read
    with babel.cfg's mapping, as ``pybabel extract`` reads it."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    # babel.cfg names paths from the repository root ("server/**.py").
    prefix = "server/"
    method_map = [(p.removeprefix(prefix), m) for p, m in method_map]
    options_map = {p.removeprefix(prefix): o for p, o in options_map.items()}
    for name, line, message, _comments, _context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids[:1]:  # a plural is looked up by its singular
            yield name, line, msgid


def chinese(catalogs: Iterable[Path]) -> dict[str, bool]:
    """Message id -> translated (non-empty, not fuzzy) over the catalogs."""
    done: dict[str, bool] = {}
    for path in catalogs:
        with path.open("rb") as f:
            catalog = read_po(f)
        for message in catalog:
            if not message.id:
                continue
            msgid = message.id[0] if isinstance(message.id, tuple) else message.id
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            ok = not message.fuzzy and all(strings) and bool(strings)
            done[msgid] = done.get(msgid, False) or ok
    return done


def untranslated(root: Path, catalogs: Iterable[Path]) -> list[str]:
    known = chinese(catalogs)
    return sorted(
        {
            f"{name}:{line}: {msgid!r}"
            for name, line, msgid in extracted(root)
            if not known.get(msgid)
        }
    )


def zh_catalogs() -> list[Path]:
    return sorted(TRANSLATIONS.glob("*/zh_CN/LC_MESSAGES/messages.po"))


def test_every_message_has_its_chinese_translation() -> None:
    missing = untranslated(SERVER, zh_catalogs())
    assert not missing, f"{len(missing)} messages lack Chinese (docs/i18n.md):\n" + "\n".join(
        missing
    )


def test_the_guard_finds_a_planted_untranslated_string(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "view.py").write_text('from flask_babel import gettext as _\n_("Sign in")\n')
    (tmp_path / "templates" / "page.html").write_text(
        "{{ _('Sign in') }} {% trans %}A planted sentence{% endtrans %}\n"
    )
    (tmp_path / "form.py").write_text('from flask_babel import lazy_gettext as _l\n_l("Planted")\n')
    missing = untranslated(tmp_path, zh_catalogs())
    assert {m.split(": ", 1)[1] for m in missing} == {"'A planted sentence'", "'Planted'"}
    # A fuzzy or empty translation counts as none.
    po = tmp_path / "messages.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_CN\\n"\n\n'
        '#, fuzzy\nmsgid "A planted sentence"\nmsgstr "种下的句子"\n\n'
        'msgid "Planted"\nmsgstr ""\n',
        encoding="utf-8",
    )
    assert len(untranslated(tmp_path, [*zh_catalogs(), po])) == 2


def test_every_area_has_a_catalog_in_the_package() -> None:
    assert {p.parts[-4] for p in zh_catalogs()} == set(i18n.AREAS)
    for area in i18n.AREAS:
        assert (TRANSLATIONS / area / "zh_CN" / "LC_MESSAGES" / "messages.mo").is_file(), area


# --- (b) the committed .mo files are their .po files compiled -------------------------------


def compiled(po: Path) -> dict[object, object]:
    """The messages of ``po`` as ``pybabel compile`` writes them, read back."""
    with po.open("rb") as f:
        catalog = read_po(f)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return messages(read_mo(buffer))


def messages(catalog: Catalog) -> dict[object, object]:
    def frozen(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {frozen(m.id): frozen(m.string) for m in catalog if m.id}


def stale_catalogs(pos: Iterable[Path]) -> list[str]:
    stale = []
    for po in pos:
        with po.with_suffix(".mo").open("rb") as f:
            if messages(read_mo(f)) != compiled(po):
                stale.append(str(po.relative_to(po.parents[3])))
    return stale


def test_the_compiled_catalogs_are_up_to_date() -> None:
    stale = stale_catalogs(zh_catalogs())
    assert not stale, f"compile these (docs/i18n.md): {stale}"


def test_a_catalog_changed_but_not_compiled_is_found(tmp_path: Path) -> None:
    source = TRANSLATIONS / "core" / "zh_CN" / "LC_MESSAGES"
    copy = tmp_path / "core" / "zh_CN" / "LC_MESSAGES"
    copy.mkdir(parents=True)
    (copy / "messages.mo").write_bytes((source / "messages.mo").read_bytes())
    po = source.joinpath("messages.po").read_text(encoding="utf-8")
    assert 'msgstr "登录"' in po
    (copy / "messages.po").write_text(po.replace('msgstr "登录"', 'msgstr "登入"'), "utf-8")
    assert stale_catalogs([copy / "messages.po"]) == ["core/zh_CN/LC_MESSAGES/messages.po"]


# --- (b2) one word for one thing ---------------------------------------------------------------

#: Words the glossary (docs/i18n.md) puts aside, and the word it uses instead.
SET_ASIDE = {
    "陪审员": "评审员 (juror)",
    "赔付": "发放 (payout, paid)",
    "互助池": "互助计划 (the pool)",
    "成员": "会员 (member)",
    "你": "您 (addressing the reader)",
    "见证人": "见证方 (a witness)",
}


def translations(po: Path) -> dict[str, str]:
    """Message id -> its Chinese (a plural's forms joined), translated ones only."""
    with po.open("rb") as f:
        catalog = read_po(f)
    found = {}
    for message in catalog:
        if message.id and not message.fuzzy:
            msgid = message.id[0] if isinstance(message.id, tuple) else message.id
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if all(strings):
                found[str(msgid)] = " | ".join(map(str, strings))
    return found


def disagreements(pos: Iterable[Path]) -> list[str]:
    """Each message id that two catalogs translate differently.  Flask-Babel
    merges the catalogs and the last one wins, so such a string would read
    one way or the other depending on the order of AREAS."""
    seen: dict[str, dict[str, str]] = {}
    for po in pos:
        for msgid, string in translations(po).items():
            seen.setdefault(msgid, {})[po.parts[-4]] = string
    return sorted(
        f"{msgid!r}: " + "; ".join(f"{area} {s}" for area, s in areas.items())
        for msgid, areas in seen.items()
        if len(set(areas.values())) > 1
    )


def set_aside(pos: Iterable[Path]) -> list[str]:
    return sorted(
        f"{po.parts[-4]}: {msgid!r} says {word}, the glossary {instead}"
        for po in pos
        for msgid, string in translations(po).items()
        for word, instead in SET_ASIDE.items()
        if word in string
    )


def test_a_message_in_several_catalogs_reads_the_same_in_each() -> None:
    found = disagreements(zh_catalogs())
    assert not found, "one translation per message (docs/i18n.md):\n" + "\n".join(found)


def test_the_catalogs_use_the_glossarys_words() -> None:
    found = set_aside(zh_catalogs())
    assert not found, "the glossary (docs/i18n.md) says otherwise:\n" + "\n".join(found)


def test_a_planted_disagreement_and_a_set_aside_word_are_found(tmp_path: Path) -> None:
    po = TRANSLATIONS / "core" / "zh_CN" / "LC_MESSAGES" / "messages.po"
    planted = tmp_path / "planted" / "zh_CN" / "LC_MESSAGES" / "messages.po"
    planted.parent.mkdir(parents=True)
    planted.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_CN\\n"\n\n'
        'msgid "Sign in"\nmsgstr "登入"\n\n'
        'msgid "A planted sentence"\nmsgstr "你是互助池的成员"\n',
        encoding="utf-8",
    )
    assert disagreements([po, planted]) == ["'Sign in': core 登录; planted 登入"]
    assert [line.split(" says ")[1].split(",")[0] for line in set_aside([po, planted])] == [
        "互助池",
        "你",
        "成员",
    ]


# --- (c) which language -------------------------------------------------------------------


@pytest.fixture
def page_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def app(page_engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_app(page_engine.url.render_as_string(hide_password=False), tmp_path, clock)
    yield app
    app.extensions["mutualog"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def lang_of(response: TestResponse) -> str:
    found = re.search(r'<html lang="([^"]+)">', response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:200]
    return found.group(1)


def page(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        (None, None, "en"),
        (None, "zh-CN,zh;q=0.9", "zh-CN"),
        (None, "zh", "zh-CN"),
        (None, "zh-Hans", "zh-CN"),
        (None, "fr-FR, zh-TW;q=0.8, en;q=0.5", "zh-CN"),
        (None, "de, fr", "en"),
        (None, "en-GB,en;q=0.9", "en"),
        ("en", "zh-CN", "en"),
        ("zh_CN", "en-US", "zh-CN"),
        ("klingon", "zh-CN", "zh-CN"),
    ],
    ids=[
        "default",
        "accept-zh-CN",
        "accept-zh",
        "accept-zh-Hans",
        "accept-first-known",
        "accept-unknown",
        "accept-en",
        "cookie-en-beats-accept",
        "cookie-zh-beats-accept",
        "bad-cookie-ignored",
    ],
)
def test_cookie_beats_accept_language_beats_the_default(
    client: FlaskClient, cookie: str | None, accept: str | None, expected: str
) -> None:
    if cookie:
        client.set_cookie(i18n.LANG_COOKIE, cookie)
    response = client.get("/login", headers={"Accept-Language": accept} if accept else {})
    assert response.status_code == 200
    assert lang_of(response) == expected
    text = page(response)
    if expected == "zh-CN":
        assert "用户名" in text and ">Username<" not in text
    else:
        assert ">Username<" in text and "用户名" not in text
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


def test_the_configured_default_is_chinese_unless_set(
    page_engine: Engine, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(i18n.DEFAULT_LOCALE)
    url = page_engine.url.render_as_string(hide_password=False)
    app = make_app(url, tmp_path, clock)
    try:
        assert lang_of(app.test_client().get("/")) == "zh-CN"
    finally:
        app.extensions["mutualog"].engine.dispose()


@pytest.mark.parametrize(
    ("setting", "value"),
    [(i18n.DEFAULT_LOCALE, "fr"), (i18n.TIMEZONE, "Mars/Olympus_Mons")],
)
def test_a_bad_language_or_time_zone_setting_is_refused(
    tmp_path: Path, setting: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=setting):
        create_app({"MUTUALOG_INSTANCE": tmp_path, setting: value})


def test_the_switch_keeps_the_page_and_remembers_the_choice(client: FlaskClient) -> None:
    home = page(client.get("/login?next=/dashboard"))
    assert 'href="/lang/zh_CN?next=/login?next%3D/dashboard"' in home.replace("&amp;", "&")
    response = client.get("/lang/zh_CN", query_string={"next": "/login?next=/dashboard"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/dashboard"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=zh_CN;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie
    chinese_page = client.get("/login", headers={"Accept-Language": "en"})
    assert lang_of(chinese_page) == "zh-CN"
    assert 'aria-current="true">中文' in page(chinese_page)
    client.get("/lang/en?next=/")
    assert lang_of(client.get("/login", headers=ZH)) == "en"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "evil.example", ""],
)
def test_the_switch_refuses_to_send_anyone_to_another_site(
    client: FlaskClient, target: str
) -> None:
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_switch_knows_only_its_languages(client: FlaskClient) -> None:
    response = client.get("/lang/fr?next=/", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "Set-Cookie" not in response.headers or "lang=" not in response.headers["Set-Cookie"]


def test_the_read_path_and_the_api_do_not_vary_by_language(client: FlaskClient) -> None:
    for path in ("/static/style.css", "/api/v1/openapi.json"):
        response = client.get(path, headers=ZH)
        response.close()
        assert "Accept-Language" not in response.vary, path


def test_error_pages_speak_both_languages(client: FlaskClient) -> None:
    html_accept = {"Accept": "text/html"}
    english = client.get("/no/such/page", headers=html_accept)
    assert english.status_code == 404 and "There is no page at this address" in page(english)
    chinese_page = client.get("/no/such/page", headers={**html_accept, **ZH})
    assert chinese_page.status_code == 404
    assert lang_of(chinese_page) == "zh-CN" and "找不到页面" in page(chinese_page)
    assert "Page not found" not in page(chinese_page)
    wrong = client.get("/logout", headers={**html_accept, **ZH})
    assert wrong.status_code == 405 and "这里不能进行此操作" in page(wrong)


# --- (d) money, numbers, dates -----------------------------------------------------------------

MIDNIGHT = dt.datetime(2026, 1, 1, 16, 0, tzinfo=dt.UTC)  # 2026-01-02 00:00 in Shanghai


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (
            "en",
            {
                "yuan": ["¥1,234.56", "-¥0.30", "¥0.00", "¥12,345,678.90"],
                "number": "1,234,567",
                "before": "Jan 1, 2026",
                "after": "Jan 2, 2026",
                "datetime": "Jan 2, 2026, 12:30\u202fAM",  # CLDR: a narrow space
                "month": "Mar 2026",
                "day": "Mar 14, 2026",
                "words": ["other serious illness", "jurors voting", "too few votes", "approve"],
            },
        ),
        (
            "zh-CN",
            {
                "yuan": ["¥1,234.56", "-¥0.30", "¥0.00", "¥12,345,678.90"],
                "number": "1,234,567",
                "before": "2026年1月1日",
                "after": "2026年1月2日",
                "datetime": "2026年1月2日 00:30",
                "month": "2026年3月",
                "day": "2026年3月14日",
                "words": ["其他重大疾病", "评审员投票中", "票数不足", "同意"],
            },
        ),
    ],
    ids=["en", "zh"],
)
def test_money_numbers_and_dates_per_locale(
    app: Flask, accept: str, expected: dict[str, object]
) -> None:
    with app.test_request_context("/", headers={"Accept-Language": accept}):
        assert [i18n.yuan(f) for f in (123456, -30, 0, 1234567890)] == expected["yuan"]
        assert i18n.number(1234567) == expected["number"]
        # Across the UTC midnight: 15:59 UTC is still Jan 1 in Shanghai, 16:00 is Jan 2.
        assert i18n.date(MIDNIGHT - dt.timedelta(minutes=1)) == expected["before"]
        assert i18n.date(MIDNIGHT) == expected["after"]
        assert i18n.date("2026-01-01T16:00:00Z") == expected["after"]
        assert i18n.date(MIDNIGHT.replace(tzinfo=None)) == expected["after"]  # naive is UTC
        assert i18n.datetime(MIDNIGHT + dt.timedelta(minutes=30)) == expected["datetime"]
        assert i18n.month("2026-03") == expected["month"]
        # A calendar date is that day, whatever the zone.
        assert i18n.date(dt.date(2026, 3, 14)) == expected["day"]
        assert i18n.date("2026-03-14") == expected["day"]
        words = [
            i18n.category("other_serious"),
            i18n.stage("voting"),
            i18n.outcome("no_quorum"),
            i18n.choice("approve"),
        ]
        assert words == expected["words"]
        # A code the pages do not know is shown as it is.
        assert i18n.category("rare_disease") == "rare_disease"
        assert i18n.stage("unknown") == "unknown"


def test_the_time_zone_is_configurable(
    page_engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    app = create_app(
        {
            "MUTUALOG_INSTANCE": tmp_path,
            "MUTUALOG_DATABASE_URL": page_engine.url.render_as_string(hide_password=False),
            i18n.TIMEZONE: "UTC",
        }
    )
    try:
        with app.test_request_context("/", headers={"Accept-Language": "en"}):
            assert i18n.date(MIDNIGHT - dt.timedelta(minutes=1)) == "Jan 1, 2026"
            assert i18n.datetime(MIDNIGHT) == "Jan 1, 2026, 4:00\u202fPM"
    finally:
        app.extensions["mutualog"].engine.dispose()


def test_the_filters_are_there_for_templates(app: Flask) -> None:
    with app.test_request_context("/", headers=ZH):
        template = app.jinja_env.from_string(
            "{{ 123456 | yuan }} {{ 1234567 | number }} {{ '2026-03' | month }} "
            "{{ 'cancer' | category }} {{ html_lang }}"
        )
        assert template.render(html_lang=i18n.html_lang()) == (
            "¥1,234.56 1,234,567 2026年3月 恶性肿瘤（癌症） zh-CN"  # noqa: RUF001
        )


# --- an expired form keeps what was typed ---------------------------------------------------


def token(client: FlaskClient, path: str) -> str:
    found = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


@pytest.mark.parametrize(
    ("accept", "notice"),
    [
        ("en", "This page was open too long"),
        ("zh-CN", "页面打开时间过长"),
    ],
    ids=["en", "zh"],
)
@pytest.mark.parametrize("bad", ["missing", "expired"])
def test_an_expired_form_comes_back_with_what_was_typed(
    client: FlaskClient, page_engine: Engine, accept: str, notice: str, bad: str
) -> None:
    fields = {"username": "alice_typed", "password": PASSWORD, "confirm": PASSWORD}
    if bad == "expired":
        # A token of this session, made long ago: past the time limit.
        fields["csrf_token"] = token(client, "/register")
        client.application.config["WTF_CSRF_TIME_LIMIT"] = -1
    response = client.post("/register", data=fields, headers={"Accept-Language": accept})
    assert response.status_code == 400
    shown = page(response)
    assert notice in shown
    assert 'value="alice_typed"' in shown
    assert PASSWORD not in shown  # a password is never written back into a page
    assert ("Passwords are never kept" if accept == "en" else "密码不会保留") in shown
    assert re.search(r'name="csrf_token"[^>]*value="[^"]+"', shown), "a fresh token to resubmit"
    with page_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM accounts")).scalar() == 0


def test_a_refused_sign_out_is_refused_plainly(client: FlaskClient) -> None:
    # Not a form view: the plain refusal page, in the visitor's language.
    response = client.post("/logout", headers=ZH)
    assert response.status_code == 400
    assert "安全令牌" in page(response) and lang_of(response) == "zh-CN"


@pytest.fixture
def pool_app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    yield from served_pool_app(engine, tmp_path, clock)


@pytest.mark.parametrize("accept", ["en", "zh-CN"])
def test_an_expired_claim_form_keeps_the_text_and_names_the_files(
    pool_app: Flask, clock: FixedClock, accept: str
) -> None:
    pool = build_voting_pool(pool_app, clock)
    member = sign_in(pool_app, pool.usernames[pool.outsider])
    engine = pool_app.extensions["mutualog"].engine
    before = _log_size(engine)
    response = member.post(
        "/claims/new",
        data={
            "category": "stroke",
            "amount": "31234.50",
            "diagnosed": clock().date().isoformat(),
            "medical_consent": "y",
            "evidence": (io.BytesIO(PDF), "discharge.pdf", "application/pdf"),
        },
        headers={"Accept-Language": accept},
    )
    assert response.status_code == 400
    shown = page(response)
    assert 'value="31234.50"' in shown
    assert re.search(r'<option selected value="stroke">|<option value="stroke" selected', shown)
    if accept == "en":
        assert "This page was open too long" in shown
        assert "choose them again in: Evidence documents" in shown
    else:
        assert "页面打开时间过长" in shown and "请重新选择" in shown
    assert "discharge.pdf" not in shown
    assert _log_size(engine) == before


def _log_size(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM entries")).scalar() or 0)
