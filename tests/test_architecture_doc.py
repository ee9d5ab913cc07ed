"""docs/architecture.md names only what exists, so it cannot drift silently.

The page tells a newcomer which files to touch for each kind of change; a
path that has moved would send them to the wrong room.  Every span written
in backticks (outside fenced blocks) is read and checked:

- **A repository path** — a span without spaces that contains a ``/`` or
  ends in ``.py`` or ``.md`` — must exist, from the repository's root; with
  a trailing ``/`` it must be a folder.  A component written ``<like this>``
  is a placeholder for any name: the path up to it must exist.  Not paths:
  a route (``/pool``, starting with ``/``), a URL, and a format's versioned
  name (``mutualog.bundle/v1``, ``cosignature/v1``).
- **A code name** — ``CamelCase``, ``UPPER_CASE`` or ``snake_case`` with an
  underscore, optionally followed by ``.attribute`` — must be defined in the
  code of ``verifiable/``, ``server/``, ``client/``, ``tests/`` or
  ``bench/``: as a class, function or assignment (at a module's top level
  or in a class's body), or as a string constant (an area's name, a key);
  ``Class.attribute`` must be a member of a class of that name.  A name
  written in full from its package (``verifiable.pool.rules.Rules.quorum``)
  must be defined in exactly that module.  Single lowercase words
  (``sync``, ``os``) are left alone: too many are commands or plain words.

The code is read with :mod:`ast`; nothing is imported.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
CODE_ROOTS = ("verifiable", "server", "client", "tests", "bench")

_FENCE = re.compile(r"^```.*?^```[^\n]*$", re.MULTILINE | re.DOTALL)
_SPAN = re.compile(r"`([^`]+)`")
_FORMAT_NAME = re.compile(r"^[\w.-]+/v\d+$")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_CODE_NAME = re.compile(rf"^{_IDENT}(\.{_IDENT})*$")


def code_spans(markdown: str) -> list[str]:
    """The text of every inline code span, fenced blocks left out."""
    return _SPAN.findall(_FENCE.sub("", markdown))


def is_repo_path(span: str) -> bool:
    if any(c.isspace() for c in span) or span.startswith("/") or "://" in span:
        return False
    if _FORMAT_NAME.match(span):
        return False
    return "/" in span or span.endswith((".py", ".md"))


def missing_path(root: Path, span: str) -> str | None:
    """Why ``span`` names nothing in the repository, or ``None`` if it does."""
    parts = span.rstrip("/").split("/")
    for i, part in enumerate(parts):
        if "<" in part:  # a placeholder: the folder it stands in must exist
            folder = root.joinpath(*parts[:i])
            return None if folder.is_dir() else f"`{span}`: no folder {folder.relative_to(root)}/"
    target = root.joinpath(*parts)
    if span.endswith("/"):
        return None if target.is_dir() else f"`{span}`: no such folder"
    return None if target.exists() else f"`{span}`: no such file"


@dataclass
class CodeNames:
    """What the code defines: names anywhere, each class's members, and
    each module's own top-level names and classes."""

    packages: tuple[str, ...]
    names: set[str] = field(default_factory=set)
    members: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    modules: dict[str, dict[str, set[str]]] = field(default_factory=dict)


def _targets(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _read_module(code: CodeNames, tree: ast.Module) -> dict[str, set[str]]:
    """One module's top-level names and its classes' members, also added to
    what the whole code defines."""
    own: dict[str, set[str]] = {"": set()}
    for node in tree.body:
        own[""].update(_targets(node))
        if isinstance(node, ast.ClassDef):
            own[node.name] = {n for stmt in node.body for n in _targets(stmt)}
            code.members[node.name] |= own[node.name]
            code.names |= own[node.name]
    code.names |= own[""]
    for const in ast.walk(tree):
        if isinstance(const, ast.Constant) and isinstance(const.value, str):
            code.names.add(const.value)
    return own


def read_code(root: Path, packages: tuple[str, ...]) -> CodeNames:
    code = CodeNames(packages)
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            code.modules[_module_name(root, path)] = _read_module(code, tree)
    return code


def is_code_name(span: str, packages: tuple[str, ...]) -> bool:
    if not _CODE_NAME.match(span):
        return False
    first = span.split(".")[0]
    if first in packages:
        return "." in span
    camel = first[0].isupper() and any(c.islower() for c in first)
    upper = first.isupper() and len(first) > 1
    snake = "_" in first.strip("_") or first.startswith("_")
    return camel or upper or snake


def undefined_name(code: CodeNames, span: str) -> str | None:
    """Why ``span`` names nothing in the code, or ``None`` if it does."""
    parts = span.split(".")
    if parts[0] in code.packages:
        for cut in range(len(parts), 0, -1):
            module = ".".join(parts[:cut])
            if module in code.modules:
                rest = parts[cut:]
                break
        else:
            return f"`{span}`: no such module"
        own = code.modules[module]
        if not rest or (rest[0] in own[""] and (len(rest) == 1 or rest[1] in own.get(rest[0], ()))):
            return None if len(rest) <= 2 else f"`{span}`: too deep to check"
        return f"`{span}`: {module} defines no {'.'.join(rest)}"
    if len(parts) == 1:
        return None if span in code.names else f"`{span}`: defined nowhere in the code"
    if len(parts) == 2 and parts[1] in code.members.get(parts[0], ()):
        return None
    return f"`{span}`: no class {parts[0]} with a member {'.'.join(parts[1:])}"


def doc_problems(root: Path, markdown: str, code: CodeNames) -> list[str]:
    out = []
    for span in dict.fromkeys(code_spans(markdown)):
        if is_repo_path(span):
            problem = missing_path(root, span)
        elif is_code_name(span, code.packages):
            problem = undefined_name(code, span)
        else:
            problem = None
        if problem is not None:
            out.append(problem)
    return out


def test_every_path_and_name_in_the_doc_exists() -> None:
    markdown = DOC.read_text(encoding="utf-8")
    code = read_code(ROOT, CODE_ROOTS)
    # The page is still read: its paths and names are found.
    assert len([s for s in code_spans(markdown) if is_repo_path(s)]) > 100
    assert len([s for s in code_spans(markdown) if is_code_name(s, code.packages)]) > 50
    found = doc_problems(ROOT, markdown, code)
    assert not found, (
        "docs/architecture.md names what is not there; say where it is now:\n" + "\n".join(found)
    )


def test_the_check_catches_a_planted_missing_path(tmp_path: Path) -> None:
    """A planted page with a missing file, a missing folder, a placeholder
    under a missing folder and names the code does not define; and, beside
    them, what must pass: real paths, a placeholder under a real folder,
    routes, format names, plain words and names the code defines."""
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(
        "LIMIT = 3\nclass Thing:\n    size: int\n    def grow(self): ...\n"
        "def make_thing(): ...\nAREAS = ('core_area',)\n"
    )
    (tmp_path / "README.md").write_text("")
    page = (
        "```\nnot/read/in/a/fence.py\n```\n"
        "Fine: `pkg/mod.py`, `pkg/sub/`, `pkg/sub/<name>/x.po`, `README.md`, `/pool/claims`, "
        "`https://example.org/a.md`, `mutualog.bundle/v1`, `cosignature/v1`, `sync`, "
        "`--json`, `mutualog audit`, `Thing`, `Thing.grow`, `Thing.size`, `LIMIT`, "
        "`make_thing`, `core_area`, `pkg.mod.Thing.grow`, `pkg.mod`.\n"
        "Wrong: `pkg/gone.py`, `pkg/mod.py/`, `pkg/none/<area>/x.po`, `docs/none.md`, "
        "`pkg/sub/missing/`, `Gone`, `Thing.shrink`, `break_thing`, `pkg.mod.Gone`, "
        "`pkg.other.Thing`.\n"
    )
    found = doc_problems(tmp_path, page, read_code(tmp_path, ("pkg",)))
    assert found == [
        "`pkg/gone.py`: no such file",
        "`pkg/mod.py/`: no such folder",
        "`pkg/none/<area>/x.po`: no folder pkg/none/",
        "`docs/none.md`: no such file",
        "`pkg/sub/missing/`: no such folder",
        "`Gone`: defined nowhere in the code",
        "`Thing.shrink`: no class Thing with a member shrink",
        "`break_thing`: defined nowhere in the code",
        "`pkg.mod.Gone`: pkg.mod defines no Gone",
        "`pkg.other.Thing`: pkg defines no other.Thing",
    ]
