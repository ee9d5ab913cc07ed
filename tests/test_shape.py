"""The code keeps a shape a reader can hold: modules of a few hundred lines,
functions that fit on a screen.

- No module in ``server/`` or ``client/`` over 600 lines, none in
  ``verifiable/`` over 700 (the core's modules each implement one section
  of a specification, which can run longer).
- No function (``def`` or ``async def``, methods and nested functions
  included) over 80 lines in ``verifiable/``, ``server/``, ``client/``,
  ``tests/`` or ``bench/``, except in ``server/migrations/``: a migration is
  a record of what was done to a schema, read once and never refactored.

- No test imports from a ``conftest.py``: a conftest holds fixtures, which
  pytest hands out by name; the classes and helpers a test imports live in
  plain modules (``tests/clock.py``, ``tests/client/harness.py`` ...).

A function's length runs from its ``def`` line to its last line, docstring
included, decorators not.  The checks walk the files with :mod:`ast`, so
they need nothing imported.  A module or function over its limit is split by
concern (docs/architecture.md); the limit is not raised.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

MODULE_LIMITS = {"server": 600, "client": 600, "verifiable": 700}
FUNCTION_LIMIT = 80
FUNCTION_ROOTS = ("verifiable", "server", "client", "tests", "bench")
FUNCTION_EXEMPT = ("server/migrations",)

Function = ast.FunctionDef | ast.AsyncFunctionDef


def python_files(root: Path, package: str) -> list[Path]:
    return sorted(p for p in (root / package).rglob("*.py") if "__pycache__" not in p.parts)


def long_modules(root: Path, package: str, limit: int) -> list[str]:
    """``package``'s modules over ``limit`` lines, each as a sentence."""
    out = []
    for path in python_files(root, package):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            name = path.relative_to(root).as_posix()
            out.append(f"{name}: {lines} lines, over the limit of {limit} for {package}/")
    return out


def _functions(tree: ast.AST) -> Iterator[tuple[str, Function]]:
    """Every function in ``tree`` with its qualified name (``Class.method``,
    ``outer.<locals>.inner``)."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, Function]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + child.name
                yield name, child
                yield from walk(child, name + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, prefix + child.name + ".")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def long_functions(root: Path, package: str, limit: int) -> list[str]:
    """``package``'s functions over ``limit`` lines, each as a sentence."""
    out = []
    for path in python_files(root, package):
        name = path.relative_to(root).as_posix()
        if name.startswith(tuple(f"{e}/" for e in FUNCTION_EXEMPT)):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for qualname, node in _functions(tree):
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            if lines > limit:
                out.append(
                    f"{name}:{node.lineno} {qualname}: {lines} lines, over the limit of {limit}"
                )
    return out


_MOVE_IT = "move what it needs to a helper module"


def conftest_imports(root: Path, package: str) -> list[str]:
    """The imports from a conftest module in ``package``, each as a sentence."""
    out = []
    for path in python_files(root, package):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name == "conftest" or name.endswith(".conftest"):
                    where = f"{path.relative_to(root).as_posix()}:{node.lineno}"
                    out.append(
                        f"{where} imports from {name}: move what it needs to a helper module"
                    )
    return out


@pytest.mark.parametrize("package", sorted(MODULE_LIMITS))
def test_no_module_is_over_its_limit(package: str) -> None:
    found = long_modules(ROOT, package, MODULE_LIMITS[package])
    assert not found, "split these modules by concern:\n" + "\n".join(found)


@pytest.mark.parametrize("package", FUNCTION_ROOTS)
def test_no_function_is_over_the_limit(package: str) -> None:
    found = long_functions(ROOT, package, FUNCTION_LIMIT)
    assert not found, "split these functions into named steps:\n" + "\n".join(found)


def test_the_checks_catch_a_planted_violation(tmp_path: Path) -> None:
    """Each checker must see a violation, or the limits are toothless: a
    long method, a long nested async function, a long module; and a long
    function in a migration, which is allowed."""
    package = tmp_path / "server"
    (package / "migrations").mkdir(parents=True)
    body = "".join(f"    x{i} = {i}\n" for i in range(80))  # with the def: 81 lines
    (package / "ok.py").write_text("def short():\n" + "".join(body.splitlines(True)[:79]))
    (package / "big.py").write_text(
        "class A:\n"
        "    @property\n"
        f"    def method(self):\n{body.replace('    ', '        ')}"
        "def outer():\n"
        f"    async def inner():\n{body.replace('    ', '        ')}" + "pass\n" * 600
    )
    (package / "migrations" / "m.py").write_text(f"def upgrade():\n{body}")
    functions = long_functions(tmp_path, "server", 80)
    assert functions == [
        "server/big.py:3 A.method: 81 lines, over the limit of 80",
        "server/big.py:84 outer: 82 lines, over the limit of 80",
        "server/big.py:85 outer.<locals>.inner: 81 lines, over the limit of 80",
    ]
    modules = long_modules(tmp_path, "server", 600)
    assert modules == ["server/big.py: 765 lines, over the limit of 600 for server/"]
    assert long_modules(tmp_path, "server", 765) == []


def test_no_test_imports_from_a_conftest() -> None:
    found = conftest_imports(ROOT, "tests")
    assert not found, "\n".join(found)


def test_the_conftest_check_catches_an_import(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text(
        "from tests.server.conftest import FixedClock\n"
        "def f():\n    import tests.conftest\n"
        "from tests.clock import FixedClock\n"
    )
    assert conftest_imports(tmp_path, "tests") == [
        f"tests/test_a.py:1 imports from tests.server.conftest: {_MOVE_IT}",
        f"tests/test_a.py:3 imports from tests.conftest: {_MOVE_IT}",
    ]
