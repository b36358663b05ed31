"""Replay planner (pure): for one published subject-day, trades a real market could have made that
reproduce the published figures exactly.

The lead turns each :class:`PlannedTrade` into a real quote and a real taker (listing), a directed block
agreement (block) or a one-way auction clearing (auction) and runs them through order entry, matching
and settlement; the platform's end-of-day figures must then equal :meth:`DayPlan.figures`, and those
equal the published ones unless a :class:`~cets.trading.official.Finding` says why not.

Rules obeyed (national trading rules, reference §3.1; :class:`~cets.trading.official.TradingRules`):

* listing (挂牌协议): every trade < 100,000 t, price within ±10% of the previous close (limit prices
  rounded half-up to the fen), on the 0.01 CNY tick (prices are int fen). The first trade is at the
  published open, the highest at the published high, the lowest at the published low; Σ quantity = the
  listing volume and Σ price × quantity = the listing amount to the fen (by-method file), so the close
  (VWAP rounded half-up) is the published close whenever the published close is that VWAP.
* block (大宗协议): every trade ≥ 100,000 t within ±30% of the previous close; Σ = block volume and amount.
* auction (单向竞价): one clearing at one uniform price when amount / volume is a whole fen, otherwise
  two prices one fen apart (pay-as-bid), said in a ``note`` finding.

Each method needs at most five distinct prices; trades are only split further where a listing trade
would reach 100,000 t. Where no exact plan exists the planner returns the closest valid plan and a
finding (``vwap_outside_high_low``, ``price_outside_band``, ``open_outside_high_low``, ``too_few_tonnes``,
``amount_unreachable``, ``close_not_vwap``, ``close_unreachable``, ``block_outside_band``, ``block_below_minimum``,
``block_amount_not_decomposable``, ``amount_without_volume``, ``quote_missing``); it never fudges a figure.

Public API: :func:`plan_day`, :func:`plan_all`, :func:`summarise`, :func:`analyse_official`,
:func:`plan_listing`, :func:`plan_block`, :func:`plan_auction`, :func:`plan_totals`, :func:`exact_legs`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field

from .composite import CompositeReport, compare_composite
from .official import (
    CONTRADICTION,
    NATIONAL_RULES,
    NOTE,
    UNREPRODUCIBLE,
    Finding,
    OfficialData,
    SubjectDay,
    TradingRules,
    check_published,
    vwap_fen,
)

#: Largest i + j tried when splitting a block amount over two prices b − j and b + i.
_BLOCK_SEARCH = 2000


@dataclass(frozen=True)
class PlannedTrade:
    """One trade to replay: ``method`` (``listing``/``block``/``auction``), ``price_fen`` fen per tonne (int),
    ``quantity_t`` tonnes (int). Trades of one method are listed in time order."""

    method: str
    price_fen: int
    quantity_t: int


@dataclass(frozen=True)
class Issue:
    """A finding without date and subject, as the method planners return it."""

    field: str
    published: str
    implied: str
    reason: str
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class DayFigures:
    """End-of-day figures a plan produces: per method volume (t) and amount (fen); open/high/low/close
    fen/t. Without listing trades open = close = the reference (previous close) and high = low = 0, as the
    exchange publishes them (all 1,567 such tradeable subject-days; rule: open = first listing trade, else
    the previous close, reference §3.1)."""

    volume_t: dict[str, int]
    amount_fen: dict[str, int]
    open_fen: int
    high_fen: int
    low_fen: int
    close_fen: int | None


@dataclass(frozen=True)
class DayPlan:
    """The plan for one subject-day. ``exact`` is True when no finding of kind ``contradiction`` or
    ``unreproducible`` was raised: then :meth:`figures` equal every published figure of the day."""

    date: dt.date
    subject: str
    reference_fen: int | None
    listing: tuple[PlannedTrade, ...]
    block: tuple[PlannedTrade, ...]
    auction: tuple[PlannedTrade, ...]
    auction_uniform: bool | None
    findings: tuple[Finding, ...] = field(default=())

    @property
    def exact(self) -> bool:
        return all(f.kind == NOTE for f in self.findings)

    @property
    def trades(self) -> tuple[PlannedTrade, ...]:
        """All trades: listing, then block (afternoon session), then auction."""
        return self.listing + self.block + self.auction

    def figures(self) -> DayFigures:
        """What the exchange would publish after these trades (national rules: open = first listing trade,
        close = VWAP of listing trades rounded half-up, previous close if none)."""
        vol = {m: sum(t.quantity_t for t in ts) for m, ts in
               (("listing", self.listing), ("block", self.block), ("auction", self.auction))}
        amt = {m: sum(t.quantity_t * t.price_fen for t in ts) for m, ts in
               (("listing", self.listing), ("block", self.block), ("auction", self.auction))}
        if not self.listing:
            return DayFigures(vol, amt, self.reference_fen or 0, 0, 0, self.reference_fen)
        prices = [t.price_fen for t in self.listing]
        return DayFigures(vol, amt, prices[0], max(prices), min(prices), vwap_fen(amt["listing"], vol["listing"]))


# --------------------------------------------------------------------------------------------- helpers


def _split(method: str, price: int, quantity: int, max_t: int | None) -> list[PlannedTrade]:
    """``quantity`` at ``price`` as trades of at most ``max_t`` t each, as equal as possible."""
    if quantity <= 0:
        return []
    if max_t is None or quantity <= max_t:
        return [PlannedTrade(method, price, quantity)]
    n = -(-quantity // max_t)
    base, extra = divmod(quantity, n)
    return [PlannedTrade(method, price, base + (1 if k < extra else 0)) for k in range(n)]


def _merge(legs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Add the quantity of a later leg to the first leg with the same price (keeps the first leg first)."""
    out: dict[int, int] = {}
    for price, qty in legs:
        if qty > 0:
            out[price] = out.get(price, 0) + qty
    return list(out.items())


def exact_legs(total_t: int, amount_fen: int) -> list[tuple[int, int]]:
    """``total_t`` tonnes (int) worth exactly ``amount_fen`` fen (int) as (price fen/t, tonnes) legs at two
    adjacent prices: with b = ⌊amount / total⌋ and r = amount − b·total, r t at b + 1 and total − r t at b
    (one leg when r = 0). Σq = total and Σp·q = amount to the fen, and the VWAP rounded half-up is the
    published average whenever the publication rounds amount / volume half-up. The one integer-fen
    construction of every replay (national listing, block and auction; the daily totals of the voluntary
    market, :func:`plan_totals`)."""
    if total_t == 0:
        return []
    b, r = divmod(amount_fen, total_t)
    return [(p, q) for p, q in ((b + 1, r), (b, total_t - r)) if q > 0]


def plan_totals(*, volume_t: int, amount_fen: int, method: str, max_t: int | None) -> list[PlannedTrade]:
    """Trades of ``method`` reproducing one market-wide day published only as totals (the voluntary market's
    bulletin: volume t, turnover fen): :func:`exact_legs`, each leg split into trades of at most ``max_t`` t
    (the listing size limit minus one; None: no limit). Empty for a day without volume."""
    return [t for p, q in exact_legs(volume_t, amount_fen) for t in _split(method, p, q, max_t)]


# --------------------------------------------------------------------------------------------- listing


def plan_listing(*, volume_t: int, amount_fen: int, open_fen: int, high_fen: int, low_fen: int,
                 close_fen: int | None, reference_fen: int | None,
                 rules: TradingRules = NATIONAL_RULES) -> tuple[list[PlannedTrade], list[Issue]]:
    """Listing trades (time order) for one day: ``volume_t`` t (int), ``amount_fen`` fen (int), published
    open/high/low/close and the reference price (previous close) in fen/t.

    Construction: 1 t at the open, 1 t at the high, 1 t at the low (each distinct price once), and the
    remaining R t worth the remaining S fen at b = ⌊S/R⌋ and b + 1 — possible exactly when
    low × R ≤ S ≤ high × R; quantities at one price are split below 100,000 t. At most five prices.
    Returns (trades, issues); the issues name every published figure the trades cannot reproduce.
    """
    issues: list[Issue] = []
    if volume_t == 0:
        if amount_fen:
            issues.append(Issue("listing.amount_fen", str(amount_fen), "0", "amount_without_volume", CONTRADICTION))
        return [], issues
    lo_lim, hi_lim = rules.listing_limits(reference_fen) if reference_fen is not None else (1, 10**12)
    high, low = high_fen, low_fen
    if high > hi_lim:
        issues.append(Issue("high", str(high_fen), f"<= {hi_lim}", "price_outside_band", CONTRADICTION,
                            f"reference {reference_fen}"))
        high = hi_lim
    if low < lo_lim:
        issues.append(Issue("low", str(low_fen), f">= {lo_lim}", "price_outside_band", CONTRADICTION,
                            f"reference {reference_fen}"))
        low = lo_lim
    if low > high:  # nonsense quote (low above high, or both beyond one limit): one price band left
        issues.append(Issue("low", str(low_fen), f"<= {high_fen}", "low_above_high", CONTRADICTION))
        low = high = min(max(open_fen, lo_lim), hi_lim)
    opening = min(max(open_fen, low), high)
    if opening != open_fen:
        issues.append(Issue("open", str(open_fen), f"[{low}, {high}]", "open_outside_high_low", CONTRADICTION))
    points = list(dict.fromkeys((opening, high, low)))
    if volume_t < len(points):
        issues.append(Issue("listing.volume_t", str(volume_t), f">= {len(points)}", "too_few_tonnes", UNREPRODUCIBLE,
                            "one tonne is needed at each of open, high and low"))
        points = points[:volume_t]
    p_hi, p_lo = max(points), min(points)
    rest_t = volume_t - len(points)
    rest_fen = amount_fen - sum(points)
    lo_fen, hi_fen = p_lo * rest_t, p_hi * rest_t
    if not (lo_fen <= rest_fen <= hi_fen):
        outside = not (low_fen * volume_t <= amount_fen <= high_fen * volume_t)
        reachable = (sum(points) + lo_fen, sum(points) + hi_fen)
        issues.append(Issue("listing.amount_fen", str(amount_fen), f"[{reachable[0]}, {reachable[1]}]",
                            "vwap_outside_high_low" if outside else "amount_unreachable",
                            CONTRADICTION if outside else UNREPRODUCIBLE,
                            f"VWAP {amount_fen}/{volume_t} fen/t, low {low_fen}, high {high_fen}"))
        rest_fen = min(max(rest_fen, lo_fen), hi_fen)
    legs = _merge([(p, 1) for p in points] + exact_legs(rest_t, rest_fen))
    trades = [t for p, q in legs for t in _split("listing", p, q, rules.listing_max_t)]
    if close_fen is not None:
        published_vwap = vwap_fen(amount_fen, volume_t)
        close = vwap_fen(sum(t.quantity_t * t.price_fen for t in trades), volume_t)
        if published_vwap != close_fen:
            issues.append(Issue("close", str(close_fen), str(published_vwap), "close_not_vwap", CONTRADICTION,
                                f"VWAP of {amount_fen} fen / {volume_t} t rounded half-up"))
        elif close != close_fen:
            issues.append(Issue("close", str(close_fen), str(close), "close_unreachable", UNREPRODUCIBLE,
                                "the closest plan's amount gives another VWAP"))
    return trades, issues


# --------------------------------------------------------------------------------------------- block


def _block_legs(v: int, a: int, lo: int, hi: int, m: int) -> list[tuple[int, int]] | None:
    """At most three (price, quantity) legs, each quantity ≥ ``m``, prices in [lo, hi], Σq = v, Σpq = a.

    With b = ⌊a / v⌋ and r = a − b·v: r = 0 → one leg at b; m ≤ r ≤ v − m → r t at b + 1 and v − r at b;
    otherwise two legs further apart, (b − j, q1) and (b + i, q2) with q1 = (i·v − r)/(i + j) (searched
    for i + j ≤ ``_BLOCK_SEARCH``); otherwise three legs: r < m → (b − 1, m), (b + 1, m + r), (b, rest);
    r > v − m → (b, m + r′), (b + 2, m), (b + 1, rest) with r′ = v − r — always possible once
    v ≥ 4·m and the prices are within the limits. None when nothing fits.
    """
    b, r = divmod(a, v)
    if r == 0:
        return [(b, v)] if lo <= b <= hi else None
    if m <= r <= v - m and lo <= b and b + 1 <= hi:
        return [(b + 1, r), (b, v - r)]
    for s in range(2, _BLOCK_SEARCH + 1):
        # i·v ≡ r (mod s): with g = gcd(v, s) | r, i ≡ (r/g)·(v/g)⁻¹ (mod s/g) — g candidates in 1 … s
        g = math.gcd(v, s)
        if r % g:
            continue
        step = s // g
        i0 = (r // g) * pow(v // g, -1, step) % step if step > 1 else 0
        for i in range(i0 or step, s + 1, step):
            j = s - i
            q1 = (i * v - r) // s
            q2 = v - q1
            if q1 >= m and q2 >= m and b - j >= lo and b + i <= hi:
                return [(b - j, q1), (b + i, q2)]
    if r < m:
        legs = [(b - 1, m), (b + 1, m + r), (b, v - 2 * m - r)]
    else:
        legs = [(b, m + v - r), (b + 2, m), (b + 1, v - 2 * m - (v - r))]
    rest = legs[2][1]
    if (rest >= m or rest == 0) and lo <= min(p for p, _ in legs) and max(p for p, _ in legs) <= hi:
        return [leg for leg in legs if leg[1] > 0]
    return None


def plan_block(*, volume_t: int, amount_fen: int, reference_fen: int | None,
               rules: TradingRules = NATIONAL_RULES) -> tuple[list[PlannedTrade], list[Issue]]:
    """Block trades for one day: ``volume_t`` t (int), ``amount_fen`` fen (int), each ≥ 100,000 t within
    ±30% of ``reference_fen`` (previous close, fen/t). One price when amount / volume is a whole fen,
    else two (or three) prices near the average whose quantities are all ≥ 100,000 t.

    Issues: ``block_outside_band`` (average outside the limits: closest plan at the limit),
    ``block_below_minimum`` (0 < volume < 100,000 t), ``block_amount_not_decomposable`` (no split with
    every leg ≥ 100,000 t exists, e.g. volume < 200,000 t and the average is not a whole fen: the plan
    then uses two prices one fen apart and a leg below the minimum), ``amount_without_volume``.
    """
    issues: list[Issue] = []
    if volume_t == 0:
        if amount_fen:
            issues.append(Issue("block.amount_fen", str(amount_fen), "0", "amount_without_volume", CONTRADICTION))
        return [], issues
    lo, hi = rules.block_limits(reference_fen) if reference_fen is not None else (1, 10**12)
    a = amount_fen
    if not (lo * volume_t <= a <= hi * volume_t):
        issues.append(Issue("block.amount_fen", str(amount_fen), f"[{lo * volume_t}, {hi * volume_t}]",
                            "block_outside_band", CONTRADICTION, f"limits [{lo}, {hi}] fen/t from {reference_fen}"))
        a = min(max(a, lo * volume_t), hi * volume_t)
    if volume_t < rules.block_min_t:
        issues.append(Issue("block.volume_t", str(volume_t), f">= {rules.block_min_t}", "block_below_minimum",
                            CONTRADICTION))
        legs = exact_legs(volume_t, a)
    else:
        legs = _block_legs(volume_t, a, lo, hi, rules.block_min_t)
        if legs is None:
            issues.append(Issue("block.amount_fen", str(amount_fen), f"legs >= {rules.block_min_t} t",
                                "block_amount_not_decomposable", UNREPRODUCIBLE,
                                f"{amount_fen} fen over {volume_t} t needs a leg below the minimum"))
            legs = exact_legs(volume_t, a)
    return [PlannedTrade("block", p, q) for p, q in legs], issues


# --------------------------------------------------------------------------------------------- auction


def plan_auction(*, volume_t: int, amount_fen: int) -> tuple[list[PlannedTrade], bool | None, list[Issue]]:
    """One-way auction fills for one day: ``volume_t`` t (int), ``amount_fen`` fen (int). Returns
    (trades, uniform, issues): one uniform clearing price when ``amount_fen`` is a multiple of
    ``volume_t``; otherwise pay-as-bid fills at two prices one fen apart (uniform False) with a
    ``auction_not_uniform_price`` note — the auction's announced rules may be either (reference §3.1,
    issue 6). ``uniform`` is None when there was no auction."""
    if volume_t == 0:
        issues = [Issue("auction.amount_fen", str(amount_fen), "0", "amount_without_volume", CONTRADICTION)] \
            if amount_fen else []
        return [], None, issues
    legs = exact_legs(volume_t, amount_fen)
    trades = [PlannedTrade("auction", p, q) for p, q in legs]
    if len(legs) == 1:
        return trades, True, []
    return trades, False, [Issue("auction.amount_fen", str(amount_fen), f"{volume_t} t × one price",
                                 "auction_not_uniform_price", NOTE,
                                 f"average {amount_fen}/{volume_t} fen/t is not on the tick: pay-as-bid")]


# --------------------------------------------------------------------------------------------- a day


def plan_day(day: SubjectDay, *, rules: TradingRules = NATIONAL_RULES, reference_fen: int | None = None) -> DayPlan:
    """The plan for one tradeable subject-day (:class:`~cets.trading.official.SubjectDay`).

    ``reference_fen`` (fen/t) overrides the band reference; by default it is the published previous
    close, or on a subject's first day the published open (the exchange's listing reference price).
    Raises ``ValueError`` for the composite COMCEA, which is not tradeable.
    """
    if not day.tradeable:
        raise ValueError(f"{day.subject} is not a tradeable instrument")
    ref = reference_fen if reference_fen is not None else day.reference_fen
    issues: list[Issue] = []
    q = day.quote
    if q is None:
        issues.append(Issue("quote", "", "a quote row", "quote_missing", CONTRADICTION))
        listing: list[PlannedTrade] = []
        if day.volume_t("listing"):
            issues.append(Issue("listing.volume_t", str(day.volume_t("listing")), "open/high/low",
                                "quote_missing", UNREPRODUCIBLE))
    else:
        listing, li = plan_listing(volume_t=day.volume_t("listing"), amount_fen=day.amount_fen("listing"),
                                   open_fen=q.open_fen, high_fen=q.high_fen, low_fen=q.low_fen,
                                   close_fen=q.close_fen, reference_fen=ref, rules=rules)
        issues += li
        if not listing and ref is not None and q.close_fen != ref:
            issues.append(Issue("close", str(q.close_fen), str(ref), "close_not_prev_close", CONTRADICTION))
    block, bi = plan_block(volume_t=day.volume_t("block"), amount_fen=day.amount_fen("block"), reference_fen=ref,
                           rules=rules)
    auction, uniform, ai = plan_auction(volume_t=day.volume_t("auction"), amount_fen=day.amount_fen("auction"))
    findings = tuple(Finding(day.date, day.subject, i.field, i.published, i.implied, i.reason, i.kind, i.detail)
                     for i in issues + bi + ai)
    return DayPlan(day.date, day.subject, ref, tuple(listing), tuple(block), tuple(auction), uniform, findings)


def plan_all(data: OfficialData, *, rules: TradingRules = NATIONAL_RULES) -> list[DayPlan]:
    """A plan for every tradeable subject-day (CEA, CEA21 … CEA25; not COMCEA), by date then subject."""
    return [plan_day(day, rules=rules) for day in data.tradeable_days()]


@dataclass(frozen=True)
class ReplaySummary:
    """Counts over many plans: ``subject_days``, ``exact`` plans, ``with_findings`` (not exact),
    ``findings_by_reason`` (every finding, notes included), ``trades`` by method."""

    subject_days: int
    exact: int
    with_findings: int
    findings_by_reason: dict[str, int]
    trades: dict[str, int]


def summarise(plans: list[DayPlan]) -> ReplaySummary:
    """Count plans and findings (see :class:`ReplaySummary`)."""
    reasons = Counter(f.reason for p in plans for f in p.findings)
    trades = Counter(t.method for p in plans for t in p.trades)
    exact = sum(1 for p in plans if p.exact)
    return ReplaySummary(len(plans), exact, len(plans) - exact, dict(sorted(reasons.items())), dict(sorted(trades.items())))


@dataclass(frozen=True)
class OfficialAnalysis:
    """Everything the replay needs from the published data, before any order is placed: ``plans`` (one per
    tradeable subject-day), their ``summary``, ``published`` — the findings of
    :func:`~cets.trading.official.check_published` (contradictions of the published rule and notes, kept
    apart from what the planner could not reproduce, which is in the plans' findings) — and ``composite``,
    the recomputed COMCEA against the official one."""

    plans: list[DayPlan]
    summary: ReplaySummary
    published: list[Finding]
    composite: CompositeReport


def analyse_official(data: OfficialData, *, rules: TradingRules = NATIONAL_RULES) -> OfficialAnalysis:
    """Plans, published-data checks and the composite comparison for a whole data set (pure, < 1 s for
    the 2021-07-16 … 2026-08-19 national data)."""
    plans = plan_all(data, rules=rules)
    return OfficialAnalysis(plans, summarise(plans), check_published(data, rules), compare_composite(data))
