"""The verifier page's reproducible build: one self-contained HTML file.

:func:`page_bytes` assembles ``/verifier`` from files of this package alone:
the checks' ES modules (``server/verifier/js/``), the page's own modules,
template and stylesheet (``server/verifier/page/``) and both languages'
words (:mod:`server.verifier.strings`, their Chinese from the compiled
catalog of the ``verifier`` area).  Nothing else goes in: no clock, no
environment, no file order of the disk, so two builds of one checkout give
the same bytes, and their SHA-256 is what the log publishes and ``audit``
compares with the page a server serves.

The modules are bundled by rewriting exactly the forms they are written in
(docs/verifier.md, "The build"):

* ``export function f``, ``export async function f``, ``export const C``,
  ``export class K`` lose their ``export`` and ``f``, ``C``, ``K`` are
  returned from the module's scope;
* ``import { a, b } from "./x.js";`` (one line, or the names wrapped one a
  line between the braces) becomes ``const { a, b } = m_x;``.

Each module becomes ``const m_x = (() => { ... return { names }; })();``,
in dependency order from the page's entry module, so top-level names of two
modules never meet.  Any other ``import`` or ``export`` (a default export,
an ``export { }`` list, ``import *``, a re-export, ``import(...)``,
``import.meta``, an alias) is refused with its file and line: rewriting a
form the build does not understand could change what the code means.
"""

from __future__ import annotations

import base64
import functools
import gettext
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from server.verifier.strings import STRINGS
from verifiable.errors import MutualogError

__all__ = [
    "ENTRY",
    "JS_DIR",
    "PAGE_DIR",
    "BuildError",
    "Module",
    "bundle_script",
    "csp",
    "page_bytes",
    "parse_module",
]

HERE = Path(__file__).parent
JS_DIR = HERE / "js"
PAGE_DIR = HERE / "page"
CATALOG = HERE.parent / "translations" / "verifier" / "zh_CN" / "LC_MESSAGES" / "messages.mo"
#: The page's entry module: what it imports, directly or not, is the page.
ENTRY = "page/main"

_NAME = r"[A-Za-z_$][A-Za-z0-9_$]*"
_SOURCE = r'"(\./|\.\./js/)([a-z0-9_]+)\.js"'
_IMPORT_ONE = re.compile(rf"^import \{{ ({_NAME}(?:, {_NAME})*) \}} from {_SOURCE};$")
_IMPORT_OPEN = re.compile(r"^import \{$")
_IMPORT_NAME = re.compile(rf"^  ({_NAME}),$")
_IMPORT_CLOSE = re.compile(rf"^\}} from {_SOURCE};$")
_EXPORT = re.compile(rf"^export (?:async function\*? |function\*? |const |class )({_NAME})\b")
# What a line may not hold anywhere: a module form the rewriting would
# miss, or markup that would end the inline script early.
_FORBIDDEN = (
    (re.compile(r"^\s*(import|export)\b"), "an import or export form the build does not rewrite"),
    (re.compile(r"\bimport\s*\("), "a dynamic import"),
    (re.compile(r"\bimport\.meta\b"), "import.meta"),
    (re.compile(r"</script|<!--", re.IGNORECASE), "markup that would end the page's script"),
)


class BuildError(MutualogError):
    """A source file the build refuses, named with its line: a defect of
    the release, never of anyone's input."""


@dataclass(frozen=True)
class Module:
    """One ES module as the build reads it: its key (``js/merkle``), its
    imports (key, names), its exported names and its body with the module
    forms rewritten away."""

    key: str
    imports: tuple[tuple[str, tuple[str, ...]], ...]
    exports: tuple[str, ...]
    body: str


def _key_of(folder: str, prefix: str, name: str) -> str:
    if prefix == "../js/":
        return f"js/{name}"
    return f"{folder}/{name}"


def parse_module(key: str, text: str, where: str) -> Module:
    """Read module ``key`` (``folder/name``) from ``text``; ``where`` names
    its file in refusals."""
    folder = key.split("/")[0]
    if "\r" in text:
        raise BuildError(f"{where}: line endings must be LF")
    imports: list[tuple[str, tuple[str, ...]]] = []
    exports: list[str] = []
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line, number = lines[i], i + 1
        i += 1
        one = _IMPORT_ONE.match(line)
        if one:
            names = tuple(one.group(1).split(", "))
            imports.append((_key_of(folder, one.group(2), one.group(3)), names))
            out.append("")
            continue
        if _IMPORT_OPEN.match(line):
            names_list: list[str] = []
            while i < len(lines) and (named := _IMPORT_NAME.match(lines[i])):
                names_list.append(named.group(1))
                i += 1
            close = _IMPORT_CLOSE.match(lines[i]) if i < len(lines) else None
            if not close or not names_list:
                raise BuildError(f"{where}:{number}: an import the build does not rewrite")
            i += 1
            imports.append((_key_of(folder, close.group(1), close.group(2)), tuple(names_list)))
            out.extend([""] * (len(names_list) + 2))
            continue
        export = _EXPORT.match(line)
        if export:
            exports.append(export.group(1))
            line = line[len("export ") :]
        for pattern, what in _FORBIDDEN:
            if pattern.search(line):
                raise BuildError(f"{where}:{number}: {what}: {line.strip()[:80]}")
        out.append(line)
    if len(set(exports)) != len(exports):
        raise BuildError(f"{where}: a name is exported twice")
    return Module(key, tuple(imports), tuple(exports), "\n".join(out).strip("\n"))


def _read_module(key: str) -> Module | None:
    folder = {"js": JS_DIR, "page": PAGE_DIR}[key.split("/")[0]]
    path = folder / f"{key.split('/')[1]}.js"
    if not path.is_file():
        return None
    return parse_module(key, path.read_text(encoding="utf-8"), f"server/verifier/{key}.js")


def _ordered(read: Callable[[str], Module | None], entry: str) -> list[Module]:
    """The modules ``entry`` needs (``read`` gives one by its key), each
    after the ones it imports.  Only these are read: a module the page does
    not import is not part of it."""
    done: list[Module] = []
    modules: dict[str, Module] = {}
    path: list[str] = []

    def visit(key: str, by: str) -> Module:
        if key in modules:
            return modules[key]
        if key in path:
            raise BuildError(f"an import cycle: {' -> '.join([*path, key])}")
        module = read(key)
        if module is None:
            raise BuildError(f"{by} imports {key}.js, which is not there")
        path.append(key)
        for target, names in module.imports:
            missing = sorted(set(names) - set(visit(target, f"{key}.js").exports))
            if missing:
                raise BuildError(
                    f"{key}.js imports {', '.join(missing)} not exported by {target}.js"
                )
        path.pop()
        modules[key] = module
        done.append(module)
        return module

    visit(entry, "the build")
    return done


def _variable(key: str) -> str:
    return "m_" + key.replace("/", "_")


def bundle_script(read: Callable[[str], Module | None] | None = None, entry: str = ENTRY) -> str:
    """The page's one script: every module ``entry`` needs, each in its own
    scope, in dependency order (``read``: where modules come from, by key;
    by default this package's files)."""
    parts = ['"use strict";']
    for module in _ordered(read or _read_module, entry):
        head = [f"const {{ {', '.join(n)} }} = {_variable(k)};" for k, n in module.imports]
        tail = f"return {{ {', '.join(module.exports)} }};" if module.exports else "return {};"
        parts.append(
            "\n".join(
                [
                    f"// {module.key}.js",
                    f"const {_variable(module.key)} = (() => {{",
                    *head,
                    module.body,
                    tail,
                    "})();",
                ]
            )
        )
    return "\n".join(parts) + "\n"


def _catalog() -> gettext.GNUTranslations:
    with CATALOG.open("rb") as f:
        return gettext.GNUTranslations(f)


def strings_json() -> str:
    """Both languages' words, keyed and sorted; a word without its Chinese
    stops the build rather than showing English on a Chinese page."""
    catalog = _catalog()
    chinese = {}
    for key, english in sorted(STRINGS.items()):
        text = catalog.gettext(english)
        if text == english:
            raise BuildError(f"no Chinese for {english!r} in {CATALOG.name} of the verifier area")
        chinese[key] = text
    words = {"en": dict(sorted(STRINGS.items())), "zh": chinese}
    text = json.dumps(words, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # Inside a <script> data block: no "<" at all, so nothing can end it.
    return text.replace("<", "\\u003c")


def _hash_source(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


@functools.cache
def _built() -> tuple[bytes, str]:
    script = bundle_script()
    style = (PAGE_DIR / "verifier.css").read_text(encoding="utf-8")
    template = (PAGE_DIR / "verifier.html").read_text(encoding="utf-8")
    for name in ("{{style}}", "{{strings}}", "{{script}}"):
        if template.count(name) != 1:
            raise BuildError(f"page/verifier.html: {name} must appear exactly once")
    fill = {"style": style, "strings": strings_json(), "script": script}
    page = re.sub(r"\{\{(style|strings|script)\}\}", lambda m: fill[m.group(1)], template)
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_hash_source(script)}",
            f"style-src {_hash_source(style)}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return page.encode("utf-8"), policy


def page_bytes() -> bytes:
    """The verifier page, byte for byte what every build of this checkout
    gives (computed once per process)."""
    return _built()[0]


def csp() -> str:
    """The page's Content-Security-Policy: its own inline script and style
    by their SHA-256, requests to its own origin only."""
    return _built()[1]
