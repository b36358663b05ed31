"""The registry's transfer kinds and four-eyes operations as tables (in the manner of the UK ETS
registry's transaction types).

:data:`TRANSFER_KINDS` — one :class:`KindRule` per :class:`~cets.registry.models.TransferKind`:
which account kinds may be debited and credited, in which positions where it matters, which account
statuses each leg may be in, who initiates, whether a second person approves (the four-eyes
proposal kind) and who, and the ordered checks (codes from :mod:`cets.registry.checks`) the ledger
runs for an entry of that kind (:mod:`cets.registry.services.ledger`, which reads this table).

:data:`PROPOSAL_KINDS` — one :class:`ProposalRule` per four-eyes operation (registry and compliance):
who may propose, who approves, which transfer kinds its execution posts.

:data:`MARKET_INSTRUMENTS` — which instruments each market's accounts may hold (R0202).

Sources: Measures for the administration of carbon emissions trading (trial) Art. 18–24; the Registry
rules (cn-ets-rules.md §4.1: 初始分配/发放, 变更, 清缴, 注销, 冻结); the 2023–2024 allocation plan
(issuance, 多退少补, differentiated treatment §五); DESIGN.md § Registry ledger. Roles are
:class:`cets.parties.models.Role` values. Enforcement of the *roles* stays in the services that
initiate each kind (``require_role``); the legs, positions and statuses are enforced by the ledger
from this table for every entry, single, batched or settled.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cets.core.errors import Check
from cets.parties.models import Role
from cets.rules import files as pack_files
from cets.rules.markets import instrument_home, market_instruments
from cets.rules.packs import pack_roots

from .checks import R0101, R0102, R0103, R0104, R0105, R0106, R0111, R0202, R0301, R0302, R0401, R0501
from .models import AccountKind, AccountStatus, Position, TransferKind

ALL_KINDS = frozenset(AccountKind)
RETIREMENT = frozenset({AccountKind.SURRENDER, AccountKind.CANCELLATION, AccountKind.DEDUCTION})
# Accounts a holder owns (one per holder and market).
HOLDER_KINDS = frozenset({AccountKind.ENTITY, AccountKind.INSTITUTION, AccountKind.INDIVIDUAL, AccountKind.CCER_HOLDING})
# Units leave the national total account only by issuance (four eyes), never by a plain transfer;
# nothing comes out of a retirement account except by reversal.
CIRCULATING = ALL_KINDS - RETIREMENT - {AccountKind.NATIONAL_TOTAL}

ALL_STATUSES = frozenset(AccountStatus)
# Closed accounts never move; frozen ones move only by the court's own freeze / release entries;
# restricted ones send nothing out on the holder's own initiative (registry operations still may).
LIVE = frozenset({AccountStatus.OPEN, AccountStatus.RESTRICTED})
OPEN_ONLY = frozenset({AccountStatus.OPEN})
NOT_CLOSED = ALL_STATUSES - {AccountStatus.CLOSED}

class _FromMarkets(Mapping):
    """A read-only mapping built on first use from the markets' ``market.toml`` files (rules/packs/<market>/)."""

    def __init__(self, build) -> None:
        self._build, self._data, self._roots, self._plain = build, None, None, None

    def _get(self) -> dict:
        if self._data is not None and self._plain is pack_files.PACK_DIR and not os.environ.get(pack_files.PACK_DIRS_ENV):
            return self._data  # built from the shipped packs alone, and still only those: no paths to build (every entry of a batch asks)
        roots = tuple(pack_roots())  # rebuilt when the pack folders change (CETS_PACK_DIRS)
        if self._data is None or roots != self._roots:
            self._data, self._roots = self._build(), roots
        self._plain = pack_files.PACK_DIR if roots == (Path(pack_files.PACK_DIR),) else None
        return self._data

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


# Which instruments each market's accounts may hold (R0202), and the market each instrument is created in:
# data of the markets (``[[instruments]]``, ``home = true``), so a new market is a folder of packs.
MARKET_INSTRUMENTS: Mapping[str, frozenset[str]] = _FromMarkets(market_instruments)
INSTRUMENT_MARKET: Mapping[str, str] = _FromMarkets(instrument_home)

# The refusal a leg's status gets when the kind does not allow it, in the order they are tested.
STATUS_CODES: tuple[tuple[str, Check], ...] = (
    (AccountStatus.CLOSED, R0102), (AccountStatus.FROZEN, R0103), (AccountStatus.RESTRICTED, R0104),
)

# The checks every entry runs, in precedence order (see :mod:`cets.registry.services.ledger`).
LEDGER_CHECKS: tuple[Check, ...] = (R0301, R0501, R0401, R0101, R0105, R0106, R0111, R0102, R0103, R0104, R0202, R0302)


@dataclass(frozen=True)
class KindRule:
    """One row of the transfer-kind table.

    ``debit``/``credit``: allowed account kinds (``debit=None``: the kind has no debit leg — creation).
    ``same_account``: debit and credit must be one account (a move between its positions).
    ``debit_positions``/``credit_positions``: allowed positions, ``None`` = any (R0111 otherwise).
    ``debit_statuses``/``credit_statuses``: allowed account statuses (R0102 closed, R0103 frozen,
    R0104 restricted otherwise). ``initiators``: roles that start it (``"system"`` = the registry or
    the exchange's settlement on another service's behalf). ``proposal``: the four-eyes operation that
    posts it (``None``: no second person). ``approver``: the role that approves. ``checks``: the
    ordered codes that run for an entry of this kind."""

    kind: str
    debit: frozenset[str] | None
    credit: frozenset[str]
    initiators: tuple[str, ...]
    debit_statuses: frozenset[str] = LIVE
    credit_statuses: frozenset[str] = LIVE
    same_account: bool = False
    debit_positions: frozenset[str] | None = None
    credit_positions: frozenset[str] | None = None
    proposal: str | None = None
    approver: str | None = None
    note: str = ""

    @property
    def four_eyes(self) -> bool:
        return self.proposal is not None

    @property
    def checks(self) -> tuple[Check, ...]:
        skip = set()
        if self.debit_positions is None and self.credit_positions is None:
            skip.add(R0111.code)
        if self.debit is None:
            skip.add(R0302.code)  # creation debits nothing
        if AccountStatus.RESTRICTED in self.debit_statuses and AccountStatus.RESTRICTED in self.credit_statuses:
            skip.add(R0104.code)
        if AccountStatus.FROZEN in self.debit_statuses and AccountStatus.FROZEN in self.credit_statuses:
            skip.add(R0103.code)
        return tuple(c for c in LEDGER_CHECKS if c.code not in skip)


_OP, _ENT, _TRD, _PROV = Role.REGISTRY_OPERATOR, Role.ENTITY, Role.TRADER, Role.PROVINCIAL_AUTHORITY
_NAT = Role.NATIONAL_AUTHORITY
_HOLDER_SIDE = (_ENT, _TRD, _OP, "system")

TRANSFER_KINDS: dict[str, KindRule] = {r.kind: r for r in (
    KindRule(TransferKind.CREATE, debit=None, credit=frozenset({AccountKind.NATIONAL_TOTAL}), initiators=(_OP, "system"),
             credit_positions=frozenset({Position.REGISTRY}), note="a vintage's cap into the national total account (vintage_create)"),
    KindRule(TransferKind.ISSUE, debit=frozenset({AccountKind.NATIONAL_TOTAL}), credit=ALL_KINDS - RETIREMENT, initiators=(_OP,),
             proposal="issue", approver=_OP, note="发放 (allocation plan); also the carry-over's new vintage"),
    KindRule(TransferKind.CLAWBACK, debit=ALL_KINDS - RETIREMENT, credit=frozenset({AccountKind.NATIONAL_TOTAL}), initiators=(_OP,),
             proposal="issue", approver=_OP, note="收回, the negative lines of an issuance (多退少补)"),
    KindRule(TransferKind.TRANSFER, debit=CIRCULATING, credit=CIRCULATING, initiators=_HOLDER_SIDE, debit_statuses=OPEN_ONLY,
             note="变更: a holder's transfer, a trade's delivery, a change of holder (the province approves)"),
    KindRule(TransferKind.POSITION_MOVE, debit=ALL_KINDS, credit=ALL_KINDS, same_account=True, initiators=_HOLDER_SIDE,
             note="registry ↔ trading by the holder; trading ↔ pending for orders; → pending while a proposal waits"),
    KindRule(TransferKind.SURRENDER, debit=HOLDER_KINDS, credit=frozenset({AccountKind.SURRENDER}), initiators=(_ENT,),
             debit_statuses=OPEN_ONLY, approver=_PROV, note="清缴: the entity applies, the provincial authority approves"),
    KindRule(TransferKind.FORCED_SURRENDER, debit=frozenset({AccountKind.PROVINCIAL, AccountKind.ENTITY}),
             credit=frozenset({AccountKind.SURRENDER}), initiators=(_OP,), proposal="forced_surrender", approver=_OP,
             note="强制履约 and Beijing's automatic collection (proposal beijing_collection)"),
    KindRule(TransferKind.CANCELLATION, debit=ALL_KINDS, credit=frozenset({AccountKind.CANCELLATION}), initiators=(_OP, _ENT, _TRD),
             proposal="cancellation", approver=_OP, note="自愿注销 (Measures Art. 19)"),
    KindRule(TransferKind.DEDUCTION, debit=ALL_KINDS, credit=frozenset({AccountKind.DEDUCTION}), initiators=(_OP,),
             proposal="deduction", approver=_OP, note="核减 on an authority's decision (Regulations Art. 22, 24)"),
    KindRule(TransferKind.FREEZE, debit=ALL_KINDS, credit=ALL_KINDS, same_account=True, initiators=(_OP,), debit_statuses=NOT_CLOSED,
             credit_statuses=NOT_CLOSED, debit_positions=frozenset({Position.REGISTRY, Position.TRADING}),
             credit_positions=frozenset({Position.FROZEN}), note="司法冻结 on a court's order"),
    KindRule(TransferKind.RELEASE, debit=ALL_KINDS, credit=ALL_KINDS, same_account=True, initiators=(_OP,), debit_statuses=NOT_CLOSED,
             credit_statuses=NOT_CLOSED, debit_positions=frozenset({Position.FROZEN}), note="解除冻结"),
    KindRule(TransferKind.REVERSAL, debit=ALL_KINDS, credit=ALL_KINDS, initiators=(_OP,), proposal="reversal", approver=_OP,
             note="冲正: the opposite of a completed entry, linked to it"),
    KindRule(TransferKind.CARRY_OVER, debit=ALL_KINDS, credit=frozenset({AccountKind.CANCELLATION}), initiators=(_ENT, _OP),
             approver=_OP, note="结转: the old vintage retired (the registry approves the entity's application)"),
)}


@dataclass(frozen=True)
class ProposalRule:
    """One four-eyes operation: who may propose it, which role approves (never the proposer, R0501),
    and the transfer kinds its execution posts (none for an account closure)."""

    kind: str
    proposers: tuple[str, ...]
    approver: str
    transfers: tuple[str, ...]
    note: str = ""


PROPOSAL_KINDS: dict[str, ProposalRule] = {r.kind: r for r in (
    ProposalRule("issue", (_OP,), _OP, (TransferKind.ISSUE, TransferKind.CLAWBACK), "issuance and claw-back batch"),
    ProposalRule("cancellation", (_OP, _ENT, _TRD), _OP, (TransferKind.POSITION_MOVE, TransferKind.CANCELLATION),
                 "voluntary cancellation: the holder or an operator proposes"),
    ProposalRule("deduction", (_OP,), _OP, (TransferKind.POSITION_MOVE, TransferKind.DEDUCTION), "deduction on a decision"),
    ProposalRule("reversal", (_OP,), _OP, (TransferKind.REVERSAL,), "reversal of a completed entry"),
    ProposalRule("account_close", (_OP,), _OP, (), "closing an empty account"),
    ProposalRule("forced_surrender", (_OP,), _OP, (TransferKind.FORCED_SURRENDER, TransferKind.TRANSFER),
                 "compliance: forced surrender on the province's instruction"),
    ProposalRule("beijing_collection", (_OP,), _OP, (TransferKind.FORCED_SURRENDER,), "compliance: Beijing's automatic collection"),
    # What one operator alone must not do (issue 16): move a holder's units the holder did not instruct, create
    # units or raise a cap, release a judicial freeze, or reopen a restricted or frozen account.
    ProposalRule("operator_transfer", (_OP,), _OP, (TransferKind.POSITION_MOVE, TransferKind.TRANSFER),
                 "an operator moves a holder's units (e.g. on a court's or an authority's decision): held, then moved on approval"),
    ProposalRule("vintage_create", (_OP,), _OP, (TransferKind.CREATE,), "creating a unit type or adding to its cap (minting)"),
    ProposalRule("freeze_release", (_OP,), _OP, (TransferKind.RELEASE,), "解除冻结: frozen units back to the registry position"),
    ProposalRule("account_reopen", (_OP,), _OP, (), "reopening a restricted or frozen account"),
    # A change of holder on a merger or split (Measures Art. 18): the registry proposes on the decision, the old
    # holder's provincial authority approves in the platform (as a user, in its own province), then it executes.
    ProposalRule("holder_change", (_OP,), Role.PROVINCIAL_AUTHORITY, (TransferKind.TRANSFER,),
                 "change of holder: approved in the platform by the old holder's provincial authority"),
    # An individual's or institution's account opening (draft Measures Art. 14, 18; issue 17): one operator reviews
    # the know-your-customer fields and documents and proposes, a second approves; approval creates the holder,
    # opens its account and its login. Nothing moves.
    ProposalRule("account_application", (_OP,), _OP, (), "opening an individual's or institution's account after KYC review"),
    # The national reserve (draft Measures Art. 9 预留配额, Art. 23 市场调节; registry/services/reserve.py): decided by the
    # national authority, one person proposes and a second approves.
    ProposalRule("reserve_fund", (_NAT,), _NAT, (TransferKind.ISSUE,), "the reserve funded from a vintage's cap by the pack's share"),
    ProposalRule("reserve_release", (_NAT,), _NAT, (TransferKind.TRANSFER,), "allowances sold from the reserve (auction result) to buyers"),
    ProposalRule("reserve_withdraw", (_NAT,), _NAT, (TransferKind.POSITION_MOVE, TransferKind.TRANSFER),
                 "buy-back: sellers' allowances into the reserve at a price (held, then moved on approval)"),
    # Paid allocation by auction (有偿分配; Regulations Art. 9; 京政发〔2024〕6号 for Beijing): a pilot market's provincial
    # authority issues allowances from the market's total to the winning bidders against payment into its treasury
    # fund account (registry/services/reserve.py paid_allocation_propose): one person proposes, a second approves.
    ProposalRule("paid_allocation", (_PROV,), _PROV, (TransferKind.ISSUE,),
                 "paid allocation by auction: issued to the winners against payment into the authority's treasury fund account"),
)}


# Holder protection (issue 16; EU Registry Regulation (EU) 2019/1122 by analogy): the transfer kinds a holder's own
# instruction posts only to an account on its active trusted account list (R0801) and only after the rule pack's
# delay, which the holder may cancel (cets.registry.services.protection: transfer_instruct, then the registry's
# release). Only ``transfer`` — units leaving the holder for another holder outside the exchange (变更). Not subject:
# ``position_move`` (the holder's own positions, and the hold/return of a delayed transfer itself), ``surrender``
# and ``carry_over`` (into the market's own retirement accounts, approved by the province or the registry),
# ``cancellation`` (into the cancellation account, four eyes), the exchange's settlement (``exchange_deliver``: a
# ``transfer`` the exchange posts against payment, not a holder's instruction to a named account), and every
# operator or four-eyes kind (issue, clawback, forced_surrender, deduction, freeze, release, reversal, the holder
# change and operator transfers: a second person approves them).
HOLDER_PROTECTED_KINDS: frozenset[str] = frozenset({TransferKind.TRANSFER})


def kind_rule(kind: str) -> KindRule:
    """The table's row for ``kind``; R0106 for a kind the table does not know."""
    from cets.core.errors import CetsError

    try:
        return TRANSFER_KINDS[kind]
    except KeyError:
        raise CetsError(R0106, kind) from None


def legs_refusal(kind: str, debit_kind: str | None, credit_kind: str, same_account: bool) -> Check | None:
    """R0106 if the table does not allow these account kinds (or same/different accounts) for ``kind``."""
    rule = TRANSFER_KINDS.get(kind)
    if rule is None:
        return R0106
    if rule.debit is None:
        ok = debit_kind is None and credit_kind in rule.credit
    else:
        ok = debit_kind is not None and debit_kind in rule.debit and credit_kind in rule.credit
        if rule.same_account and not same_account:
            ok = False
    return None if ok else R0106


def positions_refusal(kind: str, debit_position: str | None, credit_position: str) -> Check | None:
    """R0111 if a leg's position is not one the table allows for ``kind``."""
    rule = TRANSFER_KINDS[kind]
    if rule.debit_positions is not None and debit_position is not None and debit_position not in rule.debit_positions:
        return R0111
    if rule.credit_positions is not None and credit_position not in rule.credit_positions:
        return R0111
    return None


def status_refusal(kind: str, debit_status: str | None, credit_status: str) -> tuple[Check, str] | None:
    """The first status refusal for ``kind`` and which leg (``"debit"``/``"credit"``): closed (R0102)
    on either leg first, then frozen (R0103), then restricted (R0104)."""
    rule = TRANSFER_KINDS[kind]
    for status, code in STATUS_CODES:
        if debit_status == status and status not in rule.debit_statuses:
            return code, "debit"
        if credit_status == status and status not in rule.credit_statuses:
            return code, "credit"
    return None
