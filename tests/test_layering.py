"""The layers stay as designed: ``verifiable`` is pure, ``server`` and ``client``
never import each other.

The check walks every module with :mod:`ast`, so an import hidden inside a
function counts too.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What verifiable/ may import besides itself: no I/O, no frameworks.
VERIFIABLE_ALLOWED = {"cryptography", "rfc8785"}
# Standard-library modules that would let pure code touch the outside world.
VERIFIABLE_FORBIDDEN_STDLIB = {
    "os",
    "io",
    "sys",
    "socket",
    "subprocess",
    "pathlib",
    "shutil",
    "tempfile",
    "time",
    "random",
    "secrets",
    "urllib",
    "http",
    "sqlite3",
    "threading",
    "multiprocessing",
    "asyncio",
    "logging",
    "tarfile",
    "zipfile",
    "glob",
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_packages_exist() -> None:
    for package in ("verifiable", "server", "client"):
        assert (ROOT / package / "__init__.py").is_file(), package
        assert (ROOT / package / "py.typed").is_file(), package


@pytest.mark.parametrize("path", _modules("verifiable"), ids=lambda p: p.name)
def test_verifiable_is_pure(path: Path) -> None:
    bad = []
    for line, name in _imports(path):
        top = name.split(".")[0]
        if top == "verifiable" or top == "__future__":
            continue
        if top in VERIFIABLE_ALLOWED:
            continue
        if top in sys.stdlib_module_names and top not in VERIFIABLE_FORBIDDEN_STDLIB:
            continue
        bad.append(f"{path.name}:{line} imports {name}")
    assert not bad, bad


@pytest.mark.parametrize(("package", "other"), [("server", "client"), ("client", "server")])
def test_server_and_client_are_independent(package: str, other: str) -> None:
    bad = [
        f"{p.name}:{line} imports {name}"
        for p in _modules(package)
        for line, name in _imports(p)
        if name.split(".")[0] == other
    ]
    assert not bad, bad


def test_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    # The walker must see imports nested in functions, or the rule is toothless.
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import socket\n    from flask import Flask\n")
    assert [n for _, n in _imports(sample)] == ["socket", "flask"]


def _imports_of(package_dir: Path) -> list[tuple[Path, int, str]]:
    return [
        (path, line, name)
        for path in sorted(package_dir.rglob("*.py"))
        for line, name in _imports(path)
    ]


def test_the_log_does_not_read_the_pool() -> None:
    """``verifiable.log`` is the transparency log alone; the pool's rulebook
    builds on it, never the other way round."""
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path, line, name in _imports_of(ROOT / "verifiable" / "log")
        if name.startswith(("verifiable.pool", "verifiable.testonly"))
    ]
    assert not bad, bad


def test_the_core_does_not_import_the_test_only_package() -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for sub in ("log", "pool")
        for path, line, name in _imports_of(ROOT / "verifiable" / sub)
        if name.startswith("verifiable.testonly")
    ]
    bad += [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path, line, name in _imports_of(ROOT / "client")
        if name.startswith("verifiable.testonly")
    ]
    assert not bad, bad
