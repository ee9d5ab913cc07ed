"""The verifier page's build (server/verifier/build.py): reproducible bytes,
the CLI that writes them, the module forms it refuses, and the route that
serves exactly them under a CSP naming the inline script and style."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from flask import Flask

from server import cli as server_cli
from server.db import make_engine, upgrade
from server.private.sealing import Sealer
from server.verifier import build, strings
from server.verifier.build import BuildError, Module, bundle_script, csp, page_bytes, parse_module
from server.verifier.strings import STRINGS
from tests.clock import FixedClock
from tests.server.test_web import make_app

ROOT = Path(__file__).resolve().parents[3]

BUILD_TWICE = """
import hashlib, sys
from server.verifier.build import page_bytes
sys.stdout.write(hashlib.sha256(page_bytes()).hexdigest())
"""


def test_two_builds_in_fresh_processes_give_the_same_bytes() -> None:
    digests = {
        subprocess.run(
            [sys.executable, "-c", BUILD_TWICE],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        ).stdout
        for seed in ("1", "2")
    }
    assert digests == {hashlib.sha256(page_bytes()).hexdigest()}


def test_the_page_is_one_file_with_lf_newlines_and_no_request_elsewhere() -> None:
    text = page_bytes().decode("utf-8")
    assert "\r" not in text
    assert text.count("<script") == 2  # the words (data, never run) and the code
    assert '<script type="application/json" id="strings">' in text
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|<img\b|@import|url\(", text)
    assert not re.search(r"https?://", text), "no other host is named in the page"
    assert not re.search(r"^\s*(import|export)\b", text, re.MULTILINE)
    assert "const m_page_main = (() => {" in text


def test_both_languages_words_come_from_the_catalog() -> None:
    text = page_bytes().decode("utf-8")
    words = re.search(r'id="strings">(.*?)</script>', text, re.DOTALL)
    assert words
    table = json.loads(words.group(1))
    assert table["en"] == STRINGS
    assert set(table["zh"]) == set(STRINGS)
    assert table["zh"]["result.verified"] == "已核实"
    assert all(table["zh"][k] != STRINGS[k] for k in STRINGS)


def test_a_word_without_its_chinese_stops_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(strings.STRINGS, "planted", "A sentence nobody translated")
    with pytest.raises(BuildError, match="no Chinese for 'A sentence nobody translated'"):
        build.strings_json()


def _sources(files: dict[str, str]) -> Callable[[str], Module | None]:
    """A reader of these modules by key, each parsed only when the build asks."""

    def read(key: str) -> Module | None:
        return parse_module(key, files[key], f"{key}.js") if key in files else None

    return read


def test_modules_become_scopes_in_dependency_order() -> None:
    modules = _sources(
        {
            "page/main": 'import { twice } from "../js/b.js";\nexport const RESULT = twice(2);\n',
            "js/b": (
                'import {\n  ONE,\n  add,\n} from "./a.js";\n'
                "export function twice(x) {\n  return add(x, x) * ONE;\n}\n"
            ),
            "js/a": (
                "export const ONE = 1;\n"
                "export async function add(x, y) {\n  return x + y;\n}\n"
                "const hidden = 3;\n"
            ),
            "js/unused": "export default 1;\n",
        }
    )
    script = bundle_script(modules)
    assert (
        script.index("const m_js_a =")
        < script.index("const m_js_b =")
        < script.index("m_page_main =")
    )
    assert "const { ONE, add } = m_js_a;" in script
    assert "const { twice } = m_js_b;" in script
    assert "return { ONE, add };" in script
    assert "const hidden = 3;" in script  # a private name stays in its module's scope
    assert "export" not in script
    assert "unused" not in script  # only what the page imports


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("export default function f() {}\n", 1, "an import or export form"),
        ("const a = 1;\nexport { a };\n", 2, "an import or export form"),
        ('export * from "./a.js";\n', 1, "an import or export form"),
        ('export { a } from "./a.js";\n', 1, "an import or export form"),
        ('import * as a from "./a.js";\n', 1, "an import or export form"),
        ('import a from "./a.js";\n', 1, "an import or export form"),
        ('import { a as b } from "./a.js";\n', 1, "an import or export form"),
        ('import { a } from "https://example.org/a.js";\n', 1, "an import or export form"),
        ('import { a } from "./a.mjs";\n', 1, "an import or export form"),
        ('import "./a.js";\n', 1, "an import or export form"),
        ("export let a = 1;\n", 1, "an import or export form"),
        ("export const { a, b } = c;\n", 1, "an import or export form"),
        ('function f() {\n  return import("./a.js");\n}\n', 2, "a dynamic import"),
        ("const u = import.meta.url;\n", 1, "import.meta"),
        ('const s = "</script>";\n', 1, "markup that would end"),
        ('import {\n  a as b,\n} from "./a.js";\n', 1, "an import the build does not rewrite"),
    ],
    ids=[
        "default-export",
        "export-list",
        "export-star",
        "re-export",
        "import-star",
        "default-import",
        "alias",
        "other-host",
        "other-suffix",
        "bare-import",
        "export-let",
        "export-destructuring",
        "dynamic-import",
        "import-meta",
        "end-of-script",
        "wrapped-alias",
    ],
)
def test_a_form_the_build_does_not_rewrite_is_refused_with_file_and_line(
    text: str, line: int, what: str
) -> None:
    with pytest.raises(BuildError, match=rf"^js/x\.js:{line}: {what}"):
        parse_module("js/x", text, "js/x.js")


def test_a_missing_module_a_missing_name_and_a_cycle_are_refused() -> None:
    missing = _sources({"page/main": 'import { a } from "./gone.js";\n'})
    with pytest.raises(
        BuildError, match=r"page/main\.js imports page/gone\.js, which is not there"
    ):
        bundle_script(missing)
    unexported = _sources(
        {"page/main": 'import { a } from "./b.js";\n', "page/b": "const a = 1;\n"}
    )
    with pytest.raises(BuildError, match=r"imports a not exported by page/b\.js"):
        bundle_script(unexported)
    cycle = _sources(
        {
            "page/main": 'import { a } from "./b.js";\nexport const m = a;\n',
            "page/b": 'import { m } from "./main.js";\nexport const a = 1;\n',
        }
    )
    with pytest.raises(BuildError, match=r"an import cycle: page/main -> page/b -> page/main"):
        bundle_script(cycle)


def test_the_cli_writes_the_page_and_prints_its_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert server_cli.main(["verifier", "build", str(tmp_path)]) == 0
    written = (tmp_path / "verifier.html").read_bytes()
    assert written == page_bytes()
    digest = hashlib.sha256(written).hexdigest()
    assert capsys.readouterr().out == f"{digest}  {tmp_path / 'verifier.html'}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["verifier.html"]


@pytest.mark.parametrize("where", ["missing", "a-file"])
def test_the_cli_refuses_a_directory_that_is_not_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    target = tmp_path / where
    if where == "a-file":
        target.write_text("x")
    assert server_cli.main(["verifier", "build", str(target)]) == 2
    assert f"{target}: not an existing directory" in capsys.readouterr().err


@pytest.fixture
def app(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> Iterator[Flask]:
    engine = make_engine(sqlite_url, Sealer(tmp_path / "instance"))
    upgrade(engine)
    engine.dispose()
    app = make_app(sqlite_url, tmp_path, clock)
    yield app
    app.extensions["mutualog"].engine.dispose()


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_route_serves_exactly_the_built_bytes_under_its_csp(app: Flask) -> None:
    response = app.test_client().get(
        "/verifier?member=" + "ab" * 16 + "&period=2026-03-01",
        headers={"Accept-Language": "zh-CN"},
    )
    assert response.status_code == 200
    assert response.get_data() == page_bytes()
    assert response.content_type == "text/html; charset=utf-8"
    text = page_bytes().decode("utf-8")
    script = re.search(r"<script>(.*)</script>", text, re.DOTALL)
    style = re.search(r"<style>(.*)</style>", text, re.DOTALL)
    assert script and style
    policy = dict(
        [*part.split(" ", 1), ""][:2]
        for part in response.headers["Content-Security-Policy"].split("; ")
    )
    assert policy["script-src"] == _hash(script.group(1))
    assert policy["style-src"] == _hash(style.group(1))
    assert policy["connect-src"] == "'self'"
    assert policy["default-src"] == "'none'"
    assert response.headers["Content-Security-Policy"] == csp()
    # server.security's other headers stay; no cookie, no varying by language.
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Set-Cookie" not in response.headers
    assert "Accept-Language" not in response.headers.get("Vary", "")
    other = app.test_client().get("/verifier", headers={"Accept-Language": "en"})
    assert other.get_data() == response.get_data()


def test_the_pages_own_files_ship_with_the_server() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = data["tool"]["setuptools"]["package-data"]["server"]
    files = sorted(build.PAGE_DIR.iterdir())
    assert {f.name for f in files} >= {"main.js", "verifier.html", "verifier.css"}
    relative = [f.relative_to(ROOT / "server").as_posix() for f in files]
    assert all(any(fnmatchcase(r, g) for g in globs) for r in relative), relative


def test_a_clean_clone_builds_the_same_bytes_twice(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    digests = [
        subprocess.run(
            [sys.executable, "-c", BUILD_TWICE],
            cwd=clone,
            check=True,
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(clone), "PATH": "/usr/bin:/bin"},
        ).stdout
        for seed in ("3", "4")
    ]
    assert digests[0] == digests[1] and len(digests[0]) == 64
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "server/verifier", "server/translations/verifier"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if not changed:
        # This checkout is its last commit there: the same page.
        assert digests[0] == hashlib.sha256(page_bytes()).hexdigest()
