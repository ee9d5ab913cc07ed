"""The pure parts of bench/scale.py: the percentile, the fitted line and
its extrapolation, and the table a size prints (the bench itself is run by
hand: it builds pools of millions of members)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

# The benchmarks are scripts run from the repository's root, not an
# installed package: the root goes on the path for this module's import.
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scale() -> ModuleType:
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(ROOT))
        return importlib.import_module("bench.scale")


def test_percentile_is_nearest_rank(scale: ModuleType) -> None:
    percentile = scale.percentile
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) == 0.0


def test_fit_is_least_squares(scale: ModuleType) -> None:
    fit = scale.fit
    assert fit([1.0, 2.0, 3.0], [3.0, 5.0, 7.0]) == pytest.approx((1.0, 2.0))
    # Not through any two of the three points: the line between them.
    intercept, slope = fit([0.0, 1.0, 2.0], [0.0, 2.0, 1.0])
    assert (intercept, slope) == pytest.approx((0.5, 0.5))


def test_fit_needs_two_sizes(scale: ModuleType) -> None:
    fit = scale.fit
    with pytest.raises(ValueError, match="two sizes"):
        fit([5.0, 5.0], [1.0, 2.0])


def test_extrapolation_follows_the_slope_per_member(scale: ModuleType) -> None:
    extrapolation = scale.extrapolation
    results = {
        100_000: {"start s": 1.0, "audit peak RSS MiB": 100.0},
        1_000_000: {"start s": 10.0, "audit peak RSS MiB": 100.0},
    }
    lines = extrapolation(results)
    assert "100,000,000 members" in lines[0]
    start = next(line for line in lines if "start s" in line)
    assert "1,000.0" in start  # 1 s per 100,000 members
    assert "+10.000 per million members" in start
    flat = next(line for line in lines if "audit peak" in line)
    assert " 100.0 " in flat
    assert "+0.000 per million members" in flat
    falling = {100_000: {"pool p99 ms x8": 50.0}, 1_000_000: {"pool p99 ms x8": 10.0}}
    assert "(falls)" in extrapolation(falling)[1]
    assert "needs two sizes" in extrapolation({100_000: results[100_000]})[0]


def test_table_shows_each_operation_and_the_verdicts(scale: ModuleType) -> None:
    timings = scale.Timings()
    result = {"start s": 3.0, "start CPU s (all workers)": 6.0}
    for name in scale.OPERATIONS:
        for mode in (1, 8):
            timings.ms[(name, mode)] = [10.0, 20.0]
            result[f"{name} p50 ms x{mode}"] = 10.0
            result[f"{name} p99 ms x{mode}"] = 20.0
    timings.errors[("vote", 8)] = 1
    timings.notes.append("vote x8: answered 409")
    result["vote p99 ms x8"] = 70.0
    result["audit entries/s"] = 1000.0
    result["audit entries/s of CPU"] = 4000.0
    audited = scale.Audit(entries=133_699, wall_s=133.7, cpu_s=33.4, peak_mib=185.0, ok=True)
    text = scale.table(100_000, result, [150.0, 151.0], timings, audited, 8)
    assert "100,000 members, 133,699 entries" in text
    assert "start: 3.00 s" in text and "MISSES (target <= 2)" in text
    assert "150, 151 MiB: meets (target <= 200)" in text
    assert "vote             8     2     10.0     70.0      1" in text
    assert "worst p99 70.0 ms: MISSES (target <= 50)" in text
    assert "peak RSS 185 MiB; VERIFIED" in text
    assert "note: vote x8: answered 409" in text
