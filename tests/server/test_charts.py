"""The charts drawn on the server (server/charts.py): each bar, point and
row is its number, in integer coordinates; the SVG holds no script, no
inline style and nothing from another host; labels are escaped."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from xml.etree import ElementTree

import pytest

from server.charts import HEIGHT, WIDTH, Chart, Point, bar_chart, bars_by_kind, line_chart

SVG = "{http://www.w3.org/2000/svg}"
HEADINGS = ("Period", "Share")

Draw = Callable[[str, str, Sequence[Point], tuple[str, str], str], Chart]


def _points(values: list[int]) -> list[Point]:
    return [Point(f"p{i}", v, f"¥{v / 100:.2f}") for i, v in enumerate(values)]


def _tree(chart: Chart) -> ElementTree.Element:
    return ElementTree.fromstring(str(chart.svg))


def _safe(chart: Chart) -> None:
    svg = str(chart.svg)
    assert "<script" not in svg.lower()
    assert "style=" not in svg and "<style" not in svg
    assert "href" not in svg
    # The only URL is the SVG namespace, which is a name, not a fetch.
    assert re.findall(r"https?://[^\"]+", svg) == ["http://www.w3.org/2000/svg"]
    assert not re.search(r"\son[a-z]+=", svg)  # no event handlers
    root = _tree(chart)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{chart.id}-caption"
    assert root.get("width") == "100%"


@pytest.mark.parametrize(
    "values",
    [[20_212], [1, 2, 3, 4, 5], [0, 0, 7], [5] * 24, [10**15, 1, 0], [3, 1, 4, 1, 5, 9, 2, 6]],
    ids=["one", "rising", "zeros", "flat", "huge", "pi"],
)
def test_a_bar_is_its_number(values: list[int]) -> None:
    points = _points(values)
    chart = bar_chart("c", "Share", points, HEADINGS, "none")
    _safe(chart)
    assert chart.points == tuple(points)
    rects = _tree(chart).findall(f"{SVG}rect")
    assert len(rects) == len(values)
    top = max(values)
    heights = [int(r.get("height", "")) for r in rects]
    plot = max(heights)
    for rect, point, height in zip(rects, points, heights, strict=True):
        value = point.value
        # Integer coordinates, inside the drawing.
        x, y, w = (int(rect.get(a, "")) for a in ("x", "y", "width"))
        assert x >= 0 and x + w <= WIDTH and y >= 0 and y + height <= HEIGHT
        # Proportional to the value, to within the rounding of one unit.
        assert abs(height * top - value * plot) <= top
        assert (height > 0) == (value > 0)
        title = rect.find(f"{SVG}title")
        assert title is not None and title.text == f"{point.label}: {point.shown}"
    # The bars stand on one line.
    assert len({int(r.get("y", "")) + int(r.get("height", "")) for r in rects}) == 1


def test_a_line_goes_through_every_point_left_to_right() -> None:
    values = [12_582, 12_700, 12_959, 12_100]
    chart = line_chart("m", "Members", _points(values), HEADINGS, "none")
    _safe(chart)
    root = _tree(chart)
    line = root.find(f"{SVG}polyline")
    assert line is not None
    coords = [tuple(int(n) for n in pair.split(",")) for pair in line.get("points", "").split()]
    assert len(coords) == len(values)
    xs = [x for x, _ in coords]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    # A larger number is drawn higher (a smaller y), from a zero baseline.
    by_value = [y for _, (_, y) in sorted(zip(values, coords, strict=True))]
    assert by_value == sorted(by_value, reverse=True)
    assert len(root.findall(f"{SVG}circle")) == len(values)


def test_bars_by_kind_label_each_row_with_its_number() -> None:
    points = [Point("approved", 60, "60"), Point("rejected", 20, "20"), Point("none", 0, "0")]
    chart = bars_by_kind("o", "Claims by outcome", points, ("Outcome", "Claims"), "none")
    _safe(chart)
    root = _tree(chart)
    texts = [t.text for t in root.findall(f"{SVG}text")]
    assert texts == ["approved", "60", "rejected", "20", "none", "0"]
    widths = [int(r.get("width", "")) for r in root.findall(f"{SVG}rect")]
    assert abs(widths[1] * 60 - 20 * widths[0]) <= 60 and widths[2] == 0


@pytest.mark.parametrize("draw", [bar_chart, line_chart, bars_by_kind])
def test_no_points_draw_the_empty_message(draw: Draw) -> None:
    chart = draw("e", "Share", [], HEADINGS, "No period has closed yet.")
    _safe(chart)
    assert chart.points == ()
    assert [t.text for t in _tree(chart).iter(f"{SVG}text")] == ["No period has closed yet."]


@pytest.mark.parametrize("draw", [bar_chart, line_chart, bars_by_kind])
def test_labels_and_titles_are_escaped(draw: Draw) -> None:
    hostile = '<script>alert("x")</script>'
    chart = draw("x", hostile, [Point(hostile, 1, "&1"), Point("b", 2, "2")], HEADINGS, "")
    _safe(chart)
    root = _tree(chart)
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == hostile
    assert hostile in [t.text for t in root.iter(f"{SVG}text")] + [
        (t.text or "").split(": ")[0] for t in root.iter(f"{SVG}title")
    ]
