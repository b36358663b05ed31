"""Replay the national market's published days through the platform's real trading path, and reconcile.

For every trading day and every tradeable subject (CEA, CEA21 … CEA25) in the official files
(``data/cea-national-official``), the pure planner (``replay_plan.plan_day``) gives trades that reproduce
the published figures; this module turns each into real orders — a listing quote and its taker, a
directed block order and its confirmation, a one-way auction with sealed bids — through
``services.order_place_queued`` / ``order_take_queued`` (the group commit: the entry checks, then the command log;
each subject-day's commands applied by one batch of :func:`~cets.trading.services.sequencer_drain`) and
``auction_*``, so every trade passes order entry, the sequencer (freezes against its positions) and the book, and
settles delivery versus payment in the registry and the fund ledger.
``day_close`` then publishes the platform's own end-of-day figures, which are compared with the
official ones field by field:

- ``engine``: our figure differs although the published figures are consistent with the rules — a
  defect of the platform; must be zero;
- ``published``: the published figures contradict the published rule (the planner's findings of kind
  ``contradiction``/``unreproducible``: a close that is not the VWAP, counters that do not add up …);
  listed with the reason, never hidden.

Replay participants are synthetic key emitting entities (only key emitters trade CEA: the trading pack's
``[trading_rights]``): one seller that receives each vintage's replayed volume by issuance, and buyers funded by deposits, each buying up to the pack's maximum
holding before the next takes over (large planned trades are split between buyers at the same price,
which changes the trade count but no published figure).

Runs against the configured database; the ``cets trading replay`` command gives it a fresh one.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Sum

from cets.core.uscc import check_character
from cets.parties.models import Organisation
from cets.registry.models import AccountKind, Instrument, Position, TransferKind, UnitType
from cets.registry.services import Leg, account_open, system_account, system_accounts_ensure, transfer_post, vintage_create
from cets.rules.markets import PRIMARY_MARKET

from . import services as ts
from .composite import composite_day
from .models import DailyQuote, DailyStat, Order, Trade
from .official import CONTRADICTION, UNREPRODUCIBLE, OfficialData, SubjectDay, load_official
from .replay_plan import DayPlan, plan_day
from .services.funds import funds_deposit

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARKET = PRIMARY_MARKET
BUYER_CAPACITY_T = 1_000_000  # a replay buyer buys at most this much (or the pack's maximum holding, if lower)
BUYER_CASH_FEN = 30_100_000_000  # 301,000,000.00 CNY: 1,000,000 t at up to 300 CNY/t with fees


@dataclass(frozen=True)
class Mismatch:
    """One figure where the platform and the official publication differ. ``category`` ``engine`` (our
    defect) or ``published`` (the publication contradicts its own rule; ``reason`` says how)."""

    date: dt.date
    subject: str
    field: str
    ours: str
    official: str
    category: str
    reason: str = ""


@dataclass(frozen=True)
class Progress:
    """Where a replay stands after a day: ``done`` of ``total`` days replayed (the last is ``day``), ``trades`` settled
    so far, ``engine`` mismatches so far (must stay 0). The CLI draws it as a progress bar."""

    done: int
    total: int
    day: dt.date
    trades: int
    engine: int


def day_trades(market: str, day: dt.date) -> int:
    """Trades (int) ``market`` settled on ``day`` (one indexed count: a replay's running total)."""
    return Trade.objects.filter(market=market, trading_day=day).count()


@dataclass
class ReplayReport:
    """What was replayed and how it reconciled."""

    start: dt.date | None = None
    end: dt.date | None = None
    trading_days: int = 0
    subject_days: int = 0
    orders: int = 0
    trades: int = 0
    volume_t: dict[str, int] = field(default_factory=dict)
    amount_fen: dict[str, int] = field(default_factory=dict)
    engine: list[Mismatch] = field(default_factory=list)
    published: list[Mismatch] = field(default_factory=list)
    findings_by_reason: dict[str, int] = field(default_factory=dict)
    composite_days: int = 0
    composite_close_matches: int = 0
    composite_diffs: list[Mismatch] = field(default_factory=list)
    publication: list[Mismatch] = field(default_factory=list)
    elapsed_ms: int = 0  # wall time of the run, milliseconds

    @property
    def ok(self) -> bool:
        return not self.engine


class _Participants:
    """The replay's seller and its rotating buyers."""

    def __init__(self, rules: ts.MarketRules, *, market: str = MARKET, account_kind: str = AccountKind.ENTITY) -> None:
        self.market, self.account_kind = market, account_kind
        self.limit = min(rules.max_holding_non_entity_t or BUYER_CAPACITY_T, BUYER_CAPACITY_T)
        self.seller = self._org("回放卖方 replay seller", 0)
        self.buyers: list[Organisation] = []
        self.room: list[int] = []

    def _org(self, name: str, n: int) -> Organisation:
        body = f"9131000{n:010d}"
        org, _ = Organisation.objects.get_or_create(uscc=body + check_character(body), defaults={
            "name": name, "kind": Organisation.Kind.ENTITY, "province": "31", "region_code": "310000"})
        account_open(holder=org, kind=self.account_kind, market=self.market)
        return org

    def _new_buyer(self) -> int:
        n = len(self.buyers) + 1
        org = self._org(f"回放买方{n:04d} replay buyer", n)
        funds_deposit(key=f"replay-deposit-{self.market}-{n}", holder=org, amount_fen=BUYER_CASH_FEN, actor=None, market=self.market)
        held = (org.accounts.filter(market=self.market).values_list("holdings__quantity", flat=True))
        self.buyers.append(org)
        self.room.append(self.limit - sum(q or 0 for q in held))
        return len(self.buyers) - 1

    def take(self, quantity: int, minimum: int = 1, exclude: set[int] = frozenset()) -> list[tuple[Organisation, int]]:
        """Split ``quantity`` over buyers with room, every piece ≥ ``minimum`` (the block size): a rest
        below twice the minimum goes whole to one buyer."""
        out = []
        left = quantity
        i = 0
        while left:
            need = left if left < 2 * minimum else minimum
            while i < len(self.buyers) and (i in exclude or self.room[i] < need):
                i += 1
            if i == len(self.buyers):
                i = self._new_buyer()
            piece = min(left, self.room[i])
            if 0 < left - piece < minimum:  # never leave a rest below the minimum
                piece = left - minimum
            self.room[i] -= piece
            out.append((self.buyers[i], piece))
            left -= piece
            exclude = exclude | {i}
        return out


def _unit_type_for(rules: ts.MarketRules, subject: str, cap_t: int) -> UnitType:
    code = rules.instruments[subject]
    vintage = code.split("-", 1)[1]
    return vintage_create(instrument=Instrument.CEA, vintage=vintage, cap_t=cap_t, key=f"replay-cap-{code}-{cap_t}",
                          reference=f"replay of the published {subject} volume")


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), SHANGHAI)


def replay_run(*, by_method_path: str, quotes_path: str, start: dt.date | None = None, end: dt.date | None = None,
               log: Callable[[str], None] = lambda m: None, progress: Callable[[Progress], None] | None = None) -> ReplayReport:
    """Replay the official days from ``start`` to ``end`` (inclusive; default all) and reconcile.
    Raises ``InputError`` if a file is malformed. Returns the :class:`ReplayReport`. ``progress`` is called
    after every day with a :class:`Progress` (without it, ``log`` gets a line every 20 days)."""
    t0 = time.perf_counter_ns()
    data = load_official(by_method_path, quotes_path)
    days = [d for d in data.dates() if (start is None or d >= start) and (end is None or d <= end)]
    rep = ReplayReport(start=days[0] if days else start, end=days[-1] if days else end)
    if not days:
        return rep
    rules = ts.market_rules(MARKET, days[0])
    system_accounts_ensure(market=MARKET)
    people = _Participants(rules)
    seller_acc = people.seller.accounts.get(market=MARKET)
    # Units: the seller receives each subject's replayed volume by issuance (set-up, not trading).
    need: Counter = Counter()
    for d in days:
        for sd in data.subjects_on(d):
            if sd.tradeable:
                need[sd.subject] += sum(sd.volume_t(m) for m in ("listing", "block", "auction"))
    total = system_account(MARKET, AccountKind.NATIONAL_TOTAL)
    for subject, q in sorted(need.items()):
        if q:
            ut = _unit_type_for(rules, subject, q)
            transfer_post(key=f"replay-issue-{ut.code}-{q}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                          credit=Leg(seller_acc, Position.TRADING), quantity=q, reference="replay seller")
        else:
            _unit_type_for(rules, subject, 1)
    baselines: dict[tuple[str, str], tuple[int, int, int, int, int]] = {}
    reasons: Counter = Counter()
    prev_composite: int | None = None
    trades = 0
    for d in days:
        rep.trading_days += 1
        subject_days = [sd for sd in data.subjects_on(d) if sd.tradeable]
        for sd in subject_days:
            plan = plan_day(sd)
            _replay_subject_day(sd, plan, people, seller_acc, rep)
            _reconcile(sd, plan, rep, baselines, reasons)
            rep.subject_days += 1
        comp = next((sd for sd in data.subjects_on(d) if not sd.tradeable), None)
        if comp is not None:
            prev_composite = _reconcile_composite(d, subject_days, comp, prev_composite, rep)
        trades += day_trades(MARKET, d)
        if progress is not None:
            progress(Progress(rep.trading_days, len(days), d, trades, len(rep.engine)))
        elif rep.trading_days % 20 == 0:
            log(f"  {d} · {rep.subject_days:,} subject-days · {trades:,} trades · engine mismatches {len(rep.engine)}")
    # The publication checked against its own rules, whatever the replay did (e.g. quote-file amounts
    # truncated to the yuan, a composite day without a quote): listed, not hidden.
    for f in published_contradictions(data):
        if rep.start <= f.date <= rep.end:
            rep.publication.append(Mismatch(f.date, f.subject, f.field, f.implied, f.published, f"published-{f.kind}", f.reason))
            reasons[f"published:{f.reason}"] += 1
    rep.findings_by_reason = dict(sorted(reasons.items()))
    rep.orders = Order.objects.filter(market=MARKET).count()
    rep.trades = Trade.objects.filter(market=MARKET).count()
    for m in ("listing", "block", "auction"):
        agg = Trade.objects.filter(market=MARKET, method=m).aggregate(v=Sum("quantity_t"), a=Sum("amount_fen"))
        rep.volume_t[m], rep.amount_fen[m] = agg["v"] or 0, agg["a"] or 0
    rep.elapsed_ms = (time.perf_counter_ns() - t0) // 1_000_000
    return rep


def _replay_subject_day(sd: SubjectDay, plan: DayPlan, people: _Participants, seller_acc, rep: ReplayReport) -> None:
    d, subject = sd.date, sd.subject
    ts.day_open(market=MARKET, instrument=subject, day=d, prev_close_fen=sd.reference_fen)
    seller = people.seller
    k = 0
    quotes: list[Order] = []  # the day's planned quotes and their takes go through the group commit, one batch per subject-day
    for t in plan.listing:
        k += 1
        for buyer, q in people.take(t.quantity_t):
            quote = ts.order_place_queued(key=f"r-{d}-{subject}-L{k}-{buyer.pk}", participant=seller, instrument=subject, method="listing",
                                          side="S", price_fen=t.price_fen, quantity_t=q, actor=None, at=_at(d, 10))
            quotes.append(quote)
            ts.order_take_queued(key=f"r-{d}-{subject}-L{k}-{buyer.pk}-take", participant=buyer, quote_seq=quote.seq, quantity_t=q, actor=None,
                                 at=_at(d, 10))
    for t in plan.block:
        k += 1
        for buyer, q in people.take(t.quantity_t, minimum=ts.market_rules(MARKET, d).limits.block_min_t):
            order = ts.order_place_queued(key=f"r-{d}-{subject}-B{k}-{buyer.pk}", participant=seller, instrument=subject, method="block",
                                          side="S", price_fen=t.price_fen, quantity_t=q, counterparty=buyer, actor=None, at=_at(d, 14))
            quotes.append(order)
            ts.order_take_queued(key=f"r-{d}-{subject}-B{k}-{buyer.pk}-confirm", participant=buyer, quote_seq=order.seq, quantity_t=q, actor=None,
                                 at=_at(d, 14))
    apply_batch(MARKET, quotes, rep.engine)
    if plan.auction:
        qty = sum(t.quantity_t for t in plan.auction)
        offer = ts.auction_offer(key=f"r-{d}-{subject}-A", initiator=seller, instrument=subject, quantity_t=qty,
                                 floor_fen=min(t.price_fen for t in plan.auction), pricing="uniform" if plan.auction_uniform else "pay_as_bid",
                                 actor=None, at=_at(d, 10, 30))
        used: set[int] = set()
        for j, t in enumerate(plan.auction):
            for buyer, q in people.take(t.quantity_t, exclude=used):
                used.add(people.buyers.index(buyer))
                ts.auction_bid(key=f"r-{d}-{subject}-A{j}-{buyer.pk}", participant=buyer, auction_seq=offer.seq, price_fen=t.price_fen,
                               quantity_t=q, actor=None, at=_at(d, 10, 30))
        ts.auction_close(key=f"r-{d}-{subject}-A-clear", auction_seq=offer.seq, actor=None, at=_at(d, 11))
    ts.day_close(market=MARKET, instrument=subject, day=d)


def apply_batch(market: str, quotes: list[Order], engine: list[Mismatch]) -> None:
    """Apply the commands queued for one replayed day (its planned quotes and their takes) in one sequencer batch
    (:func:`~cets.trading.services.sequencer_drain`), then record in ``engine`` each planned quote the book refused
    or left unapplied — our engine disagreeing with a valid plan: recorded, not hidden. A quote its take filled is
    ``filled``; one whose take was refused stays ``resting`` (the day's volume then differs from the official one,
    which the reconciliation reports)."""
    if not quotes:
        return
    ts.sequencer_drain(market=market)
    applied = {o.seq: o for o in Order.objects.filter(market=market, seq__in=[o.seq for o in quotes])}
    for quote in quotes:
        o = applied[quote.seq]
        if o.status not in (Order.Status.RESTING, Order.Status.FILLED) or o.voided:
            engine.append(Mismatch(o.trading_day, o.instrument, f"order #{o.seq}", o.status, "resting", "engine", f"{o.reject_code} {o.reject_detail}"))


def _fen(v: int | None) -> str:
    return "" if v is None else f"{v // 100}.{v % 100:02d}"


def _reconcile(sd: SubjectDay, plan: DayPlan, rep: ReplayReport, baselines: dict, reasons: Counter) -> None:
    """Compare the platform's figures of one subject-day with the official ones."""
    explained: dict[str, str] = {}
    for f in plan.findings:
        reasons[f.reason] += 1
        if f.kind in (CONTRADICTION, UNREPRODUCIBLE):
            explained.setdefault(f.field, f.reason)

    def differ(fld: str, ours, official) -> None:
        if ours == official:
            return
        reason = explained.get(fld) or next((r for k, r in explained.items() if fld.startswith(k.split(".")[0] + ".") or k == "*"), "")
        cat = "published" if reason else "engine"
        (rep.published if reason else rep.engine).append(Mismatch(sd.date, sd.subject, fld, str(ours), str(official), cat, reason))

    stats = {st.method: st for st in DailyStat.objects.filter(market=MARKET, date=sd.date, instrument=sd.subject)}
    for m, f in sd.methods.items():
        st = stats[m]
        key = (sd.subject, m)
        if key not in baselines:
            # A replay that starts after the subject's first day: the counters before it come from the publication.
            baselines[key] = (sd.date.year, f.ytd_volume_t - f.volume_t, f.ytd_amount_fen - f.amount_fen,
                              f.cum_volume_t - f.volume_t, f.cum_amount_fen - f.amount_fen)
        y, yv, ya, cv, ca = baselines[key]
        if y != sd.date.year:
            yv = ya = 0
        differ(f"{m}.volume", st.volume_t, f.volume_t)
        differ(f"{m}.amount", _fen(st.amount_fen), _fen(f.amount_fen))
        differ(f"{m}.ytd_volume", st.ytd_volume_t + yv, f.ytd_volume_t)
        differ(f"{m}.ytd_amount", _fen(st.ytd_amount_fen + ya), _fen(f.ytd_amount_fen))
        differ(f"{m}.cum_volume", st.cum_volume_t + cv, f.cum_volume_t)
        differ(f"{m}.cum_amount", _fen(st.cum_amount_fen + ca), _fen(f.cum_amount_fen))
    q = DailyQuote.objects.get(market=MARKET, date=sd.date, instrument=sd.subject)
    if sd.quote is not None:
        for fld, ours, official in (("open", q.open_fen, sd.quote.open_fen), ("high", q.high_fen, sd.quote.high_fen),
                                    ("low", q.low_fen, sd.quote.low_fen), ("close", q.close_fen, sd.quote.close_fen)):
            differ(fld, _fen(ours), _fen(official))


def _reconcile_composite(d: dt.date, subject_days: list[SubjectDay], comp: SubjectDay, prev: int | None, rep: ReplayReport) -> int | None:
    """The composite the platform would publish (``composite.composite_day`` over the platform's own
    quotes) against the official COMCEA close."""
    ours = {q.instrument: q for q in DailyQuote.objects.filter(market=MARKET, date=d)}
    rebuilt = []
    for sd in subject_days:
        q = ours.get(sd.subject)
        if q is None or sd.quote is None:
            continue
        rebuilt.append(_with_platform_quote(sd, q))
    if not rebuilt or comp.quote is None:
        return prev
    cd = composite_day(rebuilt, previous_close_fen=prev)
    rep.composite_days += 1
    if cd.close_fen == comp.quote.close_fen:
        rep.composite_close_matches += 1
    else:
        rep.composite_diffs.append(Mismatch(d, "COMCEA", "close", _fen(cd.close_fen), _fen(comp.quote.close_fen), "composite",
                                            "platform composite vs published"))
    return comp.quote.close_fen


def _with_platform_quote(sd: SubjectDay, q: DailyQuote) -> SubjectDay:
    from dataclasses import replace

    from .official import Quote

    return replace(sd, quote=Quote(q.open_fen, q.high_fen, q.low_fen, q.close_fen, q.prev_close_fen, q.volume_t, q.amount_fen))


def published_contradictions(data: OfficialData) -> list:
    """Every finding the pure checks raise over the published files (for the report's appendix)."""
    from .official import check_published

    return check_published(data)


def report_rows(rep: ReplayReport) -> list[dict]:
    """The mismatches as rows for CSV: date, subject, field, ours (or what the rule implies), official, category
    (``engine``, ``published``, ``composite``, ``published-contradiction``, ``published-note``), reason."""
    rows = []
    for m in rep.engine + rep.published + rep.composite_diffs + rep.publication:
        rows.append({"date": m.date.isoformat(), "subject": m.subject, "field": m.field, "ours": m.ours, "official": m.official,
                     "category": m.category, "reason": m.reason})
    return rows
