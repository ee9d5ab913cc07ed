"""Charts drawn on the server as plain SVG: bars over time, a line, and
horizontal bars for counts by kind (docs/public-pages.md, "Charts").

Why plain SVG and not a library: the pages' Content-Security-Policy
(``script-src 'self'; style-src 'self'``) refuses inline script and inline
style, and nothing may come from another host.  A chart here is a few
dozen SVG elements with presentation attributes (``fill``, ``stroke``,
``font-size``), which that policy does not block, readable with no
script at all.  The data are integers (fen, counts), so every coordinate
is integer arithmetic on them — no float, nothing to round differently on
another machine — and a test can check each bar against its number.

A chart's words and numbers are written by the caller (labels already
formatted for the page's language): this module does geometry and
escaping, nothing else.  Every chart comes with its points, so the page
shows the same numbers in a table beside the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = [
    "Chart",
    "Point",
    "bar_chart",
    "bars_by_kind",
    "line_chart",
]

#: The drawing's coordinate system; the SVG scales to its box (width 100%).
WIDTH = 360
HEIGHT = 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 4, 4, 26, 28
_PLOT_W = WIDTH - _LEFT - _RIGHT
_PLOT_H = HEIGHT - _TOP - _BOTTOM
_BASE = _TOP + _PLOT_H  # the y of the value 0

# Colours with at least 4.5:1 contrast on white, as presentation attributes
# (which the policy allows); the stylesheet's classes (chart-bar, chart-ink,
# ...) override them with the page's own colours, dark mode included.
_INK = "#1f2933"
_MUTED = "#52606d"
_BAR = "#1d5fa8"
_GRID = "#cbd2d9"
_FONT = 15  # about 13 px on a phone, where the drawing is ~310 px wide


@dataclass(frozen=True)
class Point:
    """One number of a chart: its label and value as people read them
    (``label``, ``shown``) and the integer it is drawn from (``value``)."""

    label: str
    value: int
    shown: str


@dataclass(frozen=True)
class Chart:
    """A chart: ``id`` names its elements on the page, ``title`` is its
    caption, ``svg`` the drawing, ``points`` the numbers for its table."""

    id: str
    title: str
    label_heading: str
    value_heading: str
    points: tuple[Point, ...]
    svg: Markup


def _svg(chart_id: str, title: str, height: int, body: list[str]) -> Markup:
    # role="img" with its caption: a screen reader reads the figure's caption
    # and then the table, not each rectangle.
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}-svg" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'role="img" aria-labelledby="{escape(chart_id)}-caption" '
        f'font-family="inherit" font-size="{_FONT}" fill="{_INK}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _text(x: int, y: int, text: str, anchor: str = "start", fill: str = _MUTED) -> str:
    kind = "chart-ink" if fill == _INK else "chart-muted"
    return (
        f'<text class="{kind}" x="{x}" y="{y}" text-anchor="{anchor}" fill="{fill}">'
        f"{escape(text)}</text>"
    )


def _scale(value: int, top: int, span: int) -> int:
    """``value`` of ``top`` as a length of ``span`` units, rounded half up,
    in integers; a value above 0 is at least 1 unit so it stays visible."""
    if top <= 0 or value <= 0:
        return 0
    return max(1, (2 * value * span + top) // (2 * top))


def _frame(points: Sequence[Point], top: int, top_label: str) -> list[str]:
    """The axis: the zero line, a grid line at ``top`` with its label, and the
    first and last labels under the plot (the table has every one)."""
    body = [
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{WIDTH - _RIGHT}" y2="{_TOP}" '
        f'class="chart-grid" stroke="{_GRID}" stroke-dasharray="3 3"/>',
        _text(_LEFT, _TOP - 6, top_label),
        f'<line x1="{_LEFT}" y1="{_BASE}" x2="{WIDTH - _RIGHT}" y2="{_BASE}" '
        f'class="chart-axis" stroke="{_MUTED}"/>',
    ]
    y = HEIGHT - 8
    body.append(_text(_LEFT, y, points[0].label))
    if len(points) > 1:
        body.append(_text(WIDTH - _RIGHT, y, points[-1].label, "end"))
    return body


def _empty(chart_id: str, title: str, empty: str) -> Markup:
    return _svg(chart_id, title, 60, [_text(WIDTH // 2, 34, empty, "middle")])


def _top(points: Sequence[Point]) -> Point:
    return max(points, key=lambda p: p.value)


def bar_chart(
    chart_id: str,
    title: str,
    points: Sequence[Point],
    headings: tuple[str, str],
    empty: str,
) -> Chart:
    """Columns, one per point, in order (e.g. the share of each period);
    ``headings`` name the table's two columns; ``empty`` is shown when
    there are no points.  Values below 0 are drawn as 0."""
    if not points:
        return Chart(chart_id, title, *headings, (), _empty(chart_id, title, empty))
    top = _top(points)
    slot = _PLOT_W // len(points)
    width = max(1, slot * 3 // 4)
    body = _frame(points, top.value, top.shown)
    for i, point in enumerate(points):
        h = _scale(point.value, top.value, _PLOT_H)
        x = _LEFT + i * slot + (slot - width) // 2
        body.append(
            f'<rect x="{x}" y="{_BASE - h}" width="{width}" height="{h}" '
            f'class="chart-bar" fill="{_BAR}">'
            f"<title>{escape(point.label)}: {escape(point.shown)}</title></rect>"
        )
    return Chart(chart_id, title, *headings, tuple(points), _svg(chart_id, title, HEIGHT, body))


def line_chart(
    chart_id: str,
    title: str,
    points: Sequence[Point],
    headings: tuple[str, str],
    empty: str,
) -> Chart:
    """A line through the points, in order (e.g. members over time); the
    vertical axis starts at 0 so a change is not made to look larger."""
    if not points:
        return Chart(chart_id, title, *headings, (), _empty(chart_id, title, empty))
    top = _top(points)
    last = max(1, len(points) - 1)
    inset = 6  # room for the end markers
    coords = [
        (
            _LEFT + inset + i * (_PLOT_W - 2 * inset) // last
            if len(points) > 1
            else _LEFT + _PLOT_W // 2,
            _BASE - _scale(p.value, top.value, _PLOT_H),
        )
        for i, p in enumerate(points)
    ]
    body = _frame(points, top.value, top.shown)
    path = " ".join(f"{x},{y}" for x, y in coords)
    body.append(
        f'<polyline points="{path}" fill="none" class="chart-line" stroke="{_BAR}" '
        f'stroke-width="2"/>'
    )
    body += [
        f'<circle cx="{x}" cy="{y}" r="3" class="chart-bar" fill="{_BAR}">'
        f"<title>{escape(p.label)}: {escape(p.shown)}</title></circle>"
        for (x, y), p in zip(coords, points, strict=True)
    ]
    return Chart(chart_id, title, *headings, tuple(points), _svg(chart_id, title, HEIGHT, body))


_ROW = 32
_LABEL_W = 140
_BAR_W = WIDTH - _LABEL_W - 64


def bars_by_kind(
    chart_id: str,
    title: str,
    points: Sequence[Point],
    headings: tuple[str, str],
    empty: str,
) -> Chart:
    """Horizontal bars, one row per kind (e.g. claims by outcome), with the
    kind's name on the left and its number at the bar's end."""
    if not points:
        return Chart(chart_id, title, *headings, (), _empty(chart_id, title, empty))
    top = _top(points)
    body = []
    for i, point in enumerate(points):
        y = 6 + i * _ROW
        w = _scale(point.value, top.value, _BAR_W)
        body += [
            _text(0, y + 18, point.label, fill=_INK),
            f'<rect x="{_LABEL_W}" y="{y + 4}" width="{w}" height="18" class="chart-bar" '
            f'fill="{_BAR}"/>',
            _text(_LABEL_W + w + 4, y + 18, point.shown, fill=_INK),
        ]
    height = 6 + len(points) * _ROW
    return Chart(chart_id, title, *headings, tuple(points), _svg(chart_id, title, height, body))
