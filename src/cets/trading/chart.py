"""Geometry of the market-data chart, drawn by the page as inline SVG (pure: no Django, no I/O).

Two panels over the same days: the close (收盘价) as a line, and the day's volume (成交量) as stacked
bars — listing agreement (挂牌协议) and block agreement (大宗协议). Prices are fen per tonne (int),
volumes tonnes (int); all coordinates are whole pixels from integer arithmetic (no float touches a
price or a volume). Labels are exact: prices as CNY with two decimals, volumes with thousands
separators. No JavaScript, no external library.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .prices import fen_to_cny

WIDTH, HEIGHT = 760, 340
LEFT, RIGHT, TOP = 70, 16, 14
PRICE_H, GAP, VOLUME_H = 190, 28, 80


@dataclass(frozen=True)
class Day:
    """One trading day: ``close_fen`` fen per tonne (int), volumes in tonnes (int)."""

    date: dt.date
    close_fen: int
    listing_t: int = 0
    block_t: int = 0


@dataclass(frozen=True)
class Bar:
    x: int
    width: int
    listing_y: int
    listing_h: int
    block_y: int
    block_h: int
    title: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right_x: int
    price_top: int
    price_bottom: int
    volume_top: int
    volume_bottom: int
    points: str  # "x,y x,y …" of the close line
    dots: list = field(default_factory=list)  # (x, y, title) per day
    bars: list = field(default_factory=list)
    y_labels: list = field(default_factory=list)  # (y, "96.25")
    x_labels: list = field(default_factory=list)  # (x, "2024-11-04")
    volume_max_label: str = "0"


def _scale(v: int, lo: int, hi: int, top: int, height: int) -> int:
    """y pixel of ``v`` in [lo, hi] on a panel from ``top`` down ``height`` pixels (hi at the top)."""
    if hi == lo:
        return top + height // 2
    return top + (hi - v) * height // (hi - lo)


def chart_of(days: list[Day]) -> Chart | None:
    """The chart of ``days`` (oldest first); None when there is no day to draw."""
    if not days:
        return None
    n = len(days)
    plot_w = WIDTH - LEFT - RIGHT
    price_top, price_bottom = TOP, TOP + PRICE_H
    vol_top = price_bottom + GAP
    vol_bottom = vol_top + VOLUME_H
    lo = min(d.close_fen for d in days)
    hi = max(d.close_fen for d in days)
    pad = max((hi - lo) // 10, hi // 100, 1)  # 10 % of the range, at least 1 % of the price
    lo, hi = max(lo - pad, 0), hi + pad
    bar_w = max(plot_w * 7 // (10 * n), 1)  # 70 % of a day's slot, at least one pixel (a range may hold ~1,000 days)

    def x_of(i: int) -> int:
        return LEFT + (2 * i + 1) * plot_w // (2 * n)  # the middle of day i's slot

    vmax = max((d.listing_t + d.block_t for d in days), default=0)
    pts, dots, bars = [], [], []
    for i, d in enumerate(days):
        x, y = x_of(i), _scale(d.close_fen, lo, hi, price_top, PRICE_H)
        pts.append(f"{x},{y}")
        dots.append((x, y, f"{d.date.isoformat()} {fen_to_cny(d.close_fen)}"))
        total = d.listing_t + d.block_t
        lh = d.listing_t * VOLUME_H // vmax if vmax else 0
        th = total * VOLUME_H // vmax if vmax else 0
        bars.append(Bar(x=x - bar_w // 2, width=bar_w, listing_y=vol_bottom - lh, listing_h=lh, block_y=vol_bottom - th, block_h=th - lh,
                        title=f"{d.date.isoformat()} {d.listing_t:,} t + {d.block_t:,} t"))
    y_labels = [(_scale(v, lo, hi, price_top, PRICE_H), fen_to_cny(v)) for v in sorted({lo, (lo + hi) // 2, hi})]
    picks = sorted({0, n // 2, n - 1})
    x_labels = [(x_of(i), days[i].date.isoformat()) for i in picks]
    return Chart(width=WIDTH, height=HEIGHT, left=LEFT, right_x=WIDTH - RIGHT, price_top=price_top, price_bottom=price_bottom,
                 volume_top=vol_top, volume_bottom=vol_bottom, points=" ".join(pts), dots=dots, bars=bars, y_labels=y_labels,
                 x_labels=x_labels, volume_max_label=f"{vmax:,}")
