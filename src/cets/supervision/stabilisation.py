"""Market stabilisation (市场调节, draft Measures Art. 23; reserve: Art. 9 预留配额; Regulations Art. 9): the triggers,
the alerts to the national authority and the reserve auction. Writes here are services (keyword-only, one transaction,
``require_role`` inside); the reserve's unit movements are registry proposals (:mod:`cets.registry.services.reserve`),
approved by a second person of the national authority.

- :func:`triggers_fired` (pure): which of the pack's triggers a day's figures cross — the day's volume (t) and
  volume-weighted average price (fen/t: Σ amount ÷ Σ volume, half-up) of every allowance subject and trade method;
- :func:`stabilisation_triggers_check`: reads the day's figures (``trading.selectors.day_figures``) and the market's
  ``stabilisation`` pack for the day's year, and raises one :class:`~cets.supervision.models.StabilisationAlert` per
  trigger crossed (idempotent per market, day and trigger); it decides nothing;
- :func:`stabilisation_alert_decide`: a national authority person records the decision (no action with reasons, or
  the key of the reserve proposal it led to) — published on ``/public/stabilisation/``;
- :func:`reserve_auction_propose`: clears the bids with :func:`cets.trading.auction.auction_clear` (uniform price per
  the pack's ``auction.pricing``) and proposes the release of the fills from the reserve at their prices.

Refusals: R0502 (role), G0601 (no figures), G0602, G0603, G0604, G0605, G0606, R1104 (no pack for the year) and the
registry's codes for the release.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cets.core.errors import CetsError
from cets.core.quantities import is_digits
from cets.parties.access import require_role
from cets.parties.models import Role
from cets.registry import services as registry
from cets.registry.checks import R1104
from cets.registry.models import Proposal, UnitType
from cets.rules.packs import PackError, pack_for
from cets.trading.auction import AuctionSpec, Bid, auction_clear
from cets.trading.selectors import day_figures

from .checks import G0601, G0602, G0603, G0604, G0605, G0606
from .models import StabilisationAlert

STABILISATION = "stabilisation"


@dataclass(frozen=True)
class Thresholds:
    """The pack's trigger values: fen per tonne (prices), tonnes (volume)."""

    price_high_fen: int
    price_low_fen: int
    volume_low_t: int


def thresholds(*, market: str, year: int) -> tuple[Thresholds, str, str]:
    """(thresholds, pack id, pack SHA-256) of the market's stabilisation pack for ``year``; R1104 if none."""
    try:
        pack = pack_for(market, "*", year, kind=STABILISATION)
        t = Thresholds(int(pack.decimal("triggers.price_high_fen")), int(pack.decimal("triggers.price_low_fen")),
                       int(pack.decimal("triggers.volume_low_t")))
    except PackError:
        raise CetsError(R1104, f"{market} {year}") from None
    return t, pack.id, pack.sha256


def day_price_fen(volume_t: int, amount_fen: int) -> int:
    """Volume-weighted average price, fen per tonne, half-up: Σ amount ÷ Σ volume (``volume_t`` > 0)."""
    return (2 * amount_fen + volume_t) // (2 * volume_t)


def triggers_fired(*, volume_t: int, amount_fen: int, limits: Thresholds) -> list[tuple[str, int, int]]:
    """[(trigger, value, threshold)] a day's figures cross (strictly above the high price, strictly below the low price
    or the low volume). A day without trades fires nothing (there is no price)."""
    if volume_t <= 0:
        return []
    price = day_price_fen(volume_t, amount_fen)
    out = []
    if price > limits.price_high_fen:
        out.append((StabilisationAlert.Trigger.PRICE_HIGH, price, limits.price_high_fen))
    if price < limits.price_low_fen:
        out.append((StabilisationAlert.Trigger.PRICE_LOW, price, limits.price_low_fen))
    if volume_t < limits.volume_low_t:
        out.append((StabilisationAlert.Trigger.VOLUME_LOW, volume_t, limits.volume_low_t))
    return out


@transaction.atomic
def stabilisation_triggers_check(*, market: str, day: dt.date, actor=None) -> list[StabilisationAlert]:
    """Raise an alert per trigger the day's figures cross (idempotent: an alert already raised is returned, not doubled).
    ``actor`` None: the platform's end-of-day run; a person: the national authority (R0502 otherwise).
    G0601 if the day has no figures; R1104 if no stabilisation pack covers the day's year."""
    if actor is not None:
        require_role(actor, Role.NATIONAL_AUTHORITY)
    limits, pack_id, sha = thresholds(market=market, year=day.year)
    figures = day_figures(market=market, start=day, end=day)
    if not figures:
        raise CetsError(G0601, f"{market} {day}")
    volume, amount = sum(f.volume_t for f in figures), sum(f.amount_fen for f in figures)
    out = []
    for trigger, value, threshold in triggers_fired(volume_t=volume, amount_fen=amount, limits=limits):
        alert, _ = StabilisationAlert.objects.get_or_create(market=market, day=day, trigger=trigger, defaults={
            "value": value, "threshold": threshold, "pack_id": pack_id, "pack_sha256": sha})
        out.append(alert)
    return out


@transaction.atomic
def stabilisation_alert_decide(*, alert_id: int, actor, decision: str, decision_reference: str, proposal_key: str = "") -> StabilisationAlert:
    """Record the national authority's decision on an alert: the text of the decision (no action and why, or what is done)
    and its reference; ``proposal_key`` the reserve proposal it led to (must exist). R0502, G0602, G0603."""
    require_role(actor, Role.NATIONAL_AUTHORITY)
    alert = StabilisationAlert.objects.select_for_update().filter(pk=alert_id, status=StabilisationAlert.Status.OPEN).first()
    if alert is None:
        raise CetsError(G0602, str(alert_id))
    decision, decision_reference, proposal_key = decision.strip(), decision_reference.strip(), proposal_key.strip()
    if not decision or not decision_reference:
        raise CetsError(G0603)
    if proposal_key and not Proposal.objects.filter(key=proposal_key, kind__startswith="reserve_").exists():
        raise CetsError(G0602, proposal_key[:60])
    alert.status, alert.decision, alert.decision_reference = StabilisationAlert.Status.DECIDED, decision[:1000], decision_reference[:200]
    alert.proposal_key, alert.decided_by, alert.decided_at = proposal_key[:120], actor, timezone.now()
    alert.save()
    return alert


def parse_bids(text: str) -> list[Bid]:
    """Bids from lines ``account,price_fen,quantity_t`` (integers; blank lines skipped); G0604 on any bad line."""
    bids = []
    for i, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) != 3 or not parts[0] or not all(is_digits(x) and len(x) <= 18 for x in parts[1:]):
            raise CetsError(G0604, f"line {i}: {line[:60]}")
        bids.append(Bid(bid_id=i, participant=parts[0], price_fen=int(parts[1]), quantity_t=int(parts[2])))
    if not bids:
        raise CetsError(G0604, "no bids")
    return bids


@transaction.atomic
def reserve_auction_propose(*, key: str, unit_type: UnitType, quantity_t: int, floor_fen: int, bids: list[Bid], decision_ref: str, actor,
                            year: int, effective_at: dt.datetime | None = None) -> Proposal:
    """Clear a one-way auction of ``quantity_t`` tonnes from the national reserve at ``floor_fen`` fen/t or above
    (pricing and minimum bid from the market's stabilisation pack for ``year``) and propose the release of the fills
    (each winner's account at its price). The proposal carries the auction's summary (clearing price, cleared and
    unsold tonnes, refused bids); a second national authority person approves. R0502, G0606, G0605, R1104 and the
    registry's codes (R0101/R1103 for a bidder that is not a holder's account of the market)."""
    require_role(actor, Role.NATIONAL_AUTHORITY)
    for v in (quantity_t, floor_fen):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise CetsError(G0606, repr(v)[:40])
    market = registry.INSTRUMENT_MARKET[unit_type.instrument]
    try:
        pack = pack_for(market, "*", year, kind=STABILISATION)
        spec = AuctionSpec(quantity_t=quantity_t, floor_fen=floor_fen, pricing=pack.text("auction.pricing"),
                           min_bid_t=int(pack.decimal("auction.min_bid_t")))
    except PackError:
        raise CetsError(R1104, f"{market} {year}") from None
    result = auction_clear(spec, bids)
    if not result.fills:
        raise CetsError(G0605, f"{len(result.refused)} refused")
    summary = {"quantity_t": quantity_t, "floor_fen": floor_fen, "pricing": spec.pricing, "clearing_price_fen": result.clearing_price_fen,
               "cleared_t": result.cleared_t, "unsold_t": result.unsold_t, "amount_fen": result.amount_fen, "bidders": result.bidders,
               "winners": result.winners, "refused": [[b, c.code, d] for b, c, d in result.refused], "pack": pack.id, "pack_sha256": pack.sha256}
    lines = [{"account": f.participant, "quantity": f.quantity_t, "price_fen": f.price_fen} for f in result.fills]
    return registry.reserve_release_propose(key=key, unit_type=unit_type, lines=lines, decision_ref=decision_ref, actor=actor, method="auction",
                                            auction=summary, effective_at=effective_at)
