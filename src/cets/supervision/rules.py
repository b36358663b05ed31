"""Pure supervision rules (no Django, no database): the false-reporting fine ranges and the market
surveillance alerts over a trade and order log. Numbers come from the market's supervision pack
(``kind = "supervision"``, e.g. ``national/supervision-2021-2026``); callers pass them in.

Money in fen (int), quantities in tonnes (int), shares as :class:`~decimal.Decimal`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class FineRange:
    """A fine range in fen with the clause it comes from."""

    min_fen: int
    max_fen: int
    source: str


def measures_fine_range(*, fine_min_fen: Decimal, fine_max_fen: Decimal) -> FineRange:
    """Measures Art. 43 (生态环境部令第19号): 虚报、瞒报… 处以1万元以上3万元以下的罚款 → (1,000,000, 3,000,000) fen
    with the national pack."""
    return FineRange(int(fine_min_fen), int(fine_max_fen), "《碳排放权交易管理办法（试行）》第四十三条")


SRC_ART_22 = "《碳排放权交易管理暂行条例》第二十二条"
SRC_ART_23 = "《碳排放权交易管理暂行条例》第二十三条第二款"


def regulations_fine_range(*, gains_fen: int, multiple_min: Decimal, multiple_max: Decimal, gains_floor_fen: Decimal,
                           fine_min_fen: Decimal, fine_max_fen: Decimal, source: str = SRC_ART_22) -> FineRange:
    """Regulations Art. 22 (国务院令第775号): 违法所得5倍以上10倍以下; 没有违法所得或者违法所得不足50万元的，处50万元以上200万元以下.
    ``gains_fen`` ≥ 0 (0 = no gains). E.g. gains 1,000,000 CNY = 100,000,000 fen → (500,000,000, 1,000,000,000) fen;
    gains 100,000 CNY → (50,000,000, 200,000,000) fen. The same shape serves Art. 23 para 2 (verification bodies: floor and
    fixed range 20万–100万元) with its own numbers and ``source``. ValueError if ``gains_fen`` is negative or not an int."""
    if not isinstance(gains_fen, int) or isinstance(gains_fen, bool) or gains_fen < 0:
        raise ValueError(f"gains_fen must be a non-negative int, got {gains_fen!r}")
    src = source
    if gains_fen < gains_floor_fen:
        return FineRange(int(fine_min_fen), int(fine_max_fen), src)
    return FineRange(int(gains_fen * multiple_min), int(gains_fen * multiple_max), src)


def allocation_cut_t(*, next_year_allocation_t: int, share: Decimal) -> int:
    """Tonnes cut from the next year's allocation at ``share`` (Regulations Art. 22: 50%–100%), rounded half up."""
    return int((Decimal(next_year_allocation_t) * share).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---- market surveillance


@dataclass(frozen=True)
class TradeRow:
    seq: int
    day: dt.date
    instrument: str
    price_fen: int
    quantity_t: int
    buyer: int
    seller: int
    buy_order: int
    sell_order: int


@dataclass(frozen=True)
class CancelRow:
    seq: int  # the cancelled order's seq
    day: dt.date
    participant: int
    quantity_t: int


@dataclass(frozen=True)
class Alert:
    """One surveillance alert: ``rule`` (wash_trade, concentration, band_proximity, large_cancel), the day, the
    participants concerned, the orders to drill into, a measure and the rule's source."""

    rule: str
    day: dt.date
    instrument: str
    participants: tuple[int, ...]
    orders: tuple[int, ...]
    detail: str
    source: str

    @property
    def key(self) -> str:
        """Stable identity of the alert (for the recorded decision)."""
        return f"{self.rule}:{self.day.isoformat()}:{self.instrument}:{','.join(map(str, self.participants))}:{','.join(map(str, self.orders))}"


SRC_SPECULATION = "《碳排放权交易管理办法（试行）》第二十二条第二款（防止过度投机）"
SRC_MANIPULATION = "《碳排放权交易管理暂行条例》第十七条、第二十一条（操纵市场）"


def wash_trades(trades: Iterable[TradeRow], *, holder_of: Mapping[int, object]) -> list[Alert]:
    """A trade whose buyer and seller are the same participant or have the same holder (``holder_of``: participant
    → its holder group, e.g. a parent company; absent = itself)."""
    out = []
    for t in trades:
        if holder_of.get(t.buyer, t.buyer) == holder_of.get(t.seller, t.seller):
            out.append(Alert("wash_trade", t.day, t.instrument, tuple(sorted({t.buyer, t.seller})), (t.buy_order, t.sell_order),
                             f"trade #{t.seq}: {t.quantity_t} t at {t.price_fen} fen between related accounts", SRC_MANIPULATION))
    return out


def concentration(trades: Iterable[TradeRow], *, share: Decimal, min_volume_t: int) -> list[Alert]:
    """An account on both or either side of more than ``share`` of a day's traded volume of an instrument (days
    with at least ``min_volume_t`` t). An account's volume counts each trade once (as buyer or seller)."""
    day_total: dict[tuple, int] = defaultdict(int)
    by_acct: dict[tuple, int] = defaultdict(int)
    orders: dict[tuple, set] = defaultdict(set)
    for t in trades:
        day_total[(t.day, t.instrument)] += t.quantity_t
        for p, o in {(t.buyer, t.buy_order), (t.seller, t.sell_order)}:
            by_acct[(t.day, t.instrument, p)] += t.quantity_t
            orders[(t.day, t.instrument, p)].add(o)
    out = []
    for (day, instr, p), q in sorted(by_acct.items()):
        total = day_total[(day, instr)]
        if total >= min_volume_t and Decimal(q) > share * total:
            out.append(Alert("concentration", day, instr, (p,), tuple(sorted(orders[(day, instr, p)])),
                             f"{q} t of {total} t ({Decimal(q) / total:.2%})", SRC_SPECULATION))
    return out


def band_proximity(trades: Iterable[TradeRow], *, prev_close_fen: Mapping[tuple, int], band: Decimal, proximity: Decimal) -> list[Alert]:
    """A trade priced at least ``proximity`` of the way from the previous close to a limit price (prev × (1 ± band));
    ``prev_close_fen`` maps (day, instrument) → previous close. Trades without a previous close are not judged."""
    out = []
    for t in trades:
        prev = prev_close_fen.get((t.day, t.instrument))
        if not prev:
            continue
        if Decimal(abs(t.price_fen - prev)) >= proximity * band * prev:
            out.append(Alert("band_proximity", t.day, t.instrument, tuple(sorted({t.buyer, t.seller})), (t.buy_order, t.sell_order),
                             f"trade #{t.seq} at {t.price_fen} fen, previous close {prev} fen, band ±{band}", SRC_MANIPULATION))
    return out


def large_cancels(cancels: Iterable[CancelRow], *, min_t: int) -> list[Alert]:
    """An order of at least ``min_t`` t cancelled (spoofing indicator)."""
    return [Alert("large_cancel", c.day, "", (c.participant,), (c.seq,), f"order #{c.seq} of {c.quantity_t} t cancelled", SRC_MANIPULATION)
            for c in cancels if c.quantity_t >= min_t]



SRC_LARGE_HOLDER = "《碳排放权交易管理规则（试行）》（生态环境部公告2021年第21号）大户报告制度"
