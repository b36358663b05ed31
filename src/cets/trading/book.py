"""The order book: a pure, deterministic state machine (no Django, no I/O, no clock).

Commands go in, events come out. The sequencer (``trading.sequencer``) feeds the commands of one
market in the order of the command log, so the same log always rebuilds the same book.

Prices are fen per tonne (int), quantities tonnes (int). Methods (national trading rules, 公告2021年第21号,
reference §3.1; limits from the market's trading pack):

- ``listing`` 挂牌协议: a quote rests in the book (it never matches by itself); a taker (摘牌) picks a quote
  among the opposite side's best ``take_levels`` (5) price levels and trades at the quote's price for a
  quantity up to the quote's remaining quantity. Quotes are below ``listing_max_t`` (100,000 t) and within
  ±``listing_band`` (10%) of the previous close.
- ``block`` 大宗协议: at least ``block_min_t`` (100,000 t), within ±``block_band`` (30%); public or directed to a
  named counterparty; the counterparty confirms by taking the whole remaining quantity.
- ``continuous``: price-time priority limit orders for pilot markets; an incoming order trades against the
  best opposite prices at the resting order's price and the rest rests; if it meets the same participant's
  resting order (self-trade prevention) it stops there and its rest is cancelled.

Every refusal is an event ``Rejected(command_id, check)`` with a numbered bilingual check (T01xx); a
refused command leaves the book unchanged.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from cets.core.errors import Check

from . import auction as au
from .checks import T0101, T0102, T0103, T0104, T0105, T0106, T0107, T0108, T0109, T0110, T0111, T0112, T0113, T0114, T0115

BUY = "B"
SELL = "S"



@dataclass(frozen=True, slots=True)
class Limits:
    """A market's order limits (from its trading pack). Bands are fractions (Decimal('0.10'))."""

    listing_band: Decimal = Decimal("0.10")
    block_band: Decimal = Decimal("0.30")
    listing_max_t: int = 100_000  # listing orders must be strictly below this
    block_min_t: int = 100_000  # block orders must be at least this
    take_levels: int = 5
    continuous_band: Decimal = Decimal("0.10")
    band_rounding: str = "half_up"

    @classmethod
    def from_pack(cls, pack) -> Limits:
        """The ``[order]`` section of a trading pack (``rules.packs.Pack``)."""
        d = pack.decimal
        return cls(listing_band=d("order.listing_band"), block_band=d("order.block_band"), listing_max_t=int(d("order.listing_max_t")),
                   block_min_t=int(d("order.block_min_t")), take_levels=int(d("order.take_levels")),
                   continuous_band=d("order.continuous_band"), band_rounding=pack.text("order.band_rounding"))


def price_band(prev_close_fen: int, band: Decimal, rounding: str = "half_up") -> tuple[int, int]:
    """(lowest, highest) allowed price in fen for a close of ``prev_close_fen`` and a band fraction.

    The limit prices are the band applied to the previous close, on the 0.01 CNY tick: ``half_up``
    (the trading pack's ``order.band_rounding``; as the exchange publishes them: the national market's
    daily highs and lows reach the half-up limit and never pass it, e.g. 2021-08-09 CEA, close 52.96 →
    high 58.26 = 5296 × 1.1 = 5825.6 → 5826; 2025-12-01 CEA21, close 67.06 → low 60.35 = 6706 × 0.9 =
    6035.4 → 6035) or ``inside`` (upper rounds down, lower rounds up: never beyond ±band).
    E.g. close 51.23 CNY, ±10% → 46.11 … 56.35 (5123 × 0.9 = 4610.7 → 4611; 5123 × 1.1 = 5635.3 → 5635).
    """
    p = Decimal(prev_close_fen)
    lo_r, hi_r = (ROUND_HALF_UP, ROUND_HALF_UP) if rounding == "half_up" else (ROUND_CEILING, ROUND_FLOOR)
    low = int((p * (1 - band)).to_integral_value(rounding=lo_r))
    high = int((p * (1 + band)).to_integral_value(rounding=hi_r))
    return max(low, 1), high


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-up to an integer (ints; ``numerator`` ≥ 0, ``denominator`` > 0)."""
    q, r = divmod(numerator, denominator)
    return q + (1 if 2 * r >= denominator else 0)


def vwap_fen(amount_fen: int, volume_t: int) -> int:
    """Volume-weighted average price in fen per tonne (int): amount / volume rounded half-up; the
    closing price rule of the national market (reference §3.1). ``volume_t`` must be > 0."""
    return round_half_up(amount_fen, volume_t)


# --- commands ----------------------------------------------------------------------------------
# Commands and events are plain slotted dataclasses, not frozen ones: building a frozen dataclass goes
# through object.__setattr__ for every field, which doubles the cost of an order (bench/orderbook.py).
# Treat them as values all the same.


@dataclass(slots=True)
class OpenDay:
    """Start a trading day for ``instrument`` with the previous close (fen) as the band reference."""

    command_id: int
    instrument: str
    prev_close_fen: int


@dataclass(slots=True)
class Place:
    """Enter an order. ``method`` listing / block / continuous; ``counterparty`` names the only
    participant who may confirm a directed block order."""

    command_id: int
    participant: str
    instrument: str
    method: str
    side: str
    price_fen: int
    quantity_t: int
    counterparty: str = ""


@dataclass(slots=True)
class Take:
    """Take (摘牌) ``quantity_t`` of the resting quote ``quote_id`` (listing) or confirm a block order."""

    command_id: int
    participant: str
    quote_id: int
    quantity_t: int


@dataclass(slots=True)
class Cancel:
    command_id: int
    participant: str
    order_id: int


@dataclass(slots=True)
class CloseDay:
    """End the day for ``instrument``: every resting order expires."""

    command_id: int
    instrument: str


@dataclass(slots=True)
class AuctionOffer:
    """Announce a one-way auction (单向竞价): the initiator sells ``spec.quantity_t`` of ``instrument``."""

    command_id: int
    participant: str
    instrument: str
    spec: au.AuctionSpec


@dataclass(slots=True)
class AuctionBid:
    """A sealed bid in the auction ``auction_id``."""

    command_id: int
    participant: str
    auction_id: int
    price_fen: int
    quantity_t: int


@dataclass(slots=True)
class AuctionClear:
    """Clear the auction ``auction_id`` (``trading.auction.auction_clear``): fills become trades at the
    announced pricing; every bid and the offer are done."""

    command_id: int
    auction_id: int


# --- events ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Accepted:
    command_id: int


@dataclass(slots=True)
class Rejected:
    command_id: int
    check: Check
    detail: str = ""


@dataclass(slots=True)
class Traded:
    """One trade. ``buy_order``/``sell_order`` are command ids; ``resting`` is the order that was in the
    book (its price is the trade price); ``amount_fen`` = price × quantity."""

    instrument: str
    method: str
    price_fen: int
    quantity_t: int
    buy_order: int
    sell_order: int
    buyer: str
    seller: str
    resting: int

    @property
    def amount_fen(self) -> int:
        return self.price_fen * self.quantity_t


@dataclass(slots=True)
class Done:
    """An order left the book: ``reason`` filled / cancelled / expired, with its unfilled remainder."""

    order_id: int
    reason: str
    remaining_t: int


# --- state -----------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Order:
    """A resting order. Compared by identity (``eq=False``): an order is one object in one queue, and
    removing it from a long price-level queue must not compare every field of every order before it."""

    id: int
    participant: str
    instrument: str
    method: str
    side: str
    price_fen: int
    quantity_t: int
    remaining_t: int
    counterparty: str = ""


@dataclass(slots=True)
class _Side:
    """One side of one instrument and method: price → FIFO of orders, and the sorted prices.

    ``prices`` is ascending; the best price is the last for bids and the first for asks. Removal is
    lazy (O(1) cancel): a removed order keeps its place in its queue with ``remaining_t`` 0 and is
    skipped; ``live`` counts the live orders of each level, and a level is dropped as soon as it has
    none, so every listed level has at least one live order."""

    is_bid: bool
    levels: dict[int, deque] = field(default_factory=dict)
    prices: list[int] = field(default_factory=list)
    live: dict[int, int] = field(default_factory=dict)

    def add(self, o: Order) -> None:
        q = self.levels.get(o.price_fen)
        if q is None:
            q = self.levels[o.price_fen] = deque()
            insort(self.prices, o.price_fen)
            self.live[o.price_fen] = 0
        q.append(o)
        self.live[o.price_fen] += 1

    def remove(self, o: Order) -> None:
        """Take ``o`` out of the book (it is marked dead: ``remaining_t`` = 0)."""
        o.remaining_t = 0
        p = o.price_fen
        self.live[p] -= 1
        if not self.live[p]:
            self._drop(p)
            return
        q = self.levels[p]
        while q and not q[0].remaining_t:
            q.popleft()

    def _drop(self, price: int) -> None:
        del self.levels[price]
        del self.live[price]
        del self.prices[bisect_left(self.prices, price)]

    def best_prices(self, n: int) -> list[int]:
        return self.prices[-n:][::-1] if self.is_bid else self.prices[:n]

    def best(self) -> int | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.is_bid else self.prices[0]


@dataclass(slots=True)
class _Instrument:
    prev_close_fen: int
    sides: dict[tuple[str, str], _Side] = field(default_factory=dict)
    bands: dict[str, tuple[int, int]] = field(default_factory=dict)  # method → (low, high) fen, for prev_close_fen

    def side(self, method: str, side: str) -> _Side:
        s = self.sides.get((method, side))
        if s is None:
            s = self.sides[(method, side)] = _Side(is_bid=side == BUY)
        return s


class Book:
    """The order book of one market: every instrument and method.

    ``apply(command)`` returns the list of events; it never raises for a business refusal. ``orders``
    maps the id of every resting order to its state (for queries and for the sequencer's checks)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.instruments: dict[str, _Instrument] = {}
        self.orders: dict[int, Order] = {}
        self.auctions: dict[int, tuple[AuctionOffer, list[au.Bid]]] = {}
        self.last_command_id = 0

    # -- queries --
    def depth(self, instrument: str, method: str, side: str, levels: int = 5) -> list[tuple[int, int, int]]:
        """Best ``levels`` price levels of one side: [(price fen, total remaining t, number of orders)]."""
        ins = self.instruments.get(instrument)
        if ins is None:
            return []
        s = ins.sides.get((method, side))
        if s is None:
            return []
        return [(p, sum(o.remaining_t for o in s.levels[p]), s.live[p]) for p in s.best_prices(levels)]

    def resting(self, instrument: str, method: str, side: str) -> list[Order]:
        """Resting orders of one side in priority order (best price first, then time)."""
        ins = self.instruments.get(instrument)
        s = ins.sides.get((method, side)) if ins else None
        if s is None:
            return []
        return [o for p in s.best_prices(len(s.prices)) for o in s.levels[p] if o.remaining_t]

    # -- commands --
    def apply(self, cmd) -> list:
        self.last_command_id = cmd.command_id
        if type(cmd) is Place:
            return self._place(cmd)
        if type(cmd) is Take:
            return self._take(cmd)
        if type(cmd) is Cancel:
            return self._cancel(cmd)
        if type(cmd) is OpenDay:
            ins = self.instruments.get(cmd.instrument)
            if ins is None:
                self.instruments[cmd.instrument] = _Instrument(cmd.prev_close_fen)
            else:
                ins.prev_close_fen = cmd.prev_close_fen
                ins.bands.clear()
            return [Accepted(cmd.command_id)]
        if type(cmd) is CloseDay:
            return self._close(cmd)
        if type(cmd) is AuctionOffer:
            self.auctions[cmd.command_id] = (cmd, [])
            return [Accepted(cmd.command_id)]
        if type(cmd) is AuctionBid:
            return self._bid(cmd)
        if type(cmd) is AuctionClear:
            return self._auction_clear(cmd)
        raise TypeError(f"unknown command {cmd!r}")

    def _band(self, method: str) -> Decimal:
        lim = self.limits
        return {"listing": lim.listing_band, "block": lim.block_band}.get(method, lim.continuous_band)

    def _place(self, c: Place) -> list:
        lim = self.limits
        if c.side not in (BUY, SELL):
            return [Rejected(c.command_id, T0114, repr(c.side))]
        if type(c.price_fen) is not int or c.price_fen <= 0:
            return [Rejected(c.command_id, T0101, repr(c.price_fen))]
        if type(c.quantity_t) is not int or c.quantity_t <= 0:
            return [Rejected(c.command_id, T0102, repr(c.quantity_t))]
        ins = self.instruments.get(c.instrument)
        if ins is None:
            return [Rejected(c.command_id, T0111, c.instrument)]
        if c.method == "listing" and c.quantity_t >= lim.listing_max_t:
            return [Rejected(c.command_id, T0103, f"{c.quantity_t} t ≥ {lim.listing_max_t} t")]
        if c.method == "block" and c.quantity_t < lim.block_min_t:
            return [Rejected(c.command_id, T0104, f"{c.quantity_t} t < {lim.block_min_t} t")]
        if c.method not in ("listing", "block", "continuous"):
            return [Rejected(c.command_id, T0113, c.method)]
        band = ins.bands.get(c.method)
        if band is None:  # computed once per day and method (Decimal arithmetic is the dear part of an order)
            band = ins.bands[c.method] = price_band(ins.prev_close_fen, self._band(c.method), lim.band_rounding)
        low, high = band
        if not low <= c.price_fen <= high:
            return [Rejected(c.command_id, T0105, f"{c.price_fen} ∉ [{low}, {high}] fen")]
        o = Order(c.command_id, c.participant, c.instrument, c.method, c.side, c.price_fen, c.quantity_t, c.quantity_t, c.counterparty)
        events: list = [Accepted(c.command_id)]
        if c.method == "continuous":
            self_trade = self._match(ins, o, events)
            if o.remaining_t == 0:
                events.append(Done(o.id, "filled", 0))
                return events
            if self_trade:
                # The remainder would cross the participant's own resting order: it is cancelled.
                events.append(Done(o.id, "cancelled", o.remaining_t))
                return events
        ins.side(c.method, c.side).add(o)
        self.orders[o.id] = o
        return events

    def _match(self, ins: _Instrument, o: Order, events: list) -> bool:
        """Price-time matching of an incoming continuous order against the opposite side. Returns True
        when it stopped at the participant's own resting order (self-trade prevention)."""
        opp = ins.side("continuous", SELL if o.side == BUY else BUY)
        buy = o.side == BUY
        while o.remaining_t and opp.prices:
            best = opp.prices[0] if buy else opp.prices[-1]
            if (buy and best > o.price_fen) or (not buy and best < o.price_fen):
                break
            q = opp.levels[best]
            while o.remaining_t:
                r = q[0]
                if not r.remaining_t:  # a cancelled order still in the queue
                    q.popleft()
                    continue
                if r.participant == o.participant:
                    # Self-trade prevention: the incoming order stops (its remainder is cancelled by
                    # the caller, so the book is never left crossed); the resting one stays.
                    return True
                n = min(o.remaining_t, r.remaining_t)
                o.remaining_t -= n
                r.remaining_t -= n
                events.append(Traded(o.instrument, "continuous", best, n, o.id if buy else r.id, r.id if buy else o.id,
                                     o.participant if buy else r.participant, r.participant if buy else o.participant, r.id))
                if r.remaining_t == 0:
                    del self.orders[r.id]
                    events.append(Done(r.id, "filled", 0))
                    opp.live[best] -= 1
                    if not opp.live[best]:
                        opp._drop(best)
                        break
                    q.popleft()
        return False

    def _take(self, c: Take) -> list:
        r = self.orders.get(c.quote_id)
        if r is None:
            return [Rejected(c.command_id, T0106, f"#{c.quote_id}")]
        if type(c.quantity_t) is not int or c.quantity_t <= 0:
            return [Rejected(c.command_id, T0102, repr(c.quantity_t))]
        if r.participant == c.participant:
            return [Rejected(c.command_id, T0108, f"#{c.quote_id}")]
        ins = self.instruments[r.instrument]
        side = ins.side(r.method, r.side)
        if r.method == "listing":
            if r.price_fen not in side.best_prices(self.limits.take_levels):
                return [Rejected(c.command_id, T0106, f"#{c.quote_id} at {r.price_fen} fen")]
            if c.quantity_t > r.remaining_t:
                return [Rejected(c.command_id, T0107, f"{c.quantity_t} > {r.remaining_t}")]
        elif r.method == "block":
            if r.counterparty and r.counterparty != c.participant:
                return [Rejected(c.command_id, T0109, f"#{c.quote_id}")]
            if c.quantity_t != r.remaining_t:
                return [Rejected(c.command_id, T0112, f"{c.quantity_t} ≠ {r.remaining_t}")]
        else:
            return [Rejected(c.command_id, T0113, r.method)]
        r.remaining_t -= c.quantity_t
        buy = r.side == SELL  # the taker buys from a sell quote
        events: list = [Accepted(c.command_id), Traded(
            r.instrument, r.method, r.price_fen, c.quantity_t, c.command_id if buy else r.id, r.id if buy else c.command_id,
            c.participant if buy else r.participant, r.participant if buy else c.participant, r.id)]
        if r.remaining_t == 0:
            side.remove(r)
            del self.orders[r.id]
            events.append(Done(r.id, "filled", 0))
        return events

    def _cancel(self, c: Cancel) -> list:
        o = self.orders.get(c.order_id)
        if o is None or o.participant != c.participant:
            return [Rejected(c.command_id, T0110, f"#{c.order_id}")]
        left = o.remaining_t
        self.instruments[o.instrument].side(o.method, o.side).remove(o)
        del self.orders[o.id]
        return [Accepted(c.command_id), Done(o.id, "cancelled", left)]

    def _close(self, c: CloseDay) -> list:
        ins = self.instruments.get(c.instrument)
        events: list = [Accepted(c.command_id)]
        for aid in [k for k, (offer, _) in self.auctions.items() if offer.instrument == c.instrument]:
            offer, bids = self.auctions.pop(aid)  # an auction not cleared by the close lapses
            events.extend(Done(b.bid_id, "expired", b.quantity_t) for b in bids)
            events.append(Done(aid, "expired", offer.spec.quantity_t))
        if ins is None:
            return events
        for s in ins.sides.values():
            for p in list(s.prices):
                for o in s.levels[p]:
                    if o.remaining_t:
                        del self.orders[o.id]
                        events.append(Done(o.id, "expired", o.remaining_t))
            s.levels.clear()
            s.prices.clear()
            s.live.clear()
        return events

    def _bid(self, c: AuctionBid) -> list:
        a = self.auctions.get(c.auction_id)
        if a is None:
            return [Rejected(c.command_id, T0115, f"#{c.auction_id}")]
        offer, bids = a
        if c.participant == offer.participant:
            return [Rejected(c.command_id, T0108, f"#{c.auction_id}")]
        bid = au.Bid(c.command_id, c.participant, c.price_fen, c.quantity_t)
        problem = au.bid_refusal(offer.spec, bid, {b.participant for b in bids})
        if problem is not None:
            return [Rejected(c.command_id, *problem)]
        bids.append(bid)
        return [Accepted(c.command_id)]

    def _auction_clear(self, c: AuctionClear) -> list:
        a = self.auctions.pop(c.auction_id, None)
        if a is None:
            return [Rejected(c.command_id, T0115, f"#{c.auction_id}")]
        offer, bids = a
        res = au.auction_clear(offer.spec, bids)
        events: list = [Accepted(c.command_id)]
        filled = {}
        for f in res.fills:
            filled[f.bid_id] = f.quantity_t
            events.append(Traded(offer.instrument, "auction", f.price_fen, f.quantity_t, f.bid_id, offer.command_id, f.participant,
                                 offer.participant, offer.command_id))
        for b in bids:
            left = b.quantity_t - filled.get(b.bid_id, 0)
            events.append(Done(b.bid_id, "filled" if left == 0 else "expired", left))
        events.append(Done(offer.command_id, "filled" if res.unsold_t == 0 else "expired", res.unsold_t))
        return events
