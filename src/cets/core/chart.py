"""Grouped horizontal bar charts as geometry for inline SVG (pure: no Django, no I/O). One row per group (a
province, a sector) with one bar per series; bars scale to the largest value; whole pixels from integer
arithmetic; labels with thousands separators. A page draws the rows with ``<rect>`` and ``<text>``; no JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 760
LEFT, RIGHT, TOP = 150, 110, 10
BAR_H = 11
COLOURS = ("#dd6b20", "#2b6cb0", "#38a169", "#805ad5")


@dataclass(frozen=True)
class Bar:
    y: int
    width: int
    label: str
    colour: str
    series: str


@dataclass(frozen=True)
class Group:
    label: str
    y: int
    bars: list[Bar]


@dataclass(frozen=True)
class Legend:
    x: int
    colour: str
    series: str


@dataclass(frozen=True)
class GroupedBars:
    width: int
    height: int
    left: int
    legend_y: int
    groups: list[Group] = field(default_factory=list)
    legend: list[Legend] = field(default_factory=list)


def grouped_bars(series: list[str], groups: list[tuple[str, list[int]]]) -> GroupedBars:
    """``series`` names (up to four), ``groups`` = (label, one int per series) → geometry. Negative values draw as
    zero-width bars (their label still shows the value)."""
    top = max([v for _, vals in groups for v in vals] + [1])
    span = WIDTH - LEFT - RIGHT
    row_h = BAR_H * len(series) + 8
    out = []
    for i, (label, vals) in enumerate(groups):
        y = TOP + i * row_h
        out.append(Group(label, y, [Bar(y + j * BAR_H, max(0, v) * span // top, f"{v:,}", COLOURS[j % len(COLOURS)], series[j])
                                    for j, v in enumerate(vals)]))
    height = TOP + len(groups) * row_h + 30
    legend = [Legend(LEFT + j * 190, COLOURS[j % len(COLOURS)], s) for j, s in enumerate(series)]
    return GroupedBars(WIDTH, height, LEFT, height - 18, out, legend)
