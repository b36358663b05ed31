"""Replay a market that publishes one market-wide row a day (daily totals) through the platform's real trading
path, and reconcile every published figure.

The voluntary market's exchange publishes each trading day (全国温室气体自愿减排交易市场交易行情, the bulletins in
``data/real/ccer-national/ccer_daily_trades.csv``, 2024-01-22 onward) the day's volume (t), turnover (CNY to
0.01), average price (CNY/t to 0.01) and the cumulative volume and turnover since the market opened — no
figures per method, subject or price. Which market publishes this way is data: its trading pack's
``[publication] figures = "daily_totals"`` (``ccer/trading-2024-2026``).

For every day the source parsed (``parse_status`` ``ok``), :func:`~cets.trading.replay_plan.plan_totals` gives
listing trades at two adjacent prices that reproduce volume and turnover to the fen (the same integer-fen
construction as the national replay, :func:`~cets.trading.replay_plan.exact_legs`); each becomes a real quote
of the replay seller and a real take by a funded buyer (``services.order_place_queued`` / ``order_take_queued``, the
day's commands applied by one sequencer batch: :func:`~cets.trading.replay.apply_batch`): order entry checks them, the
sequencer freezes funds and units against its positions and matches, and every trade settles delivery versus payment through the
registry ledger's one write path and the fund ledger. ``day_close`` writes the platform's own daily
statistics, which are compared with the bulletin:

- ``volume`` (t), ``turnover`` (CNY, from fen), ``average`` (turnover / volume rounded half-up to the fen, the
  pack's ``publication.average_rounding``; blank on a day without trades), ``cum_volume``, ``cum_turnover``.
- ``engine``: our figure differs although the bulletin is consistent with itself — a platform defect; must be 0;
  ``published``: the bulletin contradicts itself (an average that is not turnover / volume, a cumulative figure
  that is not the previous one plus the day's) — listed, never hidden.

Rows the source marks as not parsed (``parse_status`` ``review`` or ``inferred``; ``ok`` and ``ok_no_trade`` are parsed) are **not replayed and not
guessed**: they are listed in :attr:`TotalsReport.unparsed`; the cumulative figures restart from the next parsed
day's own publication (cumulative − daily), and what the bulletins imply for the gap is reported beside it.

Subject and reference price: the bulletin names no subject; the replay trades one registry unit type of the
market's instrument family (a replay project's credits of the day's year). It publishes no close or reference
price either, so each day is opened with the day's published average as the exchange's reference (both prices
of the plan are within one fen of it, inside any band). Replay participants are synthetic, as in
:mod:`cets.trading.replay`.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from django.db.models import Sum

from cets.core.errors import InputError, InputProblem
from cets.core.quantities import is_digits
from cets.registry.models import AccountKind, CcerProject, Position, TransferKind, UnitType
from cets.registry.services import Leg, system_account, system_accounts_ensure, transfer_post, vintage_create
from cets.rules.markets import load_market
from cets.rules.packs import pack_for

from . import services as ts
from .models import DailyStat, Order, Trade
from .replay import Mismatch, Progress, _at, _fen, _Participants, apply_batch, day_trades
from .replay_plan import plan_totals

# parse_status of rows the source parsed from the bulletin: ``ok``, and ``ok_no_trade`` (the bulletin says there was no
# trade: volume and turnover 0, no average). ``review`` and ``inferred`` rows were not parsed (README).
PARSED_STATUSES = frozenset({"ok", "ok_no_trade"})
_HEADER = ("trade_date", "daily_volume_tons", "daily_turnover_yuan", "daily_avg_price_yuan_per_ton", "cumulative_volume_tons",
           "cumulative_turnover_yuan", "parse_status")


@dataclass(frozen=True)
class TotalsDay:
    """One bulletin row: ``volume_t`` t, ``amount_fen`` fen, ``average_fen`` fen/t (None when blank),
    cumulative ``cum_volume_t`` / ``cum_amount_fen`` (None for a source that publishes none); ``status`` the source's
    parse status."""

    date: dt.date
    volume_t: int
    amount_fen: int
    average_fen: int | None
    cum_volume_t: int | None
    cum_amount_fen: int | None
    status: str = "ok"
    notes: str = ""


@dataclass(frozen=True)
class Unparsed:
    """A row the source did not parse: not replayed. ``implied_volume_t`` / ``implied_amount_fen`` are what the
    neighbouring parsed rows' cumulative figures leave for the gap (None at the file's start)."""

    date: dt.date
    status: str
    notes: str
    implied_volume_t: int | None = None
    implied_amount_fen: int | None = None


@dataclass
class TotalsReport:
    """What was replayed and how it reconciled (``ok`` when no engine mismatch)."""

    market: str
    start: dt.date | None = None
    end: dt.date | None = None
    days: int = 0
    days_with_trades: int = 0
    figures: int = 0
    orders: int = 0
    trades: int = 0
    volume_t: int = 0
    amount_fen: int = 0
    engine: list[Mismatch] = field(default_factory=list)
    published: list[Mismatch] = field(default_factory=list)
    unparsed: list[Unparsed] = field(default_factory=list)
    outside: list[dt.date] = field(default_factory=list)  # rows of years no trading pack of the market covers
    elapsed_ms: int = 0

    @property
    def ok(self) -> bool:
        return not self.engine

    def summary(self) -> dict:
        """The report as JSON-ready numbers (``cets trading replay`` writes it)."""
        return {"market": self.market, "start": str(self.start), "end": str(self.end), "trading_days": self.days,
                "days_with_trades": self.days_with_trades, "figures_compared": self.figures, "orders": self.orders, "trades": self.trades,
                "volume_t": self.volume_t, "amount_fen": self.amount_fen, "engine_mismatches": len(self.engine),
                "published_contradictions": len(self.published),
                "unparsed": [{"date": str(u.date), "parse_status": u.status, "notes": u.notes, "implied_volume_t": u.implied_volume_t,
                              "implied_amount_fen": u.implied_amount_fen} for u in self.unparsed],
                "outside_trading_pack_years": len(self.outside), "elapsed_ms": self.elapsed_ms}

    def rows(self) -> list[dict]:
        """Mismatches and unparsed rows as CSV rows: date, subject, field, ours, official, category, reason."""
        out = [{"date": m.date.isoformat(), "subject": m.subject, "field": m.field, "ours": m.ours, "official": m.official,
                "category": m.category, "reason": m.reason} for m in self.engine + self.published]
        out += [{"date": u.date.isoformat(), "subject": "", "field": "*", "ours": "", "official": "", "category": "unparsed",
                 "reason": f"parse_status={u.status}: {u.notes}"} for u in self.unparsed]
        return out


def _fen_of(text: str, file: str, line: int, col: str, problems: list[InputProblem]) -> int | None:
    """CNY decimal string with at most two decimals → fen (int); a problem otherwise."""
    try:
        v = Decimal(text.strip())
    except InvalidOperation:
        v = None
    if v is None or not v.is_finite() or v < 0 or (v * 100) != (v * 100).to_integral_value():
        problems.append(InputProblem(file, line, col, text, "金额应为至多两位小数的非负数", "an amount must be ≥ 0 with at most two decimals"))
        return None
    return int(v * 100)


def _int_of(text: str, file: str, line: int, col: str, problems: list[InputProblem]) -> int | None:
    t = text.strip()
    if not is_digits(t):
        problems.append(InputProblem(file, line, col, text, "数量应为非负整数", "a quantity must be a whole number ≥ 0"))
        return None
    return int(t)


def load_totals(path: str | Path) -> list[TotalsDay]:
    """The bulletin rows of ``path`` (columns of ``data/real/ccer-national/ccer_daily_trades.csv``), by date.
    A row whose ``parse_status`` is not parsed (``ok``, ``ok_no_trade``) keeps only its date, status and notes (its figures are not read).
    Raises :class:`InputError` listing every malformed parsed row (file, row, column) and duplicate dates."""
    path = Path(path)
    problems: list[InputProblem] = []
    out: list[TotalsDay] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _HEADER if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError([InputProblem(path.name, 1, c, "", "缺少列", "missing column") for c in missing])
        seen: set[dt.date] = set()
        for line, r in enumerate(reader, start=2):
            try:
                day = dt.date.fromisoformat(r["trade_date"].strip())
            except ValueError:
                problems.append(InputProblem(path.name, line, "trade_date", r["trade_date"], "日期无效", "not a date"))
                continue
            if day in seen:
                problems.append(InputProblem(path.name, line, "trade_date", r["trade_date"], "日期重复", "duplicate date"))
                continue
            seen.add(day)
            status = r["parse_status"].strip()
            if status not in PARSED_STATUSES:
                out.append(TotalsDay(day, 0, 0, None, 0, 0, status or "?", (r.get("parse_notes") or "").strip()))
                continue
            v = _int_of(r["daily_volume_tons"], path.name, line, "daily_volume_tons", problems)
            a = _fen_of(r["daily_turnover_yuan"], path.name, line, "daily_turnover_yuan", problems)
            avg = r["daily_avg_price_yuan_per_ton"].strip()
            p = _fen_of(avg, path.name, line, "daily_avg_price_yuan_per_ton", problems) if avg else None
            cv = _int_of(r["cumulative_volume_tons"], path.name, line, "cumulative_volume_tons", problems)
            ca = _fen_of(r["cumulative_turnover_yuan"], path.name, line, "cumulative_turnover_yuan", problems)
            if None in (v, a, cv, ca) or (avg and p is None):
                continue
            out.append(TotalsDay(day, v, a, p, cv, ca, status, (r.get("parse_notes") or "").strip()))
    if problems:
        raise InputError(problems)
    return sorted(out, key=lambda d: d.date)


_BEA_HEADER = ("trade_date", "volume_t", "avg_price_cny", "amount_cny")


def load_bea_daily(path: str | Path) -> list[TotalsDay]:
    """The Beijing exchange's daily rows (``data/real/cn-pilots-bj-tj-gd-hb/beijing_bea_daily.csv``: ``trade_date``,
    ``volume_t``, ``avg_price_cny``, ``amount_cny``; no cumulative figures), by date. The file's own dirt is reported,
    never guessed (README):

    - a row whose figures are not numbers as written (typos such as ``1799.431.00`` with a dot as thousands
      separator) is kept as ``malformed`` with the row, column and reason in its notes and is not replayed;
    - a date given twice with the same figures is one day (the repeat is named in the notes); a date given twice
      with different figures is ``conflicting`` and not replayed.

    Raises :class:`InputError` for a missing column or a bad date."""
    path = Path(path)
    problems: list[InputProblem] = []
    by_day: dict[dt.date, list[tuple[int, TotalsDay]]] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _BEA_HEADER if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError([InputProblem(path.name, 1, c, "", "缺少列", "missing column") for c in missing])
        for line, r in enumerate(reader, start=2):
            try:
                day = dt.date.fromisoformat(r["trade_date"].strip())
            except ValueError:
                problems.append(InputProblem(path.name, line, "trade_date", r["trade_date"], "日期无效", "not a date"))
                continue
            bad: list[InputProblem] = []
            v = _int_of(r["volume_t"], path.name, line, "volume_t", bad)
            a = _fen_of(r["amount_cny"], path.name, line, "amount_cny", bad)
            p = _fen_of(r["avg_price_cny"], path.name, line, "avg_price_cny", bad) if r["avg_price_cny"].strip() else None
            row = (TotalsDay(day, 0, 0, None, None, None, "malformed", "; ".join(f"row {b.row} {b.field}={b.value!r}: {b.en}" for b in bad))
                   if bad else TotalsDay(day, v, a, p, None, None, "ok"))
            by_day.setdefault(day, []).append((line, row))
    if problems:
        raise InputError(problems)
    out = []
    for day, rows in sorted(by_day.items()):
        (line, first), rest = rows[0], rows[1:]
        if not rest:
            out.append(first)
        elif all(r == first for _, r in rest):
            out.append(TotalsDay(day, first.volume_t, first.amount_fen, first.average_fen, None, None, first.status,
                                 "; ".join(filter(None, [first.notes, f"rows {', '.join(str(n) for n, _ in rest)} repeat row {line}"]))))
        else:
            out.append(TotalsDay(day, 0, 0, None, None, None, "conflicting",
                                 f"rows {', '.join(str(n) for n, _ in rows)} give this date different figures"))
    return out


#: How each market's daily file is read: the trading pack's ``publication.source``.
LOADERS: dict[str, Callable[[str | Path], list[TotalsDay]]] = {"ccer_bulletins": load_totals, "bea_daily": load_bea_daily}


def _average(amount_fen: int, volume_t: int, rounding: str) -> int | None:
    """Average price fen/t (int): amount / volume rounded ``half_up`` or ``floor``; None without volume."""
    if not volume_t:
        return None
    q = Decimal(amount_fen) / Decimal(volume_t)
    return int(q.to_integral_value(rounding=ROUND_HALF_UP if rounding == "half_up" else ROUND_FLOOR))


def average_rounding(market: str, day: dt.date) -> str:
    """How ``market``'s publication rounds the daily average price (trading pack ``publication.average_rounding``)."""
    return pack_for(market, "trading", day.year).text("publication.average_rounding")


def _replay_unit_type(market: str, family: str, year: int, seller, cap_t: int) -> UnitType:
    """The replay project's unit type of ``year`` with ``cap_t`` t created (set-up, not trading)."""
    project, _ = CcerProject.objects.get_or_create(code="REPLAY", defaults={"name": "回放项目 replay project", "owner": seller})
    return vintage_create(instrument=family, vintage=str(year), cap_t=cap_t, key=f"replay-cap-{market}-{family}-{year}-{cap_t}", project=project,
                          reference="replay of the published daily volume")


def _replay_subject(market: str, rules: ts.MarketRules, year: int, seller, cap_t: int) -> tuple[str, UnitType]:
    """``(subject, unit type)`` the replay trades for rows of ``year``: a replay project's credits of the year where
    the pack lists ``[instrument_families]`` (the voluntary market); else the pack's subject whose unit type is the
    year's vintage (Beijing: BEA24 → BEA-2024), or its latest, with ``cap_t`` t created for the replay."""
    family = next(iter(rules.families or {}), None)
    if family is not None:
        ut = _replay_unit_type(market, family, year, seller, cap_t)
        return ut.code, ut
    if not rules.instruments:
        raise ValueError(f"{market}: its trading pack lists no instruments to replay")
    subject, code = next(((s, c) for s, c in sorted(rules.instruments.items()) if c.endswith(f"-{year}")),
                         max(rules.instruments.items(), key=lambda kv: kv[1]))
    instrument, vintage = code.rsplit("-", 1)
    return subject, vintage_create(instrument=instrument, vintage=vintage, cap_t=cap_t, key=f"replay-cap-{market}-{code}-{cap_t}",
                                   reference="replay of the published daily volume")


def _holder_kind(market: str) -> str:
    """The account kind replay participants open: an institution account where the market has one, else the
    market's first holder account kind (the voluntary market: ``ccer_holding``)."""
    from cets.registry.services.accounts import HOLDER_KINDS

    kinds = load_market(market).account_kinds
    if AccountKind.INSTITUTION in kinds:
        return AccountKind.INSTITUTION
    return next(k for k in kinds if k in HOLDER_KINDS)


def replay_totals_run(*, market: str, path: str | Path, start: dt.date | None = None, end: dt.date | None = None,
                      log: Callable[[str], None] = lambda m: None, progress: Callable[[Progress], None] | None = None) -> TotalsReport:
    """Replay ``market``'s bulletin rows from ``start`` to ``end`` (inclusive; default all) and reconcile.
    Raises ``InputError`` if the file is malformed. Returns the :class:`TotalsReport`. ``progress`` is called after
    every row with a :class:`~cets.trading.replay.Progress` (without it, ``log`` gets a line every 50 days)."""
    t0 = time.perf_counter_ns()
    years = set(load_market(market).years("trading"))
    source = pack_for(market, "trading", max(years)).text("publication.source") if years else "ccer_bulletins"
    rows = [r for r in LOADERS[source](path) if (start is None or r.date >= start) and (end is None or r.date <= end)]
    rep = TotalsReport(market=market)
    rep.outside = [r.date for r in rows if r.date.year not in years]  # no trading pack covers these years: not replayed
    rows = [r for r in rows if r.date.year in years]
    rep.start, rep.end = (rows[0].date, rows[-1].date) if rows else (start, end)
    if not rows:
        return rep
    rules = ts.market_rules(market, rows[0].date)
    system_accounts_ensure(market=market)
    people = _Participants(rules, market=market, account_kind=_holder_kind(market))
    seller_acc = people.seller.accounts.get(market=market)
    total = system_account(market, AccountKind.NATIONAL_TOTAL)
    units: dict[int, tuple[str, UnitType]] = {}
    for year in sorted({r.date.year for r in rows if r.status in PARSED_STATUSES}):
        q = sum(r.volume_t for r in rows if r.status in PARSED_STATUSES and r.date.year == year)
        units[year] = _replay_subject(market, ts.market_rules(market, dt.date(year, 12, 31)), year, people.seller, max(q, 1))
        ut = units[year][1]
        if q:
            transfer_post(key=f"replay-issue-{ut.code}-{q}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                          credit=Leg(seller_acc, Position.TRADING), quantity=q, reference="replay seller")
    base_v = base_a = None  # cumulative figures before the replayed run (from the publication), re-based after each gap
    ours_v = ours_a = 0
    prev: TotalsDay | None = None
    pending_gap: list[Unparsed] = []
    trades = 0
    for i, r in enumerate(rows, 1):
        if progress is not None:
            progress(Progress(i - 1, len(rows), r.date, trades, len(rep.engine)))
        if r.status not in PARSED_STATUSES:
            pending_gap.append(Unparsed(r.date, r.status, r.notes))
            prev = None
            continue
        rules = ts.market_rules(market, r.date)
        if base_v is None or pending_gap:
            nv, na = (0, 0) if r.cum_volume_t is None else (r.cum_volume_t - r.volume_t - ours_v, r.cum_amount_fen - r.amount_fen - ours_a)
            if base_v is not None and r.cum_volume_t is not None:
                gv, ga = nv - base_v, na - base_a
                pending_gap = [Unparsed(u.date, u.status, u.notes, gv if len(pending_gap) == 1 else None, ga if len(pending_gap) == 1 else None)
                               for u in pending_gap]
            rep.unparsed += pending_gap
            pending_gap = []
            base_v, base_a = nv, na
        subject, ut = units[r.date.year]
        if not ts.trading_day(market=market, day=r.date):
            # the publication has trades on a day the platform's calendar closes (a weekend make-up working day,
            # 调休): listed, not replayed, the platform's calendar is not bent to fit
            rep.unparsed.append(Unparsed(r.date, "closed_by_calendar", "published as traded on a day the market's calendar closes"))
            continue
        _replay_day(market, r, subject, rules, people, rep)
        st = DailyStat.objects.get(market=market, date=r.date, instrument=subject, method="listing")
        ours_v, ours_a = ours_v + st.volume_t, ours_a + st.amount_fen
        _reconcile(r, prev, st.volume_t, st.amount_fen, base_v + ours_v, base_a + ours_a, average_rounding(market, r.date), rep)
        prev = r
        rep.days += 1
        rep.days_with_trades += bool(r.volume_t)
        trades += day_trades(market, r.date)
        if progress is None and rep.days % 50 == 0:
            log(f"  {r.date} · {rep.days} days · {trades:,} trades · engine mismatches {len(rep.engine)}")
    if progress is not None and rows:
        progress(Progress(len(rows), len(rows), rows[-1].date, trades, len(rep.engine)))
    rep.unparsed += pending_gap
    rep.orders = Order.objects.filter(market=market).count()
    rep.trades = Trade.objects.filter(market=market).count()
    agg = Trade.objects.filter(market=market).aggregate(v=Sum("quantity_t"), a=Sum("amount_fen"))
    rep.volume_t, rep.amount_fen = agg["v"] or 0, agg["a"] or 0
    rep.elapsed_ms = (time.perf_counter_ns() - t0) // 1_000_000
    return rep


def _replay_day(market: str, r: TotalsDay, subject: str, rules: ts.MarketRules, people: _Participants, rep: TotalsReport) -> None:
    d = r.date
    reference = _average(r.amount_fen, r.volume_t, "half_up")
    ts.day_open(market=market, instrument=subject, day=d, prev_close_fen=reference, at=_at(d, 9, 15))
    quotes: list[Order] = []  # the day's quotes and their takes through the group commit, one sequencer batch per day
    for k, t in enumerate(plan_totals(volume_t=r.volume_t, amount_fen=r.amount_fen, method="listing", max_t=rules.limits.listing_max_t - 1)):
        for buyer, q in people.take(t.quantity_t):
            quote = ts.order_place_queued(key=f"r-{market}-{d}-L{k}-{buyer.pk}", participant=people.seller, instrument=subject, method="listing",
                                          side="S", price_fen=t.price_fen, quantity_t=q, actor=None, market=market, at=_at(d, 10))
            quotes.append(quote)
            ts.order_take_queued(key=f"r-{market}-{d}-L{k}-{buyer.pk}-take", participant=buyer, quote_seq=quote.seq, quantity_t=q, actor=None,
                                 market=market, at=_at(d, 10))
    apply_batch(market, quotes, rep.engine)
    ts.day_close(market=market, instrument=subject, day=d)


def _reconcile(r: TotalsDay, prev: TotalsDay | None, volume_t: int, amount_fen: int, cum_v: int, cum_a: int, rounding: str,
               rep: TotalsReport) -> None:
    """Compare the platform's figures of one day with the bulletin; a difference is ``published`` when the
    bulletin contradicts itself on that figure, else ``engine``."""
    own_avg = _average(r.amount_fen, r.volume_t, rounding)
    cumulative = r.cum_volume_t is not None
    contradicts = {
        "average": r.average_fen is not None and r.average_fen != own_avg,
        "cum_volume": cumulative and prev is not None and prev.cum_volume_t + r.volume_t != r.cum_volume_t,
        "cum_turnover": cumulative and prev is not None and prev.cum_amount_fen + r.amount_fen != r.cum_amount_fen,
    }
    for fld, flag in contradicts.items():
        if flag:
            rep.published.append(Mismatch(r.date, "*", fld, "", "", "published-contradiction", f"the bulletin's {fld} does not follow from its own figures"))
    ours_avg = _average(amount_fen, volume_t, rounding)
    figures = [("volume", volume_t, r.volume_t), ("turnover", _fen(amount_fen), _fen(r.amount_fen)),
               ("average", _fen(ours_avg) if r.average_fen is not None else "", _fen(r.average_fen))]
    if cumulative:
        figures += [("cum_volume", cum_v, r.cum_volume_t), ("cum_turnover", _fen(cum_a), _fen(r.cum_amount_fen))]
    for fld, ours, official in figures:
        rep.figures += 1
        if ours == official:
            continue
        cat = "published" if contradicts.get(fld) else "engine"
        (rep.published if cat == "published" else rep.engine).append(Mismatch(r.date, "*", fld, str(ours), str(official), cat))
