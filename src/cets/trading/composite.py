"""The composite subject COMCEA (全国碳市场综合价格行情), computed from the vintage subjects (pure).

COMCEA is published beside the vintage allowances (CEA = 19-20, CEA21 … CEA25) but is not tradeable.
No rule text describing it was found; what follows is inferred from the published data
(``data/cea-national-official``, 2021-07-16 … 2026-08-19) and is tagged [M] until a source is found:

* **Volumes, amounts and counters** of every method (listing, block, auction; day, year-to-date,
  cumulative) are the sums over the vintage subjects: 2,927 of 2,927 method-days match to the tonne and
  the fen.
* **Price, until 2025-12-31** (rule ``mean``): an equally weighted index of the vintage subjects listed
  that day. Close = arithmetic mean of the subjects' closes (a subject without trades counts with its
  close = previous close; a vintage on its first day with its reference price), rounded half-up to the
  fen. While only CEA existed (to 2023-08-25) that is CEA's own quote. Intraday the index is recomputed
  at each trade from the subjects' last prices (previous close before a subject's first trade), so the
  open is the mean with the first-traded subject at its open and the others at their previous close; the
  high and low are intraday extremes that daily data fix only when one subject traded (otherwise they
  are bounded, see :class:`CompositeDay`). Half-up is the rounding of 1,081 of the 1,082 closes; the
  exception is 2024-12-26 (mean 97.805, published 97.80).
* **Price, from 2026-01-01** (rule ``main``): the quote of the newest vintage (CEA25, listed
  2026-01-05 at the composite's last close 74.63): close = its close; open = its open, or the composite's
  previous close when another subject traded first; high/low = its high/low widened by that open; on a
  day when the newest vintage did not trade, open = high = low = close = its close.

Public API: :func:`composite_day`, :func:`compare_composite`, :data:`MAIN_VINTAGE_FROM`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .book import round_half_up
from .official import COMPOSITE, METHODS, OfficialData, SubjectDay

#: First day on which the composite's price is the newest vintage's instead of the mean (inferred, [M]).
MAIN_VINTAGE_FROM = dt.date(2026, 1, 1)

COUNTERS = ("volume_t", "amount_fen", "ytd_volume_t", "ytd_amount_fen", "cum_volume_t", "cum_amount_fen")


@dataclass(frozen=True)
class CompositeDay:
    """The composite the platform would publish for one date.

    ``figures[(method, counter)]`` t or fen (int), counters as in :data:`COUNTERS`; prices fen/t (int):
    ``close_fen`` exact; ``open_fen`` when it is determined (else None, and ``open_candidates`` lists
    the possible values); ``high_fen``/``low_fen`` when determined, else None and the published value
    must lie within ``high_range``/``low_range`` (inclusive). ``rule`` is ``mean`` or ``main``;
    ``traded`` tells whether any subject had listing trades.
    """

    date: dt.date
    rule: str
    figures: dict[tuple[str, str], int]
    traded: bool
    close_fen: int
    open_fen: int | None
    open_candidates: tuple[int, ...]
    high_fen: int | None
    low_fen: int | None
    high_range: tuple[int, int]
    low_range: tuple[int, int]


def _prev(day: SubjectDay) -> int:
    assert day.quote is not None
    return day.quote.prev_close_fen if day.quote.prev_close_fen is not None else day.quote.open_fen


def _traded(day: SubjectDay) -> bool:
    return day.quote is not None and day.volume_t("listing") > 0


def composite_day(subject_days: list[SubjectDay], *, previous_close_fen: int | None) -> CompositeDay:
    """The composite of one date from that date's vintage subject-days (COMCEA rows in the list are
    ignored). ``previous_close_fen`` is the composite's close of the previous trading day (fen/t; used by
    the ``main`` rule when another subject traded before the newest vintage). Raises ``ValueError`` for
    an empty list or a vintage subject without a quote."""
    days = sorted((d for d in subject_days if d.subject != COMPOSITE), key=lambda d: d.subject)
    if not days:
        raise ValueError("no vintage subject on this date")
    if any(d.quote is None for d in days):
        raise ValueError("a vintage subject has no quote")
    date = days[0].date
    figures: dict[tuple[str, str], int] = {}
    for m in METHODS:
        rows = [d.methods[m] for d in days if m in d.methods]
        if rows:
            for c in COUNTERS:
                figures[(m, c)] = sum(getattr(r, c) for r in rows)
    traded = [d for d in days if _traded(d)]
    if date >= MAIN_VINTAGE_FROM:
        return _main(date, days, traded, figures, previous_close_fen)
    n = len(days)
    quotes = {d.subject: d.quote for d in days if d.quote is not None}
    close = round_half_up(sum(q.close_fen for q in quotes.values()), n)
    if not traded:
        return CompositeDay(date, "mean", figures, False, close, close, (close,), None, None, (0, 0), (0, 0))
    total_prev = sum(_prev(d) for d in days)
    cands = tuple(sorted({round_half_up(total_prev - _prev(t) + quotes[t.subject].open_fen, n) for t in traded}))
    # before its first trade a subject counts at its previous close, afterwards within [its low, its high]
    hi_top = round_half_up(sum(max(_prev(d), quotes[d.subject].high_fen) if _traded(d) else quotes[d.subject].close_fen
                               for d in days), n)
    lo_bottom = round_half_up(sum(min(_prev(d), quotes[d.subject].low_fen) if _traded(d) else quotes[d.subject].close_fen
                                  for d in days), n)
    if len(traded) == 1:
        t = quotes[traded[0].subject]
        others = total_prev - _prev(traded[0])
        high, low = round_half_up(others + t.high_fen, n), round_half_up(others + t.low_fen, n)
        return CompositeDay(date, "mean", figures, True, close, cands[0], cands, high, low, (high, high), (low, low))
    return CompositeDay(date, "mean", figures, True, close, None, cands, None, None,
                        (min(cands), hi_top), (lo_bottom, max(cands)))


def _main(date: dt.date, days: list[SubjectDay], traded: list[SubjectDay], figures: dict,
          prev: int | None) -> CompositeDay:
    main = max(days, key=lambda d: (d.subject != "CEA", d.subject))
    q = main.quote
    assert q is not None
    if not _traded(main):
        c = q.close_fen
        return CompositeDay(date, "main", figures, bool(traded), c, c, (c,), c, c, (c, c), (c, c))
    cands = (q.open_fen,) if len(traded) == 1 or prev is None else tuple(sorted({q.open_fen, prev}))
    if len(cands) == 1:
        return CompositeDay(date, "main", figures, True, q.close_fen, q.open_fen, cands, q.high_fen, q.low_fen,
                            (q.high_fen, q.high_fen), (q.low_fen, q.low_fen))
    return CompositeDay(date, "main", figures, True, q.close_fen, None, cands, None, None,
                        (q.high_fen, max(q.high_fen, *cands)), (min(q.low_fen, *cands), q.low_fen))


@dataclass(frozen=True)
class CompositeDiff:
    """One published COMCEA figure that differs from the computed one: ``field`` (``close``,
    ``listing.volume_t``, ``high`` …), published and computed (t, fen or fen/t as text), ``reason``
    (``differs``, ``outside_range``, ``not_a_candidate``, ``quote_missing``)."""

    date: dt.date
    field: str
    published: str
    computed: str
    reason: str


@dataclass
class CompositeReport:
    """Per date the computed composite against the official COMCEA rows. ``days`` dates compared;
    ``matching`` dates where every figure matches (exact figures to the fen and tonne; undetermined
    highs/lows/opens within their range or candidates); ``close_matching``; ``diffs`` every difference."""

    days: int = 0
    matching: int = 0
    close_matching: int = 0
    close_compared: int = 0
    figures_matching: int = 0
    diffs: list[CompositeDiff] = field(default_factory=list)
    determined: dict[str, int] = field(default_factory=dict)


def compare_composite(data: OfficialData) -> CompositeReport:
    """Compute the composite for every date that has vintage subjects and compare it with the official
    COMCEA by-method rows and quote. Open/high/low are compared only on days with listing trades (the
    exchange publishes 0 or the close otherwise); ``determined`` counts how many opens/highs/lows were
    fixed by the daily data (the rest are checked against their range)."""
    report = CompositeReport(determined={"open": 0, "high": 0, "low": 0, "undetermined": 0})
    prev_close: int | None = None
    by_date: dict[dt.date, list[SubjectDay]] = {}
    for (date, _), day in sorted(data.days.items()):
        by_date.setdefault(date, []).append(day)
    for date, subs in by_date.items():
        vintages = [s for s in subs if s.tradeable]
        official = data.days.get((date, COMPOSITE))
        if not vintages:
            continue
        comp = composite_day(vintages, previous_close_fen=prev_close)
        report.days += 1
        diffs: list[CompositeDiff] = []
        figures_ok = True
        for (m, c), value in comp.figures.items():
            pub = official.methods.get(m) if official else None
            if pub is None or getattr(pub, c) != value:
                figures_ok = False
                diffs.append(CompositeDiff(date, f"{m}.{c}", str(getattr(pub, c)) if pub else "", str(value), "differs"))
        report.figures_matching += figures_ok
        q = official.quote if official else None
        if q is None:
            diffs.append(CompositeDiff(date, "quote", "", str(comp.close_fen), "quote_missing"))
        else:
            listing_v = comp.figures.get(("listing", "volume_t"), 0)
            if q.volume_t != listing_v:
                diffs.append(CompositeDiff(date, "quote.volume_t", str(q.volume_t), str(listing_v), "differs"))
            report.close_compared += 1
            if q.close_fen == comp.close_fen:
                report.close_matching += 1
            else:
                diffs.append(CompositeDiff(date, "close", str(q.close_fen), str(comp.close_fen), "differs"))
            if comp.traded and q.volume_t > 0:
                for name, exact, rng, pub in (("high", comp.high_fen, comp.high_range, q.high_fen),
                                              ("low", comp.low_fen, comp.low_range, q.low_fen)):
                    if exact is not None:
                        report.determined[name] += 1
                        if pub != exact:
                            diffs.append(CompositeDiff(date, name, str(pub), str(exact), "differs"))
                    else:
                        report.determined["undetermined"] += 1
                        if not rng[0] <= pub <= rng[1]:
                            diffs.append(CompositeDiff(date, name, str(pub), f"[{rng[0]}, {rng[1]}]", "outside_range"))
                if comp.open_fen is not None:
                    report.determined["open"] += 1
                    if q.open_fen != comp.open_fen:
                        diffs.append(CompositeDiff(date, "open", str(q.open_fen), str(comp.open_fen), "differs"))
                elif q.open_fen not in comp.open_candidates:
                    diffs.append(CompositeDiff(date, "open", str(q.open_fen),
                                               "/".join(map(str, comp.open_candidates)), "not_a_candidate"))
            prev_close = q.close_fen
        if q is None:
            prev_close = comp.close_fen
        report.matching += not diffs
        report.diffs += diffs
    return report
