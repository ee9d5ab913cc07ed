"""The verifier's modules ship with the server package: each file of
``server/verifier/js/`` matches a ``[tool.setuptools.package-data]`` glob
of ``server``, and the folder holds nothing but the modules."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

from tests.server.verifier.verifier_harness import JS_DIR

ROOT = Path(__file__).resolve().parents[3]


def test_every_module_is_package_data() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = data["tool"]["setuptools"]["package-data"]["server"]
    files = sorted(JS_DIR.iterdir())
    assert {f.suffix for f in files} == {".js"}
    assert {"merkle.js", "note.js", "checkpoint.js", "cosignature.js"} <= {f.name for f in files}
    relative = [f.relative_to(ROOT / "server").as_posix() for f in files]
    unshipped = [r for r in relative if not any(fnmatchcase(r, g) for g in globs)]
    assert not unshipped, f"not in the server's package data: {unshipped}"
