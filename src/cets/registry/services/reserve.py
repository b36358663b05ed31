"""The national reserve account (国家储备账户): funded from a vintage's cap, released to buyers, refilled by buy-back.

Sources: Regulations (《碳排放权交易管理暂行条例》) Art. 9 (the annual cap and allocation plan considers 市场调节需要; paid
allocation alongside free allocation); draft Measures (seed 002) Art. 9 【预留配额】 (MEE may reserve allowances for market
adjustment) and Art. 23 【市场调节】 (MEE establishes the market adjustment mechanism). Who decides: the national authority,
four eyes — one person proposes, a second approves (:data:`cets.registry.kinds.PROPOSAL_KINDS` ``reserve_*``, approver
``national_authority``); the units move on approval through the ledger (``transfer_post``):

- ``reserve_fund``: ``issue`` national total → national reserve, ``floor(created × share)`` tonnes, the share from the
  market's ``stabilisation`` pack (``reserve.share``) for the year (R1104 if it gives none or zero);
- ``reserve_release``: ``transfer`` national reserve → each buyer's account at the recorded price (an auction's result,
  computed by the supervision context with :mod:`cets.trading.auction`, or a direct sale);
- ``reserve_withdraw``: buy-back — each seller's allowances are held in its pending position at once and on approval
  move ``transfer`` → national reserve at the recorded price; released on rejection.

Money moves with the units (delivery versus payment, :mod:`cets.registry.payments` over the exchange's fund ledger, fen,
int): a release freezes each buyer's ``quantity × price_fen`` at proposal and pays it to the market's treasury fund
account on approval (收支两条线: not the authority's trading account; no trading fee), a buy-back freezes the amount in
the treasury fund account at proposal and pays each seller on approval; a rejection releases what was frozen. The units
and the money move in one transaction or not at all. Refusals: R0502 (role), R1101 (no lines), R1102 (price), R1103
(account), R0301, R0302, R1104, R1301 (no fund ledger), T0801 (a buyer's funds), T0802 (the treasury's funds), T0803
(no fund account), T0804.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal

from django.db.models import Sum

from cets.core.errors import CetsError
from cets.core.schema import MAX_QUANTITY
from cets.parties.access import require_role
from cets.parties.models import Role
from cets.rules.markets import load_market
from cets.rules.packs import PackError, pack_for

from ..checks import R0101, R0301, R0302, R1101, R1102, R1103, R1104, R1302
from ..kinds import HOLDER_KINDS, INSTRUMENT_MARKET
from ..models import Account, AccountKind, Holding, Position, Proposal, Transfer, TransferKind, UnitType
from ..payments import lines_payments, settle
from .accounts import system_account
from .ledger import Leg, check_quantity
from .proposals import _eff, four_eyes, proposal_submit
from .transfers import transfer_post

STABILISATION = "stabilisation"  # the pack kind of the reserve's and the triggers' values


def _amount(lines) -> int:
    """What ``lines`` cost: Σ quantity (t) × price_fen (fen/t), fen (int)."""
    return sum(ln["quantity"] * ln["price_fen"] for ln in lines)


def _when(effective_at: dt.datetime | None) -> str | None:
    return effective_at.isoformat() if effective_at else None


def _price(price_fen: object) -> int:
    """A line's price in fen per tonne: an int, 0 < price < MAX_QUANTITY (R1102)."""
    if isinstance(price_fen, bool) or not isinstance(price_fen, int) or not 0 < price_fen < MAX_QUANTITY:
        raise CetsError(R1102, repr(price_fen)[:40])
    return price_fen


def _lines(lines, *, market: str) -> list[dict]:
    """Validated lines ``[{"account", "quantity", "price_fen"}]``: R1101 none, R0101 unknown account, R1103 not a holder's
    account of the market, R0301 quantity, R1102 price."""
    if not lines:
        raise CetsError(R1101)
    out = []
    for ln in lines:
        acc = Account.objects.filter(number=ln["account"]).first()
        if acc is None:
            raise CetsError(R0101, str(ln["account"])[:40])
        if acc.kind not in HOLDER_KINDS or acc.market != market:
            raise CetsError(R1103, acc.number)
        out.append({"account": acc.number, "quantity": check_quantity(ln["quantity"]), "price_fen": _price(ln["price_fen"])})
    return out


def reserve_share(*, market: str, year: int) -> tuple[Decimal, str, str]:
    """(share, pack id, pack SHA-256) of the market's ``stabilisation`` pack for ``year``; R1104 if none or zero."""
    try:
        pack = pack_for(market, "*", year, kind=STABILISATION)
        share = pack.decimal("reserve.share")
    except PackError:
        raise CetsError(R1104, f"{market} {year}") from None
    if share <= 0 or share >= 1:
        raise CetsError(R1104, f"{market} {year}: {share}")
    return share, pack.id, pack.sha256


def reserve_fund_quantity(*, unit_type: UnitType, share: Decimal) -> int:
    """``floor(Σ created × share)`` tonnes (int) for ``unit_type`` (the pack's ``reserve.rounding = "floor"``)."""
    created = Transfer.objects.filter(unit_type=unit_type, kind=TransferKind.CREATE).aggregate(s=Sum("quantity"))["s"] or 0
    return int((Decimal(created) * share).to_integral_value(rounding=ROUND_FLOOR))


def reserve_fund_propose(*, key: str, unit_type: UnitType, year: int, decision_ref: str, actor,
                         effective_at: dt.datetime | None = None) -> Proposal:
    """Propose funding the national reserve from ``unit_type``'s cap: ``floor(created × share)`` tonnes, the share from the
    market's stabilisation pack for ``year`` (draft Measures Art. 9). R0502 unless the national authority; R1104; R0301
    if the quantity is zero."""
    require_role(actor, Role.NATIONAL_AUTHORITY)
    market = INSTRUMENT_MARKET[unit_type.instrument]
    share, pack_id, sha = reserve_share(market=market, year=year)
    qty = reserve_fund_quantity(unit_type=unit_type, share=share)
    if qty <= 0:
        raise CetsError(R0301, str(qty))
    return proposal_submit(key=key, kind="reserve_fund", actor=actor, payload={
        "market": market, "unit_type": unit_type.code, "year": year, "quantity": qty, "share": str(share), "pack": pack_id,
        "pack_sha256": sha, "decision_ref": decision_ref, "effective_at": _when(effective_at)})


@four_eyes("reserve_fund")
def _execute_fund(p: Proposal, approver) -> dict:
    d = p.payload
    t = transfer_post(key=f"{p.key}:fund", kind=TransferKind.ISSUE, unit_type=UnitType.objects.get(code=d["unit_type"]),
                      debit=Leg(system_account(d["market"], AccountKind.NATIONAL_TOTAL), Position.REGISTRY),
                      credit=Leg(system_account(d["market"], AccountKind.NATIONAL_RESERVE), Position.REGISTRY), quantity=d["quantity"],
                      reference=f"储备注入 reserve funding {d['decision_ref']} ({d['share']} of the cap)", actor=p.proposed_by,
                      approver=approver, effective_at=_eff(p))
    return {"transfer": t.key, "quantity_t": d["quantity"]}


def reserve_release_propose(*, key: str, unit_type: UnitType, lines, decision_ref: str, actor, method: str = "auction",
                            auction: dict | None = None, effective_at: dt.datetime | None = None) -> Proposal:
    """Propose selling ``lines`` ``[{"account", "quantity" (t), "price_fen" (fen/t)}]`` from the national reserve (an
    auction's fills, ``auction`` its summary, or a direct sale). R0502, R1101, R0101, R1103, R0301, R1102; R0302 at
    proposal if the reserve holds less than the total (and again on approval)."""
    require_role(actor, Role.NATIONAL_AUTHORITY)
    market = INSTRUMENT_MARKET[unit_type.instrument]
    checked = _lines(lines, market=market)
    wanted = sum(ln["quantity"] for ln in checked)
    reserve = system_account(market, AccountKind.NATIONAL_RESERVE)
    have = Holding.objects.filter(account=reserve, unit_type=unit_type, position=Position.REGISTRY).values_list("quantity", flat=True).first() or 0
    if have < wanted:
        raise CetsError(R0302, f"{reserve.number} {unit_type.code}: {have} < {wanted}")
    return proposal_submit(key=key, kind="reserve_release", actor=actor, hold=_hold_payments, payload={
        "market": market, "unit_type": unit_type.code, "lines": checked, "method": method, "auction": auction or {},
        "quantity": sum(ln["quantity"] for ln in checked), "amount_fen": _amount(checked),
        "funds": True, "decision_ref": decision_ref, "effective_at": _when(effective_at)})


#: the memo of each line proposal's entries, by proposal kind
_WHAT = {"reserve_release": "储备出售 reserve sale", "reserve_withdraw": "储备回购 reserve buy-back", "paid_allocation": "有偿分配 paid allocation"}


def _payments(p: Proposal) -> list:
    """The proposal's payments: a release's buyers pay the treasury, a buy-back's treasury pays the sellers (fen)."""
    d = p.payload
    buy = p.kind != "reserve_withdraw"
    return lines_payments(key=p.key, market=d["market"], lines=d["lines"], buyer_pays=buy, reference=f"{_WHAT[p.kind]} {d['decision_ref']}")


def _hold_payments(p: Proposal) -> None:
    settle("hold", _payments(p))


def _release_payments(p: Proposal, approver) -> None:
    if p.payload.get("funds"):
        settle("release", _payments(p))


def _deliver(p: Proposal, approver, *, kind: str, debit, credit) -> dict:
    """Execute an approved line proposal: one ``transfer_post`` per line (``debit(line)`` → ``credit(line)``, both
    :class:`Leg`) at the line's recorded price, then its payments (delivery versus payment, one transaction; proposals
    recorded before payments carry no ``funds`` and move no money). The result: transfer keys, tonnes, fen."""
    d = p.payload
    ut = UnitType.objects.get(code=d["unit_type"])
    keys = []
    for i, ln in enumerate(d["lines"]):
        t = transfer_post(key=f"{p.key}:{i}", kind=kind, unit_type=ut, debit=debit(ln), credit=credit(ln), quantity=ln["quantity"],
                          reference=f"{_WHAT[p.kind]} {d['decision_ref']} @ {ln['price_fen']} fen/t", actor=p.proposed_by, approver=approver,
                          effective_at=_eff(p))
        keys.append(t.key)
    if d.get("funds"):
        settle("settle", _payments(p))
    return {"transfers": keys, "quantity_t": d["quantity"], "amount_fen": _amount(d["lines"]), "paid": bool(d.get("funds"))}


def _holder(ln: dict, position: str = Position.REGISTRY) -> Leg:
    return Leg(Account.objects.get(number=ln["account"]), position)


@four_eyes("reserve_release", on_reject=_release_payments)
def _execute_release(p: Proposal, approver) -> dict:
    reserve = Leg(system_account(p.payload["market"], AccountKind.NATIONAL_RESERVE), Position.REGISTRY)
    return _deliver(p, approver, kind=TransferKind.TRANSFER, debit=lambda ln: reserve, credit=_holder)


def _hold_lines(p: Proposal) -> None:
    _hold_payments(p)
    ut = UnitType.objects.get(code=p.payload["unit_type"])
    for i, ln in enumerate(p.payload["lines"]):
        acc = Account.objects.get(number=ln["account"])
        transfer_post(key=f"{p.key}:hold:{i}", kind=TransferKind.POSITION_MOVE, unit_type=ut, debit=Leg(acc, Position.REGISTRY),
                      credit=Leg(acc, Position.PENDING), quantity=ln["quantity"], reference="reserve_withdraw 待审批冻结 held for approval",
                      actor=p.proposed_by, effective_at=_eff(p))


def _release_lines(p: Proposal, approver) -> None:
    _release_payments(p, approver)
    ut = UnitType.objects.get(code=p.payload["unit_type"])
    for i, ln in enumerate(p.payload["lines"]):
        acc = Account.objects.get(number=ln["account"])
        transfer_post(key=f"{p.key}:release:{i}", kind=TransferKind.POSITION_MOVE, unit_type=ut, debit=Leg(acc, Position.PENDING),
                      credit=Leg(acc, Position.REGISTRY), quantity=ln["quantity"], reference="reserve_withdraw 驳回解冻 released on rejection",
                      actor=approver)


def reserve_withdraw_propose(*, key: str, unit_type: UnitType, lines, decision_ref: str, actor,
                             effective_at: dt.datetime | None = None) -> Proposal:
    """Propose a buy-back into the national reserve: each seller's ``quantity`` (t) at ``price_fen`` (fen/t) is held in its
    pending position at once (R0302 if it holds less) and moves to the reserve on a second national authority person's
    approval; a rejection releases it. R0502, R1101, R0101, R1103, R0301, R1102."""
    require_role(actor, Role.NATIONAL_AUTHORITY)
    market = INSTRUMENT_MARKET[unit_type.instrument]
    checked = _lines(lines, market=market)
    return proposal_submit(key=key, kind="reserve_withdraw", actor=actor, hold=_hold_lines, payload={
        "market": market, "unit_type": unit_type.code, "lines": checked, "quantity": sum(ln["quantity"] for ln in checked),
        "amount_fen": _amount(checked), "funds": True, "decision_ref": decision_ref, "effective_at": _when(effective_at)})


@four_eyes("reserve_withdraw", on_reject=_release_lines)
def _execute_withdraw(p: Proposal, approver) -> dict:
    reserve = Leg(system_account(p.payload["market"], AccountKind.NATIONAL_RESERVE), Position.REGISTRY)
    return _deliver(p, approver, kind=TransferKind.TRANSFER, debit=lambda ln: _holder(ln, Position.PENDING), credit=lambda ln: reserve)


def _bureau(actor, market: str, lines: list[dict]):
    """The provincial authority of a pilot market (a market without the national level; R1302 otherwise) whose
    province holds every line's account (R0502)."""
    if not load_market(market).pilot:
        raise CetsError(R1302, market)
    m = require_role(actor, Role.PROVINCIAL_AUTHORITY)
    for ln in lines:
        require_role(actor, Role.PROVINCIAL_AUTHORITY, province=Account.objects.values_list("province", flat=True).get(number=ln["account"]))
    return m


def paid_allocation_propose(*, key: str, unit_type: UnitType, lines, decision_ref: str, actor, auction: dict | None = None,
                            effective_at: dt.datetime | None = None) -> Proposal:
    """Propose a paid allocation (有偿分配, Regulations Art. 9; Beijing 京政发〔2024〕6号: by auction): ``lines``
    ``[{"account", "quantity" (t), "price_fen" (fen/t)}]`` — an auction's fills (``auction`` its summary) — are issued
    from the market's total account to the winners on a second person's approval, and each winner pays
    ``quantity × price_fen`` into the authority's treasury fund account of the market (frozen at proposal, paid on
    approval, released on rejection; no trading fee). The proposer and the approver are the market's provincial
    authority (R0502, R1302 for a market with a national level: its reserve auctions are :func:`reserve_release_propose`).
    R1101, R0101, R1103, R0301, R1102; R0302 if the total account holds less; T0801, T0803, R1301."""
    market = INSTRUMENT_MARKET[unit_type.instrument]
    checked = _lines(lines, market=market)
    _bureau(actor, market, checked)
    wanted = sum(ln["quantity"] for ln in checked)
    total = system_account(market, AccountKind.NATIONAL_TOTAL)
    have = Holding.objects.filter(account=total, unit_type=unit_type, position=Position.REGISTRY).values_list("quantity", flat=True).first() or 0
    if have < wanted:
        raise CetsError(R0302, f"{total.number} {unit_type.code}: {have} < {wanted}")
    return proposal_submit(key=key, kind="paid_allocation", actor=actor, hold=_hold_payments, payload={
        "market": market, "unit_type": unit_type.code, "lines": checked, "method": "auction", "auction": auction or {}, "quantity": wanted,
        "amount_fen": _amount(checked), "funds": True, "decision_ref": decision_ref,
        "effective_at": _when(effective_at)})


@four_eyes("paid_allocation", on_reject=_release_payments)
def _execute_paid_allocation(p: Proposal, approver) -> dict:
    _bureau(approver, p.payload["market"], p.payload["lines"])
    total = Leg(system_account(p.payload["market"], AccountKind.NATIONAL_TOTAL), Position.REGISTRY)
    return _deliver(p, approver, kind=TransferKind.ISSUE, debit=lambda ln: total, credit=_holder)
