"""Allocation writes: compute a year's allocation from verified data and issue it through the registry.

``allocation_compute`` → ``allocation_issue_propose`` (pre-allocation or final) → a second registry
operator approves the proposal in the registry → ``allocation_issue_confirm`` records the stage.
"""

from __future__ import annotations

import re
from operator import attrgetter
from types import SimpleNamespace

from django.db import transaction

from cets.core.batch import gc_paused
from cets.core.errors import CetsError
from cets.mrv.selectors import entities_blocked
from cets.parties.access import require_role
from cets.parties.models import Role
from cets.registry.models import Proposal, UnitType
from cets.registry.services import IssuanceLine, issuance_propose
from cets.rules.markets import PRIMARY_MARKET, is_pilot
from cets.rules.packs import PackError, load_pack

from . import mechanisms
from .checks import A0101, A0103, A0104, A0105, A0106, A0108, A0109, A0110, A0114, A0115, A0116, A0120, A0121, A0122, A0123, A0124, A0125, A0126, A0130
from .formulas import PowerRules, allocate
from .issuance import final_issue, pre_issue
from .mechanisms import _insert, _unit_inputs, _unit_rows
from .models import AllocationAdjustment, EntityAllocation, SpecialTreatment, UnitAllocation


def _scope(market: str, sector: str, year: int):
    return EntityAllocation.objects.filter(market=market, sector=sector, year=year)


def _spans_sectors(pack) -> bool:
    """Whether ``pack`` allocates every sector of its market (its ``sector`` is not one of the market's sector
    codes, e.g. Beijing's ``emitters`` pack, registered for sector ``*`` in ``market.toml``)."""
    from cets.rules.markets import load_market

    return pack.sector not in load_market(pack.market).sector_codes


def _pack_scope(pack, year: int):
    """The stored allocations ``pack`` computes for ``year``: its (market, sector, year), or for a pack that spans
    the market's sectors every allocation of the market and year made with it."""
    if _spans_sectors(pack):
        return EntityAllocation.objects.filter(market=pack.market, year=year, pack_id=pack.id)
    return _scope(pack.market, pack.sector, year)


def _sector_of(pack, year: int, entity_ids) -> dict[int, str]:
    """entity id → the sector its allocation is stored under: the pack's sector, or, for a pack spanning the
    market's sectors, the entity's sector on the market's ``year`` key-emitter list (the first in code order if
    it is listed in several; the pack's own scope name if it is on none)."""
    ids = list(entity_ids)
    if not _spans_sectors(pack):
        return dict.fromkeys(ids, pack.sector)
    from cets.parties.models import EmitterListEntry

    out: dict[int, str] = {}
    for eid, sec in (EmitterListEntry.objects.filter(market=pack.market, year=year, entity_id__in=ids, included=True, category=EmitterListEntry.KEY_EMITTER)
                     .order_by("entity_id", "sector").values_list("entity_id", "sector")):
        out.setdefault(eid, sec)
    return {eid: out.get(eid, pack.sector) for eid in ids}


@gc_paused()  # a year's plain rows: 0.15 s of a national compute went to the collector (issue 19)
@transaction.atomic
def allocation_compute(*, year: int, pack_id: str, actor=None) -> dict[str, int]:
    """Compute the allocation of the pack's market and sector for ``year`` from the verified data, by the
    mechanism the pack names for the year (:mod:`cets.allocation.mechanisms`): power units by benchmark
    (plan 附3, 附4, §三, §五), steel/cement/aluminium facilities by verified emissions (2024) or the
    intensity coefficient with the solved balance value (2025–2026 draft §四(二)). Facilities without
    verified data for ``year`` take no part. A pack spanning its market's sectors (Beijing's) stores each entity's
    allocation under the entity's list sector. Recomputing replaces the pack's results that
    were not issued yet; A0101 if any was issued or proposed for issuance, A0102 for a 2019–2022 power pack
    whose inputs (供电量, cooling, 供热比, the base year's output) are missing from a unit's verified data, A0108 for a pack with
    no database mechanism. The issuance figures (adjustments, special treatment) are filled in as
    ``allocation_issuance_refresh`` does. Stored rows keep the pack id and the pack file's SHA-256.
    Returns counts (``units`` = generating units or facilities)."""
    from .mechanisms import mechanism_for

    if actor is not None:
        require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, Role.REGISTRY_OPERATOR)
    pack = load_pack(pack_id)
    market = pack.market
    compute = mechanism_for(pack, year)
    if _recompute_blocked(pack, year):
        raise CetsError(A0101, f"{market} {pack.sector} {year}")
    _preissue_status_sync(market, year)
    _preissued(market, year)  # A0304 while a pre-issue waits
    results = compute(pack=pack, year=year)
    _pack_scope(pack, year).delete()
    ids = [r.entity_id for r in results.entities]
    sector_of = _sector_of(pack, year, ids)
    treatments = _treatments(year, ids)
    memo: dict = {}
    adjustments = {}
    for sec in sorted(set(sector_of.values())):
        adjustments.update(_adjustments(year, [i for i in ids if sector_of[i] == sec], sec, market))
    rows = []
    for e in results.entities:
        row = SimpleNamespace(  # the EntityAllocation fields _apply_issuance reads and fills
            entity_id=e.entity_id, market=market, sector=sector_of[e.entity_id], year=year, pack_id=pack_id, pack_sha256=pack.sha256,
            verified_emissions_t=e.verified_emissions_t, initial_allocation_t=e.initial_allocation_t,
            shortfall_topup_t=e.shortfall_topup_t, final_allocation_t=e.final_allocation_t, pre_allocation_t=e.pre_allocation_t,
            pre_allocation_computed_t=e.pre_allocation_t, issue_delta_t=0, obligation_t=e.obligation_t,
            stage=EntityAllocation.Stage.COMPUTED, issued_t=0, pre_adjustment_t=0, pre_issue_t=0,
        )
        _apply_issuance(row, treatments.get(e.entity_id, ()), adjustments.get(e.entity_id, 0), memo)
        rows.append(row)
    if _carry_preissue(rows, market, year):  # a pre-issue made before determination (Beijing, 京环发〔2024〕8号 三(三)2)
        for row in rows:
            _apply_issuance(row, treatments.get(row.entity_id, ()), adjustments.get(row.entity_id, 0), memo)
    rows = [vars(row) for row in rows]
    _insert(EntityAllocation, rows)
    return {"units": results.units, "entities": len(rows),
            "final_allocation_t": sum(e.final_allocation_t for e in results.entities),
            "pre_allocation_t": sum(e.pre_allocation_t for e in results.entities)}


def _treatments(year: int, entity_ids) -> dict[int, list[str]]:
    ids = list(entity_ids)
    qs = SpecialTreatment.objects.filter(year=year, voided_at__isnull=True)
    if len(ids) <= LARGE_IN:
        qs = qs.filter(entity_id__in=ids)
    wanted = set(ids)
    out: dict[int, list[str]] = {}
    for eid, kind in qs.values_list("entity_id", "kind"):
        if eid in wanted:
            out.setdefault(eid, []).append(kind)
    return out


def _adjustments(year: int, entity_ids, sector: str, market: str = PRIMARY_MARKET) -> dict[int, int]:
    """entity id → tonnes withheld (adjustments in force) from its ``sector`` allocation of ``year``: those
    recorded for ``sector``, and those recorded without a sector when ``sector`` is the entity's largest."""
    from django.db.models import Sum

    ids = list(entity_ids)
    wanted = set(ids)
    base = AllocationAdjustment.objects.filter(year=year, voided_at__isnull=True)
    if len(ids) <= LARGE_IN:
        base = base.filter(entity_id__in=ids)

    def sums(sec: str) -> dict[int, int]:
        q = base.filter(sector=sec).order_by().values_list("entity_id").annotate(t=Sum("quantity_t"))
        return {eid: int(t or 0) for eid, t in q if eid in wanted}

    out = sums(sector)
    loose = sums("")
    if loose:
        carrier = _largest_sector(year, list(loose), market)
        for eid, t in loose.items():
            if carrier.get(eid, sector) == sector:
                out[eid] = out.get(eid, 0) + t
    return out


# Above this many entities a read takes the year's rows (adjustments, treatments: a few) and keeps the wanted entities in
# Python instead of sending an IN list of thousands of ids (bench/allocation_national.py: 5,500 entities).
LARGE_IN = 1000


def _largest_sector(year: int, entity_ids, market: str) -> dict[int, str]:
    """entity id → the sector of its largest final allocation of ``year`` in ``market`` (ties: sector code)."""
    out: dict[int, str] = {}
    for eid, sector in (EntityAllocation.objects.filter(market=market, year=year, entity_id__in=list(entity_ids))
                        .order_by("entity_id", "-final_allocation_t", "sector").values_list("entity_id", "sector")):
        out.setdefault(eid, sector)
    return out


def provincial_kinds(pack_id: str) -> frozenset[str]:
    """Special-treatment kinds whose allowances go to the provincial authority account with the entity as
    beneficiary: the pack's ``special_treatment.provincial_account`` (2021–2022 notice §一: all_shut and
    compliance_risk), else ``compliance_risk`` (2023–2024 plan §五(四))."""
    try:
        kinds = load_pack(pack_id).data.get("special_treatment", {}).get("provincial_account")
    except PackError:
        kinds = None
    return frozenset(kinds if kinds is not None else ("compliance_risk",))


def _provincial(pack_id: str, memo: dict | None) -> frozenset[str]:
    """:func:`provincial_kinds`, read once per pack within one call of a set-based service (``memo``: pack id → kinds)."""
    if memo is None:
        return provincial_kinds(pack_id)
    if pack_id not in memo:
        memo[pack_id] = provincial_kinds(pack_id)
    return memo[pack_id]


def _apply_issuance(a: EntityAllocation, treatments, adjustments_t: int, memo: dict | None = None) -> None:
    """Fill the pre-allocation and final tables' figures of ``a`` (not saved) from its stage: before the
    pre-allocation is issued both stages are refreshed; afterwards only the final one. 实发配额量 is always
    应发 − 配额调整总量 − 预分配实发配额量 (the final stage's quantity, dynamic adjustments included); what is
    still to issue at any time is ``pre_issue_t + final_issue_t − issued_t``."""
    if a.stage == EntityAllocation.Stage.COMPUTED:
        p = pre_issue(pre_allocation_t=a.pre_allocation_computed_t, adjustments_total_t=adjustments_t, treatments=treatments,
                      provincial=_provincial(a.pack_id, memo))
        a.pre_allocation_t, a.pre_adjustment_t, a.pre_issue_t = p.pre_allocation_t, p.pre_adjustment_t, p.pre_issue_t
        issued_before = p.pre_issue_t  # the table assumes the pre-allocation is issued as shown
    else:
        issued_before = a.pre_issue_t  # what the pre-allocation stage issued
    f = final_issue(final_allocation_t=a.final_allocation_t, obligation_t=a.obligation_t, adjustments_total_t=adjustments_t,
                    issued_before_t=issued_before, treatments=treatments, provincial=_provincial(a.pack_id, memo))
    a.adjustments_total_t, a.final_issue_t = f.adjustments_total_t, f.final_issue_t
    a.issue_delta_t = a.final_allocation_t - a.pre_allocation_t
    a.to_provincial_account, a.special_note = f.to_provincial_account, f.special_note


ISSUANCE_FIELDS = ["pre_allocation_t", "pre_adjustment_t", "pre_issue_t", "adjustments_total_t", "final_issue_t", "issue_delta_t",
                   "to_provincial_account", "special_note"]
_issuance_figures = attrgetter(*ISSUANCE_FIELDS)  # a row's ISSUANCE_FIELDS as a tuple, in that order


def allocation_issuance_refresh(*, year: int, entity_ids=None, market: str = PRIMARY_MARKET, sector: str | None = None) -> list[EntityAllocation]:
    """Re-read adjustments (配额调整总量) and special treatments in force and update the issuance figures
    of ``year``'s allocations (all, or ``entity_ids``). Rows imported from a province's data tables keep
    their figures (only the compliance-risk destination follows). Returns the rows, entity order. Call
    inside a transaction (the issuance proposal does)."""
    qs = EntityAllocation.objects.filter(market=market, year=year).select_related("entity").order_by("entity_id", "sector")
    if sector is not None:
        qs = qs.filter(sector=sector)
    if entity_ids is not None:
        qs = qs.filter(entity_id__in=list(entity_ids))
    allocs = list(qs.select_for_update(of=("self",)))
    _refresh(allocs, year, market)
    return allocs


def _refresh(allocs, year: int, market: str) -> None:
    """:func:`allocation_issuance_refresh`'s work on rows already read and locked (model instances or
    :func:`_scope_rows`' plain rows): fill each one's issuance figures and save the rows whose figures changed."""
    ids = [a.entity_id for a in allocs]
    treatments = _treatments(year, ids)
    adjustments = {s: _adjustments(year, ids, s, market) for s in {a.sector for a in allocs}}
    memo: dict = {}
    for a in allocs:
        before = _issuance_figures(a)
        if a.source.startswith("imported"):  # the province's table figures stand; only the destination follows treatments
            a.to_provincial_account = bool(_provincial(a.pack_id, memo) & set(treatments.get(a.entity_id, ())))
        else:
            _apply_issuance(a, treatments.get(a.entity_id, ()), adjustments[a.sector].get(a.entity_id, 0), memo)
        after = _issuance_figures(a)
        if after != before:  # usually few: a decision recorded since the computation
            EntityAllocation.objects.filter(pk=a.pk).update(**dict(zip(ISSUANCE_FIELDS, after)))


_ROW_FIELDS = ("pk", "entity_id", "market", "sector", "year", "source", "pack_id", "stage", "final_allocation_t", "obligation_t",
               "pre_allocation_computed_t", *ISSUANCE_FIELDS)


def _scope_rows(scope) -> list[SimpleNamespace]:
    """The allocations of ``scope`` locked and read in one statement as plain rows (entity order): the fields
    :func:`_refresh` and :func:`_destinations` read, ``entity`` a (``uscc``, ``province``) row — no model instances."""
    out = []
    for r in scope.select_for_update(of=("self",)).order_by("entity_id", "sector").values_list(*_ROW_FIELDS, "entity__uscc", "entity__province"):
        a = SimpleNamespace(**dict(zip(_ROW_FIELDS, r)))
        a.entity = SimpleNamespace(pk=a.entity_id, uscc=r[-2], province=r[-1])
        out.append(a)
    return out


def _destinations(allocs) -> dict[int, tuple[str, str]]:
    """entity id → (account number, beneficiary credit code) in the allocation's market: the entity's own
    account, or for an entity at compliance risk its province's authority account with the entity as
    beneficiary (plan §五(四))."""
    from cets.registry.models import AccountKind
    from cets.registry.selectors import account_numbers_of_holders
    from cets.registry.services import system_account

    out: dict[int, tuple[str, str]] = {}
    for market in sorted({a.market for a in allocs}):
        mine = [a for a in allocs if a.market == market]
        own = account_numbers_of_holders(holder_ids=[a.entity_id for a in mine if not a.to_provincial_account], market=market)
        for a in mine:
            if a.to_provincial_account:
                out[a.entity_id] = (system_account(market, AccountKind.PROVINCIAL, a.entity.province).number, a.entity.uscc)
            elif a.entity_id in own:
                out[a.entity_id] = (own[a.entity_id], "")
    return out


_STAGE_FROM = {"pre": EntityAllocation.Stage.COMPUTED, "final": EntityAllocation.Stage.PRE_ISSUED}
_STAGE_TO = {"pre": EntityAllocation.Stage.PRE_ISSUED, "final": EntityAllocation.Stage.FINAL_ISSUED}


def _only_sector(market: str, year: int) -> str:
    """The one sector the market allocated in ``year``; A0103 when there are several (name the sector) or none."""
    sectors = list(EntityAllocation.objects.filter(market=market, year=year).order_by("sector").values_list("sector", flat=True).distinct())
    if len(sectors) != 1:
        raise CetsError(A0103, f"{market} {year}: name the sector ({', '.join(sectors) or 'none allocated'})")
    return sectors[0]


def _from_stages(stage: str, market: str, sector: str, year: int) -> tuple[str, ...]:
    """The stages an allocation may be at for ``stage`` to be issued: the one before it, and for ``final``
    also ``computed`` when the year has no pre-allocation (``[method.<year>] pre_allocation = false``:
    steel, cement and aluminium 2024, 2025 notice 三(十))."""
    if stage == "pre":
        return (_STAGE_FROM["pre"],)
    pack_id = _scope(market, sector, year).values_list("pack_id", flat=True).first()
    no_pre = False
    if pack_id:
        try:
            no_pre = not load_pack(pack_id).flag(f"method.{year}.pre_allocation")
        except PackError:
            no_pre = False
    return (_STAGE_FROM["final"], EntityAllocation.Stage.COMPUTED) if no_pre else (_STAGE_FROM["final"],)


def issuance_key(*, market: str, sector: str, year: int, stage: str, province: str | None = None, n: int = 1) -> str:
    """The registry proposal key of an issuance: ``allocation-<market>-<sector>-<year>-<stage>[-<province>][-<n>]``
    (``n`` counts the batches of one scope: entities held back by a verification block go in a later one)."""
    key = f"allocation-{market}-{sector}-{year}-{stage}" + (f"-{province}" if province else "")
    return key if n == 1 else f"{key}-b{n}"


@gc_paused()
@transaction.atomic
def allocation_issue_propose(*, year: int, stage: str, unit_type: UnitType, actor, effective_at=None, market: str = PRIMARY_MARKET,
                             sector: str | None = None, province: str | None = None) -> Proposal:
    """Propose issuing a stage of the ``market``/``sector`` allocation of ``year`` (every province, or one
    ``province``), four eyes: a second registry operator approves. ``sector`` may be left out when the
    market allocated one sector that year (:func:`_only_sector`, A0103 otherwise).

    ``pre`` issues 预分配实发配额量 (pre-allocation − adjustment); ``final`` issues or claws back
    实发配额量 = 应发 − 配额调整总量 − already issued (多退少补, plan §五(二), §五(五)). The figures are
    refreshed first from the adjustments and special treatments in force. An entity at compliance risk
    is issued into its provincial authority account with itself as beneficiary (plan §五(四)). For
    ``final``, an entity with an unresolved 不符合 verification conclusion for ``year``
    (:func:`cets.mrv.selectors.entities_blocked`) is held back — only that entity: it stays at its stage
    and goes into a later batch once resolved. A proposal already waiting for the same scope is returned.
    Raises A0103 if no entity of the scope is at the stage before ``stage``, A0130 if every one of them
    is blocked, A0106 if an entity has no account, R0502 unless ``actor`` is a registry operator (or, in a pilot market,
    the provincial authority).

    In a pilot market the provincial authority may propose instead (``actor`` its user; its own province only): the
    proposal is then of kind ``free_allocation`` and a second user of the bureau approves it
    (:func:`cets.registry.services.free_allocation_propose`; R1401, R1402 when a claw-back exceeds what the entity
    holds — nothing is proposed, the bureau decides). A0306 for ``pre`` once the year was pre-issued before
    determination (:func:`preissue_propose`); its final stage issues final − adjustments − pre-issued."""
    from cets.registry.services import free_allocation_propose

    from .checks import A0306
    from .models import PreIssue

    m = require_role(actor, *((Role.REGISTRY_OPERATOR, Role.PROVINCIAL_AUTHORITY) if is_pilot(market) else (Role.REGISTRY_OPERATOR,)))
    bureau = m.role == Role.PROVINCIAL_AUTHORITY
    if bureau:
        province = m.province
    if stage == "pre" and PreIssue.objects.filter(market=market, year=year).exclude(status=PreIssue.Status.REJECTED).exists():
        raise CetsError(A0306, f"{market} {year}")
    preissue_sync(market=market, year=year)  # a pre-issue approved since the allocation was computed is carried into it
    sector = sector or _only_sector(market, year)
    scope = _scope(market, sector, year).filter(stage__in=_from_stages(stage, market, sector, year))
    if province:
        scope = scope.filter(entity__province=province)
    waiting = scope.exclude(proposal_key="").values_list("proposal_key", flat=True).first()
    if waiting:
        return Proposal.objects.get(key=waiting)
    set_based = mechanisms.SET_BASED
    if set_based:  # locked and read once, plain rows (bench/allocation_national.py)
        scoped = _scope_rows(scope)
        rows = [(a.entity_id, a.entity.uscc) for a in scoped]
    else:
        rows = list(scope.values_list("entity_id", "entity__uscc"))
    if not rows:
        raise CetsError(A0103, f"{stage}: no {market} {sector} {year} allocation at stage {'/'.join(_from_stages(stage, market, sector, year))}")
    ids = [eid for eid, _ in rows]
    blocked: dict[int, int] = {}
    if stage == "final":
        blocked = entities_blocked(entity_ids=ids, year=year)
        if blocked and len(blocked) == len(ids):
            usccs = sorted(u for eid, u in rows if eid in blocked)
            raise CetsError(A0130, f"{len(usccs)}: {', '.join(usccs[:5])}{' …' if len(usccs) > 5 else ''}")
        ids = [eid for eid in ids if eid not in blocked]
    n = 1
    while Proposal.objects.filter(key=issuance_key(market=market, sector=sector, year=year, stage=stage, province=province, n=n)).exists():
        n += 1
    key = issuance_key(market=market, sector=sector, year=year, stage=stage, province=province, n=n)
    if set_based:
        allocs = [a for a in scoped if a.entity_id not in blocked]
        _refresh(allocs, year, market)
    else:
        allocs = allocation_issuance_refresh(year=year, entity_ids=ids, market=market, sector=sector)
    dest = _destinations(allocs)
    label = {"pre": "预分配 pre-allocation", "final": "核定 final allocation"}[stage]
    lines = []
    for a in allocs:
        qty = a.pre_issue_t if stage == "pre" else a.final_issue_t
        if not qty:
            continue
        if a.entity_id not in dest:
            raise CetsError(A0106, a.entity.uscc)
        account, beneficiary = dest[a.entity_id]
        lines.append(IssuanceLine(account=account, quantity=qty, reference=f"{year} {sector} {label} {a.entity.uscc}", beneficiary=beneficiary))
    # the rows just read (locked on the set-based path) are the scope's, less the blocked: one UPDATE by the scope's
    # own filter, not by a list of thousands of ids
    (scope.exclude(entity_id__in=list(blocked)) if blocked else scope).update(proposal_key=key)
    if bureau:
        return free_allocation_propose(key=key, unit_type=unit_type, lines=lines, actor=actor, province=province, effective_at=effective_at,
                                       note=f"{year} {market} {sector} {label}", basis={"stage": stage, "entities": len(lines)})
    return issuance_propose(key=key, unit_type=unit_type, lines=lines, actor=actor, effective_at=effective_at,
                            note=f"{year} {market} {sector} {label}")


@transaction.atomic
def allocation_issue_confirm(*, year: int, stage: str, market: str = PRIMARY_MARKET, sector: str | None = None) -> int:
    """Record the outcome of the ``stage`` issuance proposals of ``market``/``sector``/``year``: the entities
    of an executed proposal move to the next stage and ``issued_t`` (issued so far, tonnes) takes the
    proposal's quantities; those of a rejected one are released for a new proposal. A0104 if no proposal of
    the scope has been executed (one is still waiting or none exists). Returns the entities moved on.
    ``sector`` as in :func:`allocation_issue_propose`."""
    from django.db.models import F, Sum

    sector = sector or _only_sector(market, year)

    pending = _scope(market, sector, year).filter(stage__in=_from_stages(stage, market, sector, year)).exclude(proposal_key="")
    keys = pending.order_by("proposal_key").values_list("proposal_key", flat=True).distinct()  # a few, not a row per entity
    status = dict(Proposal.objects.filter(key__in=list(keys)).values_list("key", "status"))
    executed = [k for k, st in status.items() if st == Proposal.Status.EXECUTED]
    rejected = [k for k, st in status.items() if st == Proposal.Status.REJECTED]
    pending.filter(proposal_key__in=rejected).update(proposal_key="")
    if not executed:
        raise CetsError(A0104, issuance_key(market=market, sector=sector, year=year, stage=stage))
    quantity = "pre_issue_t" if stage == "pre" else "final_issue_t"
    moved = 0
    for key in executed:
        # what its execution posted (issued − clawed back, tonnes: the sum of its lines), read without the lines
        # themselves (a national stage's payload is 900 KB)
        done = Proposal.objects.values_list("result", flat=True).get(key=key) or {}
        qs = pending.filter(proposal_key=key)
        proposed = (done["issued_t"] - done.get("clawed_back_t", 0)) if "issued_t" in done else None  # None: never equal
        recorded = qs.aggregate(t=Sum(quantity))["t"] or 0
        if proposed != recorded:  # the proposal's lines are these figures (same transaction); anything else is a bug
            raise CetsError(A0103, f"{key}: proposal {proposed} t ≠ recorded {recorded} t")
        moved += qs.update(issued_t=F("issued_t") + F(quantity), stage=_STAGE_TO[stage], proposal_key="")
    return moved


@transaction.atomic
def allocation_adjustment_record(*, entity, year: int, kind: str, quantity_t: int, reason: str, source: str, actor, at=None,
                                 sector: str = ""):
    """Record a decided adjustment (配额调整总量) withholding ``quantity_t`` tonnes CO2e (int, > 0) from
    ``entity``'s ``year`` issuance of ``sector`` ('' = the entity's sector allocation with the largest final
    allocation, for an entity on one list its only one). Idempotent on (source, kind, year): recording the same decision again
    returns the existing row. Raises A0105 for a non-positive quantity, R0502 if ``actor`` is not a
    national or provincial authority in scope. The adjustment takes effect in the next issuance or
    claw-back of that year (``allocation_issue_propose``)."""
    from django.utils import timezone

    from .models import AllocationAdjustment

    if not isinstance(quantity_t, int) or quantity_t <= 0:
        raise CetsError(A0105, str(quantity_t))
    require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, province=entity.province)
    existing = AllocationAdjustment.objects.filter(source=source, kind=kind, year=year).first()
    if existing is not None:
        return existing
    return AllocationAdjustment.objects.create(entity=entity, year=year, sector=sector, kind=kind, quantity_t=quantity_t, reason=reason,
                                               source=source, decided_by=actor, decided_at=at or timezone.now())


@transaction.atomic
def special_treatment_set(*, entity, year: int, kind: str, reason: str, actor, at=None):
    """Flag ``entity`` for differentiated treatment in ``year`` (see ``SpecialTreatment``). Idempotent per
    (entity, year, kind) while in force. Raises R0502 unless ``actor`` is a national or provincial
    authority in scope."""
    from django.utils import timezone

    from .models import SpecialTreatment

    require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, province=entity.province)
    existing = SpecialTreatment.objects.filter(entity=entity, year=year, kind=kind, voided_at__isnull=True).first()
    if existing is not None:
        return existing
    return SpecialTreatment.objects.create(entity=entity, year=year, kind=kind, reason=reason, decided_by=actor, decided_at=at or timezone.now())




@transaction.atomic
def allocation_tables_import(*, year: int, pack_id: str, data: bytes, filename: str, actor) -> int:
    """Import the pre-allocation and final entity tables of ``year`` (XLSX, the seed notice's field names,
    as written by the download) as the entities' allocation records, e.g. for years computed with the
    command line (2019–2022 packs, steel/cement/aluminium). Every row is checked (cets.allocation.workbook
    identities, the credit code of an existing entity, in ``actor``'s province, not issued or proposed); any
    problem raises :class:`InputError` listing all of them and nothing is written. Replaces the entities'
    computed (unissued) records of the year; returns the number of entities. R0502 unless ``actor`` is a
    national or provincial authority; PackError for an unknown pack."""
    from cets.core.errors import InputError, InputProblem
    from cets.parties.access import membership_of
    from cets.parties.models import Organisation

    from .workbook import read_entity_tables

    require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY)
    pack = load_pack(pack_id)
    if not pack.covers(year):
        raise CetsError(A0103, f"{pack_id} does not cover {year}")
    rows, problems = read_entity_tables(data, filename)
    if problems:
        raise InputError(problems)
    m = membership_of(actor)
    orgs = {o.uscc: o for o in Organisation.objects.filter(uscc__in=[r.entity_uscc for r in rows])}
    scope = _scope(pack.market, pack.sector, year)
    existing = {a.entity_id: a for a in scope.filter(entity__in=orgs.values())}
    proposed = scope.exclude(proposal_key="").exists()
    where = f"{filename}:核定-重点排放单位"
    for r in rows:
        org = orgs.get(r.entity_uscc)
        if org is None:
            problems.append(InputProblem(where, r.row, "统一社会信用代码", r.entity_uscc, A0108.zh, A0108.en))
        elif m.role == Role.PROVINCIAL_AUTHORITY and org.province != m.province:
            problems.append(InputProblem(where, r.row, "统一社会信用代码", r.entity_uscc, A0109.zh, A0109.en))
        elif proposed or (org.pk in existing and existing[org.pk].stage != EntityAllocation.Stage.COMPUTED):
            problems.append(InputProblem(where, r.row, "统一社会信用代码", r.entity_uscc, A0110.zh, A0110.en))
    if problems:
        raise InputError(problems)
    scope.filter(entity__in=orgs.values()).delete()
    EntityAllocation.objects.bulk_create(
        [
            EntityAllocation(
                entity=orgs[r.entity_uscc],
                market=pack.market,
                sector=pack.sector,
                year=year,
                pack_id=pack_id,
                pack_sha256=pack.sha256,
                verified_emissions_t=r.verified_emissions_t,
                pre_allocation_computed_t=r.pre_allocation_t,
                pre_allocation_t=r.pre_allocation_t,
                pre_adjustment_t=r.pre_adjustment_t,
                pre_issue_t=r.pre_issue_t,
                initial_allocation_t=r.initial_allocation_t,
                shortfall_topup_t=r.shortfall_topup_t,
                final_allocation_t=r.final_allocation_t,
                issue_delta_t=r.final_allocation_t - r.pre_allocation_t,
                obligation_t=r.obligation_t,
                adjustments_total_t=r.adjustments_total_t,
                final_issue_t=r.final_issue_t,
                special_note=r.special_note[:400],
                source=f"imported:{filename}"[:120],
            )
            for r in rows
        ],
        batch_size=1000,
    )
    return len(rows)


# ---- dynamic adjustment (配额动态调整, seed notice 国环规气候〔2024〕1号 二(三))

DYNAMIC_ADJUSTMENT_WORKING_DAYS = 3  # seed notice 二(三): "在 3 个工作日内…计算配额调整量并书面报送注登机构"


def _unit_allocation_row(entity_id: int, year: int, *, lock: bool = False) -> EntityAllocation | None:
    """The entity's ``year`` allocation computed from generating units (the benchmark mechanism): the one
    a dynamic adjustment recomputes. None if it has none."""
    from .mechanisms import mechanism_name

    qs = EntityAllocation.objects.filter(entity_id=entity_id, year=year).select_related("entity")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return next((a for a in qs if mechanism_name(load_pack(a.pack_id), year) == "benchmark_power"), None)


@transaction.atomic
def dynamic_adjustment_record(*, entity, year: int, reason: str, source: str, redetermined_on, actor, on=None):
    """Recompute ``entity``'s ``year`` allocation after its verification result changed (the MRV data of its
    units now hold the re-determined values) and record the difference to issue or claw back.

    Unit and entity figures are replaced from the entity's current verified data with the allocation's own
    pack; the difference to issue is ``new 应发 − 配额调整总量 − issued so far``. The record keeps the old and new
    figures, ``deadline`` = 3 working days after ``redetermined_on`` (core calendar, seed notice 二(三)) and
    ``late`` if recorded after it. If the final allocation was not issued yet the change simply carries into
    that issuance (status ``carried``); if nothing changes, ``no_change``. Idempotent on (entity, year,
    source). Raises R0502 unless ``actor`` is a national or the entity's provincial authority, A0114 if the
    entity has no allocation for ``year``, A0116 for an imported allocation, A0102 for missing 2019–2022 inputs."""
    import datetime as dt

    from django.utils import timezone

    from cets.core.calendar import add_working_days

    from .models import DynamicAdjustment

    require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, province=entity.province)
    existing = DynamicAdjustment.objects.filter(entity=entity, year=year, source=source).first()
    if existing is not None:
        return existing
    a = _unit_allocation_row(entity.pk, year, lock=True)
    if a is None:
        raise CetsError(A0114, f"{entity.uscc} {year}")
    if a.source.startswith("imported"):
        raise CetsError(A0116, a.source)
    rules = PowerRules.from_pack(load_pack(a.pack_id), year)
    old_e, old_final, old_to_issue = a.verified_emissions_t, a.final_allocation_t, a.final_issue_t
    inputs, unit_by_key, _ = _unit_inputs(year, entity_ids=[entity.pk], rules=rules)
    unit_results, (e,) = allocate(inputs, rules)
    UnitAllocation.objects.filter(year=year, unit__entity=entity).delete()
    _insert(UnitAllocation, _unit_rows(unit_results, inputs, unit_by_key, rules, year, a.pack_id))
    a.verified_emissions_t, a.obligation_t = e.verified_emissions_t, e.verified_emissions_t
    a.initial_allocation_t, a.shortfall_topup_t, a.final_allocation_t = e.initial_allocation_t, e.shortfall_topup_t, e.final_allocation_t
    if a.stage == EntityAllocation.Stage.COMPUTED:
        a.pre_allocation_computed_t = e.pre_allocation_t
    treatments = _treatments(year, [entity.pk]).get(entity.pk, ())
    _apply_issuance(a, treatments, _adjustments(year, [entity.pk], a.sector, a.market).get(entity.pk, 0))
    a.save()
    today = on or timezone.localdate()
    if a.stage == EntityAllocation.Stage.FINAL_ISSUED:
        delta = a.pre_issue_t + a.final_issue_t - a.issued_t
        status = DynamicAdjustment.Status.RECORDED if delta else DynamicAdjustment.Status.NO_CHANGE
    else:
        delta = a.final_issue_t - old_to_issue
        status = DynamicAdjustment.Status.CARRIED if (delta or a.final_allocation_t != old_final) else DynamicAdjustment.Status.NO_CHANGE
    redetermined = redetermined_on if isinstance(redetermined_on, dt.date) else dt.date.fromisoformat(str(redetermined_on))
    return DynamicAdjustment.objects.create(
        entity=entity,
        year=year,
        reason=reason,
        source=source,
        redetermined_on=redetermined,
        deadline=add_working_days(redetermined, DYNAMIC_ADJUSTMENT_WORKING_DAYS),
        recorded_on=today,
        old_verified_emissions_t=old_e,
        new_verified_emissions_t=e.verified_emissions_t,
        old_final_allocation_t=old_final,
        new_final_allocation_t=e.final_allocation_t,
        delta_t=delta,
        status=status,
        recorded_by=actor,
    )


@transaction.atomic
def dynamic_adjustment_propose(*, adjustment_id: int, unit_type: UnitType, actor, effective_at=None) -> Proposal:
    """Propose issuing (or clawing back) a recorded dynamic adjustment's difference through the registry's
    four eyes (a second registry operator approves). The destination follows special treatment (provincial
    account with the entity as beneficiary at compliance risk). Raises A0115 unless the record is
    ``recorded``, R0502 unless ``actor`` is a registry operator."""
    from .models import DynamicAdjustment

    d = DynamicAdjustment.objects.select_for_update().select_related("entity").get(pk=adjustment_id)
    if d.status != DynamicAdjustment.Status.RECORDED:
        raise CetsError(A0115, d.status)
    a = _unit_allocation_row(d.entity_id, d.year)
    dest = _destinations([a])
    if a.entity_id not in dest:
        raise CetsError(A0106, a.entity.uscc)
    account, beneficiary = dest[a.entity_id]
    key = f"allocation-{a.market}-{a.sector}-{d.year}-dynamic-{d.pk}"
    p = issuance_propose(
        key=key,
        unit_type=unit_type,
        actor=actor,
        effective_at=effective_at,
        note=f"{d.year} 配额动态调整 dynamic adjustment",
        lines=[IssuanceLine(account=account, quantity=d.delta_t, reference=f"{d.year} 动态调整 dynamic adjustment {a.entity.uscc}", beneficiary=beneficiary)],
    )
    d.status, d.proposal_key = DynamicAdjustment.Status.PROPOSED, key
    d.save(update_fields=["status", "proposal_key"])
    return p


@transaction.atomic
def dynamic_adjustment_confirm(*, adjustment_id: int):
    """Record that the dynamic adjustment's proposal was approved and executed: ``issued_t`` takes the
    difference. Raises A0104 if the proposal is not executed, A0115 if the
    record is not ``proposed``."""
    from .models import DynamicAdjustment

    d = DynamicAdjustment.objects.select_for_update().get(pk=adjustment_id)
    if d.status != DynamicAdjustment.Status.PROPOSED:
        raise CetsError(A0115, d.status)
    p = Proposal.objects.filter(key=d.proposal_key).first()
    if p is None or p.status != Proposal.Status.EXECUTED:
        raise CetsError(A0104, d.proposal_key)
    a = _unit_allocation_row(d.entity_id, d.year, lock=True)
    a.issued_t += d.delta_t
    a.save(update_fields=["issued_t"])
    d.status = DynamicAdjustment.Status.EXECUTED
    d.save(update_fields=["status"])
    return d


# ---- objections (异议, 《碳排放权交易管理办法（试行）》 Art. 16 ¶2)

OBJECTION_FILE_WORKING_DAYS = 7  # Measures (trial) Art. 16 ¶2: "自接到通知之日起七个工作日内"
OBJECTION_DECIDE_WORKING_DAYS = 10  # ibid.: "自接到复核申请之日起十个工作日内，作出复核决定"


@transaction.atomic
def tables_publication_record(*, year: int, province: str, stage: str, actor, on=None):
    """Record that ``province`` notified its entities of the ``stage`` ("pre" or "final") tables of ``year``
    on ``on`` (default today): the start of the 7-working-day objection period. Idempotent. R0502 unless
    ``actor`` is a national authority or that province's authority."""
    from django.utils import timezone

    from .models import TablePublication

    require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, province=province)
    pub, _ = TablePublication.objects.get_or_create(
        year=year, province=province, stage=stage, defaults={"published_on": on or timezone.localdate(), "published_by": actor}
    )
    return pub


@transaction.atomic
def objection_file(*, entity, year: int, stage: str, grounds: str, actor, on=None):
    """An entity objects to its ``stage`` allocation of ``year``. ``file_by`` = 7 working days after the
    province's publication, ``decide_by`` = 10 working days after filing (core calendar). Raises R0502
    unless ``actor`` is a user of ``entity`` itself, A0120 if the tables were not published, A0121 after the
    period, A0123 for empty grounds."""
    from django.utils import timezone

    from cets.core.calendar import add_working_days
    from cets.parties.access import DENIED

    from .models import AllocationObjection, TablePublication

    m = require_role(actor, Role.ENTITY)
    if m.organisation_id != entity.pk:
        raise CetsError(DENIED, "an entity objects for itself only")
    if not grounds.strip():
        raise CetsError(A0123)
    pub = TablePublication.objects.filter(year=year, province=entity.province, stage=stage).first()
    if pub is None:
        raise CetsError(A0120, f"{year} {stage} {entity.province}")
    today = on or timezone.localdate()
    file_by = add_working_days(pub.published_on, OBJECTION_FILE_WORKING_DAYS)
    if today > file_by:
        raise CetsError(A0121, f"published {pub.published_on}, last day {file_by}")
    return AllocationObjection.objects.create(
        entity=entity,
        year=year,
        stage=stage,
        grounds=grounds.strip(),
        filed_on=today,
        filed_by=actor,
        file_by=file_by,
        decide_by=add_working_days(today, OBJECTION_DECIDE_WORKING_DAYS),
    )


@transaction.atomic
def objection_decide(*, objection_id: int, upheld: bool, reason: str, actor, on=None):
    """The province decides an objection (复核决定): upheld or rejected, with its reason. A late decision
    is recorded as such (``decided_late``). The record is never deleted; a decided objection cannot be
    decided again (A0122). R0502 unless ``actor`` is a national or the entity's provincial authority.
    An upheld objection changes nothing by itself: the province corrects the data and records a dynamic
    adjustment (``dynamic_adjustment_record``)."""
    from django.utils import timezone

    from .models import AllocationObjection

    o = AllocationObjection.objects.select_for_update().select_related("entity").get(pk=objection_id)
    require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, province=o.entity.province)
    if o.decision != AllocationObjection.Decision.PENDING:
        raise CetsError(A0122, o.get_decision_display())
    if not reason.strip():
        raise CetsError(A0123)
    o.decision = AllocationObjection.Decision.UPHELD if upheld else AllocationObjection.Decision.REJECTED
    o.decision_reason, o.decided_on, o.decided_by = reason.strip(), on or timezone.localdate(), actor
    o.save(update_fields=["decision", "decision_reason", "decided_on", "decided_by"])
    return o


# ---- submission of the stamped data tables to the registry (书面报送, 国环规气候〔2024〕1号 一(二), 二(二))


def _submission_pack(market: str, sector: str, year: int):
    pack_id = _scope(market, sector, year).values_list("pack_id", flat=True).first()
    return load_pack(pack_id) if pack_id else None


def _pack_date(pack, key: str):
    try:
        return pack.date(key) if pack is not None else None
    except PackError:
        return None


@transaction.atomic
def allocation_submission_record(*, market: str, sector: str, year: int, stage: str, province: str, actor, on=None):
    """Record that ``province`` sent the registry its stamped ``stage`` ("pre" or "final") data tables of the
    ``market``/``sector`` allocation of ``year`` on ``on`` (default today). ``due`` comes from the pack
    (``submissions.<year>.<stage>_due``: power 2024-10-24 for 2023, 2025-03-31 and 2025-07-31 for 2024;
    industries 2025-09-30), so a late submission shows as late; ``entities`` and ``total_t`` (tonnes CO2e,
    int: the stage's 实发 quantity) are the figures submitted. Idempotent per (market, sector, year, stage,
    province). R0502 unless ``actor`` is that province's authority; A0124 if the province has no allocation
    of the scope."""
    from django.db.models import Count, Sum
    from django.utils import timezone

    from .models import AllocationSubmission

    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=province)
    existing = AllocationSubmission.objects.filter(market=market, sector=sector, year=year, stage=stage, province=province).first()
    if existing is not None:
        return existing
    quantity = "pre_issue_t" if stage == "pre" else "final_issue_t"
    agg = _scope(market, sector, year).filter(entity__province=province).aggregate(n=Count("id"), t=Sum(quantity))
    if not agg["n"]:
        raise CetsError(A0124, f"{market} {sector} {year} {stage} {province}")
    pack = _submission_pack(market, sector, year)
    return AllocationSubmission.objects.create(
        market=market,
        sector=sector,
        year=year,
        stage=stage,
        province=province,
        due=_pack_date(pack, f"submissions.{year}.{stage}_due"),
        submitted_on=on or timezone.localdate(),
        submitted_by=actor,
        entities=agg["n"],
        total_t=int(agg["t"] or 0),
    )


@transaction.atomic
def allocation_submission_receive(*, submission_id: int, actor, on=None):
    """The registry records receipt of a submission on ``on`` (default today): ``issue_by`` = ``on`` + the
    pack's ``submissions.issue_within_working_days`` working days (10: "自收到书面报送数据表的 10 个工作日内",
    国环规气候〔2024〕1号 一(二), 二(二); core working-day calendar). R0502 unless ``actor`` is a registry
    operator; A0126 unknown submission; A0125 if already received."""
    from django.utils import timezone

    from cets.core.calendar import add_working_days

    from .models import AllocationSubmission

    require_role(actor, Role.REGISTRY_OPERATOR)
    s = AllocationSubmission.objects.select_for_update().filter(pk=submission_id).first()
    if s is None:
        raise CetsError(A0126, str(submission_id))
    if s.received_on is not None:
        raise CetsError(A0125, f"{s.province} {s.received_on}")
    day = on or timezone.localdate()
    pack = _submission_pack(s.market, s.sector, s.year)
    days = int(pack.raw("submissions.issue_within_working_days")) if pack is not None and "submissions" in pack.data else None
    s.received_on, s.received_by = day, actor
    s.issue_by = add_working_days(day, days) if days is not None else None
    s.save(update_fields=["received_on", "received_by", "issue_by"])
    return s


# The mechanisms that take the bureau's per-entity approval basis (``AllocationBasis``) as input.
BASIS_MECHANISMS = frozenset({"beijing_capped_free"})
MAX_BASIS_ROWS = 20_000  # a pilot market's key emitters number in the hundreds or low thousands


@transaction.atomic
def allocation_basis_import(*, pack_id: str, year: int, path, actor) -> int:
    """Record the bureau's approval basis (核定依据) of ``year`` from a table ``path`` (a file path or an
    uploaded :class:`cets.core.tables.UploadedTable`; :func:`cets.allocation.tables.read_beijing_basis`: UTF-8 or
    GB18030 CSV, one row per entity, at most :data:`MAX_BASIS_ROWS`), replacing the
    bases of the same entities; the verified emissions come from MRV when the allocation is computed
    (:func:`allocation_compute`). Returns the number of rows recorded.

    Refusals: R0502 unless ``actor`` is a provincial authority whose province holds every listed entity;
    A0117 if the pack does not cover ``year``; A0131 if the pack's market method for the year takes no basis;
    A0101 once the year's allocation of the pack's scope is issued or proposed; InputError with every problem
    (file, row, column, value, reason; unknown credit codes and general reporting units of the year's list included) —
    then nothing is written."""
    from cets.core.errors import InputError, InputProblem
    from cets.parties.access import DENIED
    from cets.parties.models import Organisation

    from .checks import A0117, A0131
    from .mechanisms import mechanism_name
    from .models import AllocationBasis
    from .tables import read_beijing_basis

    m = require_role(actor, Role.PROVINCIAL_AUTHORITY)
    pack = load_pack(pack_id)
    if not pack.covers(year):
        raise CetsError(A0117, f"{pack.id} {year}")
    if mechanism_name(pack, year) not in BASIS_MECHANISMS:
        raise CetsError(A0131, f"{pack.id} {year}")
    if _recompute_blocked(pack, year):
        raise CetsError(A0101, f"{pack.market} {pack.sector} {year}")
    rows, problems = read_beijing_basis(path)
    name = getattr(path, "name", str(path))
    if len(rows) + len(problems) > MAX_BASIS_ROWS:
        raise InputError([InputProblem(name, 1, "", str(len(rows)), f"行数超过上限 {MAX_BASIS_ROWS}", f"more than {MAX_BASIS_ROWS} rows")])
    orgs = {o.uscc: o for o in Organisation.objects.filter(uscc__in=[r["entity_uscc"] for r in rows])}
    from cets.parties.selectors import general_reporting_entries

    general = {e.entity.uscc for e in general_reporting_entries(market=pack.market, year=year)}
    for r in rows:
        o = orgs.get(r["entity_uscc"])
        if o is None:
            problems.append(InputProblem(name, r["row"], "entity_uscc", r["entity_uscc"], "平台上没有该单位", "no such entity on the platform"))
        elif o.uscc in general:  # 一般报告单位: reports only, no allowance (京环发〔2024〕8号 三(一)2)
            problems.append(InputProblem(name, r["row"], "entity_uscc", r["entity_uscc"], "一般报告单位不核定配额",
                                         "a general reporting unit is allocated nothing"))
        elif o.province != m.province:
            raise CetsError(DENIED, f"{o.uscc} in province {o.province}, outside jurisdiction {m.province}")
    if problems:
        raise InputError(problems)
    for r in rows:
        fields = {k: v for k, v in r.items() if k not in ("entity_uscc", "row")}
        AllocationBasis.objects.update_or_create(market=pack.market, year=year, entity=orgs[r["entity_uscc"]],
                                                 defaults={**fields, "source": name[:200], "recorded_by": actor})
    return len(rows)


# ---- pre-issue of a pilot market's free allocation before the emissions are determined (免费配额预发,
# 京环发〔2024〕8号 三(三)2: "市生态环境部门将于2024年7月15日前完成免费配额预发、9月15日前完成免费配额核发")

CLIENT_KEY = re.compile(r"[A-Za-z0-9._-]{1,40}")


def _preissue_pack(pack_id: str, year: int):
    """The pack, if it names a pre-issue basis for ``year`` under a basis mechanism; A0303 otherwise."""
    from .checks import A0303
    from .mechanisms import mechanism_name

    try:
        pack = load_pack(pack_id)
    except PackError:
        raise CetsError(A0303, pack_id) from None
    if not pack.covers(year) or mechanism_name(pack, year) not in BASIS_MECHANISMS or \
            pack.data.get("allocation", {}).get("pre_issue_basis") != "previous_allocation":
        raise CetsError(A0303, f"{pack_id} {year}")
    return pack


def preissue_preview(*, pack_id: str, year: int, province: str | None = None) -> list[dict]:
    """What a pre-issue of ``year`` would propose, entity by entity, from stored data only: the bureau's approval
    bases of the pack's market and ``year`` (in ``province`` if given), each entity's previous year's approved
    allocation (:func:`cets.allocation.mechanisms.previous_allocations`), the pack's share
    (``allocation.pre_allocation_ratio``) and rounding (``rounding.pre_allocation``), then the special treatments and
    adjustments in force as at the pre-allocation stage (:func:`cets.allocation.issuance.pre_issue`). Each dict: the
    :class:`PreIssue` fields (tonnes CO2e, int). A0303 if the pack has no pre-issue basis for ``year``. Reads only."""
    from cets.core.quantities import apply_rounding, exact

    from .beijing import BeijingRules
    from .mechanisms import previous_allocations
    from .models import AllocationBasis

    pack = _preissue_pack(pack_id, year)
    rules = BeijingRules.from_pack(pack, year)
    qs = AllocationBasis.objects.filter(market=pack.market, year=year).select_related("entity").order_by("entity_id")
    if province:
        qs = qs.filter(entity__province=province)
    bases = list(qs)
    prev = previous_allocations(market=pack.market, year=year, bases=bases)
    ids = [b.entity_id for b in bases]
    sector_of = _sector_of(pack, year, ids)
    treatments = _treatments(year, ids)
    adjustments: dict[int, int] = {}
    for sec in sorted(set(sector_of.values())):
        adjustments.update(_adjustments(year, [i for i in ids if sector_of[i] == sec], sec, pack.market))
    provincial = _provincial(pack.id, None)
    out = []
    for b in bases:
        prev_t, source = prev[b.entity_id]
        with exact():
            pre = int(apply_rounding(rules.pre_allocation_ratio * prev_t, rules.rounding["pre_allocation"])) if b.prev_compliant else 0
        t = treatments.get(b.entity_id, ())
        p = pre_issue(pre_allocation_t=pre, adjustments_total_t=adjustments.get(b.entity_id, 0), treatments=t, provincial=provincial)
        out.append({"entity": b.entity, "entity_id": b.entity_id, "market": pack.market, "year": year, "sector": sector_of[b.entity_id],
                    "pack_id": pack.id, "pack_sha256": pack.sha256, "prev_allocation_t": prev_t, "prev_source": source,
                    "prev_compliant": b.prev_compliant, "share": rules.pre_allocation_ratio, "rounding": rules.rounding["pre_allocation"],
                    "treatments": ",".join(sorted(t)), "pre_allocation_t": p.pre_allocation_t, "pre_adjustment_t": p.pre_adjustment_t,
                    "pre_issue_t": p.pre_issue_t, "to_provincial_account": p.to_provincial_account})
    return out


def preissue_sync(*, market: str, year: int) -> dict[str, int]:
    """Bring the pre-issues of ``market``/``year`` in line with their proposals' outcome (executed, rejected) and
    carry the executed ones into the year's computed allocations, if any are stored (:func:`_carry_preissue`).
    Returns the count per status. Idempotent; call inside a transaction (the services that need it do)."""
    from django.db.models import Count

    from .models import PreIssue

    _preissue_status_sync(market, year)
    scope = EntityAllocation.objects.filter(market=market, year=year, stage=EntityAllocation.Stage.COMPUTED, proposal_key="")
    waiting = PreIssue.objects.filter(market=market, year=year, status=PreIssue.Status.PROPOSED).exists()
    if not waiting and scope.exists() and _preissued(market, year) is not None:
        rows = list(scope.select_for_update(of=("self",)))
        _carry_preissue(rows, market, year)
        for a in rows:
            a.save()
        for sector in sorted({a.sector for a in rows}):
            allocation_issuance_refresh(year=year, entity_ids=[a.entity_id for a in rows if a.sector == sector], market=market, sector=sector)
    return dict(PreIssue.objects.filter(market=market, year=year).order_by().values_list("status").annotate(n=Count("id")))


def _preissue_status_sync(market: str, year: int) -> None:
    """Each waiting :class:`PreIssue` of ``market``/``year`` takes its proposal's outcome (executed or rejected)."""
    from .models import PreIssue

    waiting = PreIssue.objects.filter(market=market, year=year, status=PreIssue.Status.PROPOSED)
    keys = set(waiting.values_list("proposal_key", flat=True))
    for key, st in Proposal.objects.filter(key__in=keys).exclude(status=Proposal.Status.PROPOSED).values_list("key", "status"):
        waiting.filter(proposal_key=key).update(status=PreIssue.Status.EXECUTED if st == Proposal.Status.EXECUTED else PreIssue.Status.REJECTED)


def _preissued(market: str, year: int) -> dict[int, object] | None:
    """entity id → its executed :class:`PreIssue` of ``market``/``year``; None when the year has none (its allocation is
    then issued by stages from the computed figures, as the national market's). A0304 while one is waiting."""
    from .checks import A0304
    from .models import PreIssue

    rows = list(PreIssue.objects.filter(market=market, year=year).exclude(status=PreIssue.Status.REJECTED))
    waiting = sorted({r.proposal_key for r in rows if r.status == PreIssue.Status.PROPOSED})
    if waiting:
        raise CetsError(A0304, ", ".join(waiting))
    return {r.entity_id: r for r in rows} or None


def _carry_preissue(rows, market: str, year: int) -> bool:
    """Put the year's pre-issue into its computed allocations (``rows``: EntityAllocation or the same fields, not
    saved): when ``market``/``year`` had a pre-issue, every row is at the pre-issued stage with the pre-issue's own
    figures (0 for an entity that had none: nothing was pre-issued to it) and ``issued_t`` what was issued; the caller
    then re-applies the issuance figures (:func:`_apply_issuance`: the final issue is 应发 − 配额调整总量 − pre-issued,
    negative = returned to the market's total account). The formula's pre-allocation stays in
    ``pre_allocation_computed_t``. False (nothing changed) for a year without pre-issue."""
    done = _preissued(market, year)
    if done is None:
        return False
    for a in rows:
        p = done.get(a.entity_id)
        a.stage = EntityAllocation.Stage.PRE_ISSUED
        a.pre_allocation_t = p.pre_allocation_t if p else 0
        a.pre_adjustment_t = p.pre_adjustment_t if p else 0
        a.pre_issue_t = a.issued_t = p.pre_issue_t if p else 0
    return True


def _recompute_blocked(pack, year: int) -> bool:
    """Whether ``pack``'s stored allocation of ``year`` may no longer be recomputed: a proposal waits, the final stage
    is issued, or the pre-allocation stage was issued from computed figures. A pre-issue made before determination
    (:class:`PreIssue`) does not block: its figures are its own and are carried into every recomputation."""
    scope = _pack_scope(pack, year)
    if scope.exclude(proposal_key="").exists() or scope.filter(stage=EntityAllocation.Stage.FINAL_ISSUED).exists():
        return True
    if scope.filter(stage=EntityAllocation.Stage.PRE_ISSUED).exists():
        from .models import PreIssue

        return not PreIssue.objects.filter(market=pack.market, year=year, status=PreIssue.Status.EXECUTED).exists()
    return False


@transaction.atomic
def preissue_propose(*, pack_id: str, year: int, unit_type: UnitType, actor, client_key: str, effective_at=None) -> Proposal:
    """The bureau proposes the pre-issue of ``year``'s free allowances (免费配额预发, 京环发〔2024〕8号 三(三)2: by 07-15)
    for every entity of its province with an approval basis, before the emissions are determined: per entity
    ``pre_issue_t`` = rounding(share × previous year's approved allocation) − adjustments, 0 unless the previous
    compliance was completed or under a special treatment (:func:`preissue_preview`; tonnes CO2e, int; nothing typed
    in). One :class:`PreIssue` row per entity keeps the basis line by line; the positive ones go into one four-eyes
    registry proposal of kind ``free_allocation`` (:func:`cets.registry.services.free_allocation_propose`) that a
    second user of the bureau approves with its TOTP code on the registry page. Entities at compliance risk are issued
    into the provincial account with themselves as beneficiary.

    Idempotent on ``client_key`` (the proposal key is ``allocation-<market>-<year>-preissue-<client_key>``: a retry
    returns the same proposal and changes nothing). Refusals: R0502 unless ``actor`` is a provincial authority, R1401
    unless the market is a pilot; A0307 a malformed client key; A0303 no pre-issue basis in the pack for ``year``;
    A0305 once the year's allocation is issued by stages; A0301 an entity already pre-issued (or waiting) for the
    year — a rejected pre-issue may be proposed again; A0302 nothing to pre-issue; A0106 an entity without an account.
    One transaction: a refusal writes nothing."""
    from django.db import IntegrityError

    from cets.registry.services import free_allocation_propose

    from .checks import A0301, A0302, A0305, A0307
    from .models import PreIssue

    m = require_role(actor, Role.PROVINCIAL_AUTHORITY)
    if not isinstance(client_key, str) or not CLIENT_KEY.fullmatch(client_key):
        raise CetsError(A0307, repr(client_key)[:60])
    pack = _preissue_pack(pack_id, year)
    market = pack.market
    key = f"allocation-{market}-{year}-preissue-{client_key}"
    existing = Proposal.objects.filter(key=key).first()
    if existing is not None and existing.kind == "free_allocation" and PreIssue.objects.filter(proposal_key=key).exists():
        return existing  # the same request again
    preissue_sync(market=market, year=year)
    if EntityAllocation.objects.filter(market=market, year=year, entity__province=m.province).exclude(stage=EntityAllocation.Stage.COMPUTED).exists() or \
            EntityAllocation.objects.filter(market=market, year=year, entity__province=m.province).exclude(proposal_key="").exists():
        raise CetsError(A0305, f"{market} {year}")
    lines = preissue_preview(pack_id=pack_id, year=year, province=m.province)
    taken = dict(PreIssue.objects.filter(market=market, year=year, entity_id__in=[ln["entity_id"] for ln in lines])
                 .exclude(status=PreIssue.Status.REJECTED).values_list("entity__uscc", "proposal_key"))
    if taken:
        names = sorted(taken)
        raise CetsError(A0301, f"{len(names)}: " + ", ".join(f"{u} ({taken[u]})" for u in names[:5]) + (" …" if len(names) > 5 else ""))
    if not any(ln["pre_issue_t"] for ln in lines):
        raise CetsError(A0302, f"{market} {year} {m.province}")
    dest = _destinations([SimpleNamespace(entity_id=ln["entity_id"], entity=ln["entity"], market=market, to_provincial_account=ln["to_provincial_account"])
                          for ln in lines if ln["pre_issue_t"]])
    issue = []
    for ln in lines:
        if ln["pre_issue_t"]:
            if ln["entity_id"] not in dest:
                raise CetsError(A0106, ln["entity"].uscc)
            ln["account"], ln["beneficiary"] = dest[ln["entity_id"]]
            ref = f"{year} 免费配额预发 pre-issue {ln['entity'].uscc}: {ln['share']} × {ln['prev_allocation_t']} t ({ln['prev_source']})"
            issue.append(IssuanceLine(account=ln["account"], quantity=ln["pre_issue_t"], beneficiary=ln["beneficiary"], reference=ref))
    fields = {f.attname for f in PreIssue._meta.concrete_fields}
    try:
        with transaction.atomic():
            PreIssue.objects.bulk_create([PreIssue(**{k: v for k, v in ln.items() if k in fields}, proposal_key=key, client_key=client_key, proposed_by=actor)
                                          for ln in lines])
    except IntegrityError:  # another pre-issue of the same entities committed first
        raise CetsError(A0301, f"{market} {year}") from None
    return free_allocation_propose(key=key, unit_type=unit_type, lines=issue, actor=actor, province=m.province, effective_at=effective_at,
                                   note=f"{year} {market} 免费配额预发 pre-issue of free allowances",
                                   basis={"pack": pack.id, "share": str(lines[0]["share"]), "rounding": lines[0]["rounding"],
                                          "basis": "previous_allocation", "entities": len(issue)})


@transaction.atomic
def preissue_confirm(*, market: str, year: int) -> dict[str, int]:
    """Record the outcome of the pre-issue proposals of ``market``/``year`` (:func:`preissue_sync`). Returns the count
    per status."""
    return preissue_sync(market=market, year=year)
