"""The pool service knows no HTTP: nothing in ``server/pool/`` or the
facade imports Flask or Werkzeug (the views turn refusals into statuses)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICE = [*sorted((ROOT / "server" / "pool").glob("*.py")), ROOT / "server" / "pool_service.py"]


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", SERVICE, ids=lambda p: p.name)
def test_the_service_imports_no_web_framework(path: Path) -> None:
    web = {n for n in _imported(path) if n.split(".")[0] in {"flask", "werkzeug", "flask_wtf"}}
    # server.errors and the views are the web's: the service reaches neither.
    web |= {n for n in _imported(path) if n in {"server.errors", "server.web_errors"}}
    web |= {n for n in _imported(path) if n.startswith("server.views")}
    assert not web, f"{path.relative_to(ROOT)} imports {sorted(web)}"
