"""The example log shipped with the client is exactly what its script makes."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("make_example_log.py")


def test_committed_example_is_regenerated_byte_for_byte(tmp_path: Path) -> None:
    make = runpy.run_path(str(SCRIPT))["make"]
    make(tmp_path)
    for name in ("example-log.tar", "example-log.vkey"):
        committed = (ROOT / "client" / "examples" / name).read_bytes()
        assert (tmp_path / name).read_bytes() == committed, name
