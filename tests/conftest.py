"""Settings for the whole suite.

Under CI (``CI=true``) hypothesis runs derandomized: every property test
draws the same examples on every run, so CI's verdict is repeatable and a
green local run with ``CI=true`` predicts CI's.  Local runs stay random,
which is where new counterexamples are found.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")
