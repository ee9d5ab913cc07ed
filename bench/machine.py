"""The line a benchmark prints about the machine it ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu() -> str:
    """The processor's model name, or the architecture where Linux's
    ``/proc/cpuinfo`` does not say."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def load() -> str:
    """The load averages over 1, 5 and 15 minutes."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine(when: str) -> str:
    """System, processor, cores, Python and the load average ``when``."""
    return (
        f"machine: {platform.system()} {platform.release()}, {cpu()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}; load {load()} ({when})"
    )
