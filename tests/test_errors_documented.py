"""Every exception class of ``verifiable/``, ``server/`` and ``client/`` is
named in docs/errors.md, so a caller can find what it means, where it is
raised and how commands and pages answer it.

The classes are found with :mod:`ast`: a class is an exception when one of
its bases is a built-in exception, a class of another library that derives
from ``BaseException`` (imported to ask), or one of the project's own classes
that is an exception in turn.  Bases are resolved through each module's
imports, so two classes of the same name in different modules are told
apart.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("verifiable", "server", "client")
DOC = ROOT / "docs" / "errors.md"


@dataclass(frozen=True)
class ClassDef:
    """A class of the project: where it is, and its bases' qualified names."""

    qualname: str  # module.Class
    path: str
    line: int
    bases: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[1]


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _bound_names(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    """What each name a module imports or defines at its top level refers to."""
    package = module if is_package else module.rpartition(".")[0]
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    bound[top] = top
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, source] if source else base)
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{source}.{alias.name}"
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bound[node.name] = f"{module}.{node.name}"
    return bound


def _dotted(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Subscript):  # Generic[T] and the like
        return _dotted(expr.value)
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        head = _dotted(expr.value)
        return None if head is None else f"{head}.{expr.attr}"
    return None


def project_classes(root: Path, packages: tuple[str, ...]) -> dict[str, ClassDef]:
    """Every class defined in ``packages`` under ``root``, by qualified name."""
    found: dict[str, ClassDef] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            module = _module_name(root, path)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            bound = _bound_names(tree, module, path.name == "__init__.py")
            for node in ast.walk(tree):
                if not isinstance(node, ast.ClassDef):
                    continue
                bases = []
                for base in node.bases:
                    dotted = _dotted(base)
                    if dotted is None:
                        continue
                    head, _, rest = dotted.partition(".")
                    resolved = bound.get(head, f"builtins.{head}")
                    bases.append(f"{resolved}.{rest}" if rest else resolved)
                qualname = f"{module}.{node.name}"
                rel = path.relative_to(root).as_posix()
                found[qualname] = ClassDef(qualname, rel, node.lineno, tuple(bases))
    return found


def _foreign_is_exception(qualname: str) -> bool:
    module, _, name = qualname.rpartition(".")
    obj: object = builtins if module == "builtins" else importlib.import_module(module)
    value = getattr(obj, name, None)
    return isinstance(value, type) and issubclass(value, BaseException)


def exception_classes(classes: dict[str, ClassDef], packages: tuple[str, ...]) -> list[ClassDef]:
    """The classes of ``classes`` that derive from ``BaseException``."""
    memo: dict[str, bool] = {}

    def is_exception(qualname: str) -> bool:
        if qualname not in memo:
            memo[qualname] = False  # a cycle is no exception
            if qualname in classes:
                memo[qualname] = any(is_exception(b) for b in classes[qualname].bases)
            elif qualname.split(".")[0] not in packages:
                memo[qualname] = _foreign_is_exception(qualname)
        return memo[qualname]

    return [c for q, c in sorted(classes.items()) if is_exception(q)]


def undocumented(found: list[ClassDef], doc: str) -> list[str]:
    """The classes whose name ``doc`` does not mention, each as a sentence."""
    return [
        f"{c.name} ({c.path}:{c.line}) is not named in docs/errors.md: say what it "
        "means, where it is raised and how callers and commands answer it"
        for c in found
        if not re.search(rf"(?<![\w]){re.escape(c.name)}(?!\w)", doc)
    ]


def test_every_exception_class_is_in_docs_errors() -> None:
    found = exception_classes(project_classes(ROOT, PACKAGES), PACKAGES)
    assert len(found) > 20, [c.qualname for c in found]  # the walker still sees them
    missing = undocumented(found, DOC.read_text(encoding="utf-8"))
    assert not missing, "\n".join(missing)


def test_the_check_catches_an_undocumented_exception(tmp_path: Path) -> None:
    """Planted: exceptions through a built-in, through another library's
    class, through the project's own class in another module (imported
    relatively and by alias), and a class that is no exception."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "errors.py").write_text(
        "class BaseError(ValueError):\n    pass\nclass NotAnError:\n    pass\n"
    )
    (tmp_path / "pkg" / "use.py").write_text(
        "import json\n"
        "from . import errors as e\n"
        "from .errors import BaseError, NotAnError\n"
        "class ChildError(BaseError):\n    pass\n"
        "class AliasError(e.BaseError):\n    pass\n"
        "class DecodeError(json.JSONDecodeError):\n    pass\n"
        "class Plain(NotAnError):\n    pass\n"
    )
    classes = project_classes(tmp_path, ("pkg",))
    found = exception_classes(classes, ("pkg",))
    names = [c.name for c in found]
    assert names == ["BaseError", "AliasError", "ChildError", "DecodeError"]
    missing = undocumented(found, "`BaseError`, `ChildError`; `DecodeErrors` is another name")
    assert [m.split(" ")[0] for m in missing] == ["AliasError", "DecodeError"]
    assert "pkg/use.py:6" in missing[0]
