"""One-way auction (单向竞价): an initiator offers a quantity; bidders send sealed bids; the book clears
once, by price priority (then time), at one uniform price or at each bid's own price, as announced.

Pure: no Django, no I/O. Prices fen per tonne (int), quantities tonnes (int).

Rules (Measures 2021 Art. 22 and Regulations 2024 Art. 15 name the method; the mechanics are the
initiator's announcement, reference §3.1 and §7.2 — the Beijing September 2024 paid auction of 2023
allowances cleared 348,304 t at a uniform CNY 104.89/t):

- a bid below the floor price, off the tick, below the minimum or above the per-bidder maximum
  quantity is refused with its check;
- valid bids are ranked by price (high first), then by arrival (``bid_id`` ascending);
- bids are filled in rank order until the offered quantity is exhausted; the marginal bid is filled
  partly (the rest of the offer is then zero);
- ``uniform``: every winning bid pays the lowest winning price (the clearing price);
  ``pay_as_bid``: every winning bid pays its own price;
- if the valid bids ask for less than the offer, all are filled and the rest stays with the
  initiator (``unsold_t``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cets.core.errors import Check

from .checks import T0301, T0302, T0303, T0304


@dataclass(frozen=True, slots=True)
class AuctionSpec:
    """What the initiator announces. ``quantity_t`` tonnes offered; ``floor_fen`` fen per tonne;
    ``min_bid_t``/``max_bid_t`` per bidder (0 = no maximum); ``pricing`` ``uniform`` or ``pay_as_bid``."""

    quantity_t: int
    floor_fen: int
    pricing: str = "uniform"
    min_bid_t: int = 1
    max_bid_t: int = 0


@dataclass(frozen=True, slots=True)
class Bid:
    bid_id: int
    participant: str
    price_fen: int
    quantity_t: int


@dataclass(frozen=True, slots=True)
class Fill:
    bid_id: int
    participant: str
    price_fen: int
    quantity_t: int

    @property
    def amount_fen(self) -> int:
        return self.price_fen * self.quantity_t


@dataclass(frozen=True)
class AuctionResult:
    """``fills`` in rank order; ``clearing_price_fen`` the lowest winning bid price (None if nothing
    cleared); ``refused`` [(bid_id, check, detail)]; ``unsold_t`` offered but not sold."""

    fills: tuple[Fill, ...]
    clearing_price_fen: int | None
    cleared_t: int
    amount_fen: int
    unsold_t: int
    refused: tuple[tuple[int, Check, str], ...]
    winners: int
    bidders: int


def bid_refusal(spec: AuctionSpec, bid: Bid, bidders: set[str]) -> tuple[Check, str] | None:
    """Why ``bid`` is refused (check, detail), or None if it is valid. ``bidders`` are the
    participants with a valid bid already (one bid each)."""
    if bid.participant in bidders:
        return T0304, bid.participant
    if type(bid.price_fen) is not int or bid.price_fen < spec.floor_fen:
        return T0301, f"{bid.price_fen} < {spec.floor_fen}"
    if type(bid.quantity_t) is not int or bid.quantity_t < spec.min_bid_t or (spec.max_bid_t and bid.quantity_t > spec.max_bid_t):
        return T0302, str(bid.quantity_t)
    return None


def auction_clear(spec: AuctionSpec, bids: list[Bid]) -> AuctionResult:
    """Clear a one-way auction. Raises ValueError for a malformed spec (T0303 pricing, a non-positive
    quantity or floor); refusals of single bids are returned, not raised."""
    if spec.pricing not in ("uniform", "pay_as_bid"):
        raise ValueError(str(T0303))
    if spec.quantity_t <= 0 or spec.floor_fen <= 0:
        raise ValueError("offer quantity and floor price must be positive")
    refused: list[tuple[int, Check, str]] = []
    valid: list[Bid] = []
    seen: set[str] = set()
    for b in sorted(bids, key=lambda b: b.bid_id):
        problem = bid_refusal(spec, b, seen)
        if problem is not None:
            refused.append((b.bid_id, *problem))
            continue
        seen.add(b.participant)
        valid.append(b)
    ranked = sorted(valid, key=lambda b: (-b.price_fen, b.bid_id))
    left = spec.quantity_t
    won: list[tuple[Bid, int]] = []
    for b in ranked:
        if left == 0:
            break
        n = min(left, b.quantity_t)
        won.append((b, n))
        left -= n
    clearing = won[-1][0].price_fen if won else None
    fills = tuple(Fill(b.bid_id, b.participant, clearing if spec.pricing == "uniform" else b.price_fen, n) for b, n in won)
    return AuctionResult(
        fills=fills, clearing_price_fen=clearing, cleared_t=spec.quantity_t - left, amount_fen=sum(f.amount_fen for f in fills),
        unsold_t=left, refused=tuple(refused), winners=len(fills), bidders=len(valid),
    )
