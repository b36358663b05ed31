"""Geometry of the allocation-against-verified-emissions chart, drawn by the page as inline SVG (pure: no
Django, no I/O). One row per group (a province or a sector) with two horizontal bars — Σ final
allocation and Σ verified emissions, tonnes (int). Whole pixels from integer arithmetic; labels
with thousands separators. No JavaScript."""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 760
LEFT, RIGHT, TOP = 150, 110, 10
BAR_H, ROW_H = 11, 30


@dataclass(frozen=True)
class Row:
    label: str
    y: int
    allocation_w: int
    verified_w: int
    allocation_label: str
    verified_label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    rows: list = field(default_factory=list)


def bar_chart(groups: list[tuple[str, int, int]]) -> BarChart:
    """``groups`` = (label, allocation_t, verified_t) → geometry; bars scale to the largest value."""
    top = max([max(a, v) for _, a, v in groups] + [1])
    span = WIDTH - LEFT - RIGHT
    rows = [Row(label=label, y=TOP + i * ROW_H, allocation_w=max(0, a) * span // top, verified_w=max(0, v) * span // top,
                allocation_label=f"{a:,}", verified_label=f"{v:,}") for i, (label, a, v) in enumerate(groups)]
    return BarChart(width=WIDTH, height=TOP + len(groups) * ROW_H + 30, left=LEFT, rows=rows)
