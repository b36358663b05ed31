"""Paid allocation by auction (有偿分配): a pilot market's provincial authority auctions allowances of a vintage from the
market's total account; the winners pay into the authority's treasury fund account at the exchange (收支两条线; no
trading fee), and the units are issued to them on a second person's approval, together with the payment.

Sources: Regulations (《碳排放权交易管理暂行条例》) Art. 9 (free allocation moving to free plus paid); Beijing
《北京市碳排放权交易管理办法》 京政发〔2024〕6号 (free or paid allocation) and the 2023 vintage's paid auction of
September 2024 (348,304 t at a uniform CNY 104.89/t, proceeds to the treasury; ``beijing/emitters-2023-2024`` [auction]
[S]). The clearing is :func:`cets.allocation.beijing.auction_clear` (uniform price, highest bids first, the marginal bid
filled in part); a bid below the authority's floor price is refused. The unit and money movement is the registry's
four-eyes proposal ``paid_allocation`` (:func:`cets.registry.services.paid_allocation_propose`) over
:mod:`cets.registry.payments`.

Refusals: R1305 (no valid bid at or above the floor), R1101, R1102 (a price), R0301 (a quantity) and the proposal's
(R0502, R1302, R0101, R1103, R0302, T0801, T0803, R1301).
"""

from __future__ import annotations

from django.db import transaction

from cets.core.errors import CetsError
from cets.registry.checks import R0301, R1101, R1102, R1305
from cets.registry.models import Proposal, UnitType
from cets.registry.services import paid_allocation_propose

from .beijing import Bid, auction_clear


def _positive(v, check) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise CetsError(check, repr(v)[:40])
    return v


@transaction.atomic
def paid_allocation_auction_propose(*, key: str, unit_type: UnitType, quantity_t: int, floor_fen: int, bids: list[dict], decision_ref: str,
                                    actor) -> Proposal:
    """Clear a paid allocation auction of ``quantity_t`` t of ``unit_type`` at ``floor_fen`` fen/t or above (``bids``:
    ``[{"account", "price_fen", "quantity_t"}]``, in submission order) and propose issuing the awards against payment.
    The proposal's ``auction`` records the clearing price, sold and unsold tonnes, the proceeds (fen) and the refused
    bids (below the floor)."""
    _positive(quantity_t, R0301)
    _positive(floor_fen, R1102)
    if not bids:
        raise CetsError(R1101)
    valid, refused = [], []
    for i, b in enumerate(bids, start=1):
        price, qty = _positive(b.get("price_fen"), R1102), _positive(b.get("quantity_t"), R0301)
        if price < floor_fen:
            refused.append([i, str(b.get("account", ""))[:40], f"{price} < {floor_fen}"])
            continue
        valid.append(Bid(bidder=str(b.get("account", "")), quantity_t=qty, price_fen=price, seq=i))
    result = auction_clear(quantity_t, valid)
    if not result.awards:
        raise CetsError(R1305, f"{len(refused)} below the floor")
    lines = [{"account": acc, "quantity": q, "price_fen": result.clearing_price_fen} for acc, q in result.awards.items()]
    summary = {"quantity_t": quantity_t, "floor_fen": floor_fen, "pricing": "uniform", "clearing_price_fen": result.clearing_price_fen,
               "sold_t": result.sold_t, "unsold_t": quantity_t - result.sold_t, "proceeds_fen": result.proceeds_fen, "bidders": len(bids),
               "winners": len(lines), "refused": refused}
    return paid_allocation_propose(key=key, unit_type=unit_type, lines=lines, decision_ref=decision_ref, actor=actor, auction=summary)
