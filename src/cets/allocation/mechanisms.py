"""Allocation mechanisms on the database path, looked up by the name the pack gives for the year.

A market names the mechanism of each sector and year (``[[packs]] mechanism`` in its ``market.toml``);
:func:`mechanism_for` returns the function that reads the verified data of the pack's market,
sector and year, runs the pure rule module and stores the unit or facility lines. Each returns a
:class:`Computed` (the entity figures the issuance tables start from); ``allocation_compute`` does the rest.
A new sector with an existing method is a pack; a new method is one function here and one pure module.

- ``benchmark_power``: generating units by benchmark (plan 附3, 附4, §三, §五; :mod:`cets.allocation.formulas`).
- ``verified_emissions``: each facility's allocation = its verified emissions (steel, cement, aluminium 2024).
- ``industry_balance_value``: ``floor(E × (1 + α))`` with the solved balance value (2025–2026 draft §四(二);
  :mod:`cets.allocation.industry`).
- ``beijing_capped_free``: each entity's method over the bureau's approval basis (``AllocationBasis``), capped at
  ±20% of the determined emissions (京环发〔2024〕8号; :mod:`cets.allocation.beijing`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from cets.core.errors import CetsError
from cets.mrv.selectors import facility_year_rows, unit_year_rows, unit_year_values
from cets.parties.models import GeneratingUnit
from cets.rules.packs import Pack, PackError

from .checks import A0102, A0117
from .formulas import PowerRules, UnitInput, allocate, heat_benchmark
from .industry import IndustryRules, LineInput, allocate_industry
from .models import FacilityAllocation, UnitAllocation


@dataclass(frozen=True)
class EntityFigures:
    """One entity's computed figures for the sector: tonnes CO2e (int)."""

    entity_id: int
    verified_emissions_t: int
    initial_allocation_t: int
    shortfall_topup_t: int
    final_allocation_t: int
    pre_allocation_t: int
    obligation_t: int


@dataclass(frozen=True)
class Computed:
    entities: list[EntityFigures]
    units: int  # generating units or facilities that took part


# The whole-year path reads and writes set-based (plain rows, no model instances, field preparation once per distinct
# value, no IN lists of thousands of ids); ``False`` runs the instance-by-instance reference path it replaced, which
# writes the same rows (tests/allocation/test_set_based.py compares the two; bench/allocation_national.py).
SET_BASED = True


class _UnitRef(NamedTuple):
    """What the allocation reads of a generating unit (a plain row instead of a model instance)."""

    pk: int
    entity_id: int
    uscc: str
    code: str
    category: str
    rated_capacity_mw: Decimal
    cooling: str

    @property
    def entity(self):  # ``unit.entity.uscc`` as on the model
        return _EntityRef(self.entity_id, self.uscc)


class _EntityRef(NamedTuple):
    pk: int
    uscc: str


def _insert(model, rows) -> None:
    """Insert ``rows`` (dicts of attribute name → value; absent fields take their default, ``auto_now_add``
    the current time) with one ``executemany``. Values other than int, str, bool and None go through
    the field's own ``get_db_prep_save`` (so ExactDecimalField's exactness checks apply), once per distinct value
    and field (equal Decimals prepare to the same value: a year's benchmarks, factors and load factors repeat);
    on PostgreSQL the rows go by one ``COPY`` (psycopg's ``cursor.copy``) instead. This skips
    ``bulk_create``'s model instances and per-batch query building, which cost about ten times the
    insert itself at a national year's 17,500 rows (bench/allocation_national.py). Our own tables only."""
    from django.db import transaction
    from django.utils import timezone

    connection = transaction.get_connection()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    defaults = {f.attname: (now if getattr(f, "auto_now_add", False) else f.get_default()) for f in fields}
    qn = connection.ops.quote_name
    sql = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    rows = list(rows)
    columns = []
    for f in fields:  # column by column: one pass per field, each distinct value prepared once
        name, default = f.attname, defaults[f.attname]
        col = [r.get(name, default) for r in rows]
        types = set(map(type, col))
        if not all(issubclass(t, _PLAIN) for t in types):
            col = _prepared_column(f, col, types, connection)
        columns.append(col)
    out = list(zip(*columns)) if rows else []
    if not out:
        return
    if connection.vendor == "postgresql":  # one COPY: the rows stream in one statement (issue 19)
        cols = ", ".join(qn(f.column) for f in fields)
        with connection.connection.cursor() as raw, raw.copy(f"COPY {qn(model._meta.db_table)} ({cols}) FROM STDIN") as copy:
            for vals in out:
                copy.write_row(vals)
        return
    with connection.cursor() as c:
        c.executemany(sql, out)


_PLAIN = (int, str, bool, type(None))  # values sent as they are


def _prepared_column(field, col: list, types: set, connection) -> list:
    """The values of one column through ``field.get_db_prep_save``, each distinct value once. A column of one type
    (None aside: sent as it is) is prepared by value — equal values of one type prepare to equal values, and a float
    column meets the field's refusal as a float; a column mixing types goes value by value (:func:`_prepared`), so a
    float never borrows an equal Decimal's preparation. Raises what the field raises (``ExactDecimalField``:
    ValidationError for a float, a non-number, too many places or digits), before anything is written."""
    if len(types - {type(None)}) == 1:
        try:
            memo = {v: v if v is None else field.get_db_prep_save(v, connection) for v in set(col)}
        except TypeError:  # a value that cannot be hashed
            pass
        else:
            return list(map(memo.__getitem__, col))
    memo = {}
    return [v if isinstance(v, _PLAIN) else _prepared(field, v, memo, connection) for v in col]


def _prepared(field, value, memo: dict, connection):
    """``field.get_db_prep_save(value)``, once per distinct value of a type (equal Decimals prepare to the same value;
    a float never meets an equal Decimal's entry, so it is refused as before)."""
    key = (type(value), value)
    try:
        return memo[key]
    except KeyError:
        out = memo[key] = field.get_db_prep_save(value, connection)
        return out
    except TypeError:  # not hashable
        return field.get_db_prep_save(value, connection)


def _unit_inputs(year: int, entity_ids=None, rules: PowerRules | None = None):
    """The formula inputs of every covered unit with verified data for ``year`` (optionally of some
    entities). For a 2019–2022 pack (``rules`` needing 供电量, cooling, 供热比 or the base year's output) the
    unit's recorded cooling and the year's ``supplied_mwh``/``heat_ratio`` are carried; A0102 names the
    first unit whose verified data lacks one (those packs cannot be computed without them).
    Returns (inputs in entity and unit code order, (credit code, unit code) → unit, units); a unit has ``pk``,
    ``entity_id``, ``entity.uscc``, ``code``, ``category``, ``rated_capacity_mw``, ``cooling``."""
    if SET_BASED:
        data = unit_year_values(year=year, entity_ids=entity_ids)
        qs = GeneratingUnit.objects.exclude(category=GeneratingUnit.Category.NOT_COVERED).order_by("entity_id", "code")
        if entity_ids is not None:
            qs = qs.filter(entity_id__in=list(entity_ids))
        units = [_UnitRef(*r) for r in qs.values_list("pk", "entity_id", "entity__uscc", "code", "category", "rated_capacity_mw", "cooling")]
    else:
        data = unit_year_rows(year=year, entity_ids=entity_ids)
        qs = GeneratingUnit.objects.exclude(category=GeneratingUnit.Category.NOT_COVERED).select_related("entity").order_by("entity_id", "code")
        if entity_ids is not None:
            qs = qs.filter(entity_id__in=list(entity_ids))
        units = list(qs)
    inputs: list[UnitInput] = []
    unit_by_key = {}
    for u in units:
        cur = data.get((u.pk, year))
        if cur is None:
            continue
        prev = data.get((u.pk, year - 1))
        extra = _earlier_period_inputs(u, cur, prev, rules) if rules is not None else {}
        uscc = u.entity.uscc
        inputs.append(UnitInput(
            entity_uscc=uscc, unit_id=u.code, category=u.category, generation_mwh=cur.generation_mwh,
            heat_supplied_gj=cur.heat_supplied_gj, load_factor=cur.load_factor, verified_emissions_t=cur.verified_emissions_t,
            prev_verified_emissions_t=prev.verified_emissions_t if prev else 0, rated_capacity_mw=u.rated_capacity_mw, **extra,
        ))
        unit_by_key[(uscc, u.code)] = u
    return inputs, unit_by_key, units


def _earlier_period_inputs(unit, cur, prev, rules: PowerRules) -> dict:
    """The UnitInput fields only the 2019–2022 packs use, from the stored unit and its verified years."""
    extra: dict = {}
    missing = []
    if rules.needs_supply:
        extra["supplied_mwh"] = cur.supplied_mwh
        if cur.supplied_mwh is None:
            missing.append("supplied_mwh")
    if rules.needs_cooling and unit.category in rules.cooling_categories:
        extra["cooling"] = unit.cooling
        if unit.cooling not in rules.cooling_factors:
            missing.append("cooling")
    if rules.needs_heat_ratio:
        extra["heat_ratio"] = cur.heat_ratio
        if cur.heat_ratio is None:
            missing.append("heat_ratio")
    if rules.needs_prev_output:
        if prev is None or prev.supplied_mwh is None:
            missing.append("prev_supplied_mwh")
        else:
            extra["prev_supplied_mwh"], extra["prev_heat_supplied_gj"] = prev.supplied_mwh, prev.heat_supplied_gj
    if missing:
        raise CetsError(A0102, f"{unit.entity.uscc} {unit.code}: {', '.join(missing)}")
    return extra


def _unit_rows(unit_results, inputs, unit_by_key, rules: PowerRules, year: int, pack_id: str) -> list[dict]:
    """UnitAllocation rows as dicts (attribute name → value) for :func:`_insert`."""
    return [
        dict(
            unit_id=unit_by_key[(r.entity_uscc, r.unit_id)].pk, year=year, pack_id=pack_id, category=r.category,
            generation_mwh=i.generation_mwh, heat_supplied_gj=i.heat_supplied_gj, load_factor=i.load_factor,
            electricity_benchmark=rules.electricity_benchmark[r.category], heat_benchmark=heat_benchmark(r.category, rules),
            verified_emissions_t=i.verified_emissions_t, prev_verified_emissions_t=i.prev_verified_emissions_t, ff=r.ff,
            electricity_allowance_t=r.electricity_allowance_t, heat_allowance_t=r.heat_allowance_t, gas_topup_t=r.gas_topup_t,
            unit_allowance_t=r.unit_allowance_t, pre_allocation_t=r.pre_allocation_t,
        )
        for r, i in zip(unit_results, inputs)
    ]


def _power_compute(*, pack: Pack, year: int, rules_year: int | None = None):
    """Pure part of ``benchmark_power`` (reads, writes nothing): the pack's rules of ``rules_year`` (default
    ``year``) applied to the verified unit data of ``year``. Returns (:class:`Computed`, UnitAllocation rows)."""
    rules = PowerRules.from_pack(pack, rules_year or year)
    inputs, unit_by_key, units = _unit_inputs(year, rules=rules)
    unit_results, entity_results = allocate(inputs, rules)
    ids = {u.entity.uscc: u.entity_id for u in units}
    computed = Computed(units=len(unit_results), entities=[
        EntityFigures(entity_id=ids[e.entity_uscc], verified_emissions_t=e.verified_emissions_t, initial_allocation_t=e.initial_allocation_t,
                      shortfall_topup_t=e.shortfall_topup_t, final_allocation_t=e.final_allocation_t, pre_allocation_t=e.pre_allocation_t,
                      obligation_t=e.verified_emissions_t)
        for e in entity_results])
    return computed, _unit_rows(unit_results, inputs, unit_by_key, rules, year, pack.id)


def _benchmark_power(*, pack: Pack, year: int) -> Computed:
    computed, rows = _power_compute(pack=pack, year=year)
    UnitAllocation.objects.filter(year=year).delete()
    _insert(UnitAllocation, rows)
    return computed


def _industry_compute(*, pack: Pack, year: int, rules_year: int | None = None):
    """Pure part of the industry mechanisms (reads, writes nothing): one line per facility with verified data for
    ``year`` (intensity = intensity emissions / output, exact), by the pack's method for ``rules_year`` (default
    ``year``). Returns (:class:`Computed`, FacilityAllocation rows)."""
    rules = IndustryRules.from_pack(pack, rules_year or year)
    rows = facility_year_rows(sector=pack.sector, years=(year - 1, year))
    lines, facility_of, entity_of = [], {}, {}
    for f, data in rows:
        cur = data.get(year)
        if cur is None:
            continue
        prev = data.get(year - 1)
        lines.append(LineInput(entity_uscc=f.entity.uscc, line_id=f.code, verified_emissions_t=cur.verified_emissions_t,
                               intensity=Decimal(cur.intensity_emissions_t) / Decimal(cur.output_t),
                               prev_verified_emissions_t=prev.verified_emissions_t if prev else 0))
        facility_of[(f.entity.uscc, f.code)] = f.pk
        entity_of[f.entity.uscc] = f.entity_id
    bp, results, entities = allocate_industry(lines, rules)
    facility_rows = [
        dict(facility_id=facility_of[(r.entity_uscc, r.line_id)], year=year, pack_id=pack.id, verified_emissions_t=r.verified_emissions_t,
             intensity=_fit(r.intensity, 8), balance_value=_fit(r.balance_value, 8), deviation=_fit(r.deviation, 10), alpha=_fit(r.alpha, 10),
             allocation_t=r.allocation_t, obligation_t=r.obligation_t, pre_allocation_t=r.pre_allocation_t, special=r.special)
        for r in results]
    computed = Computed(units=len(results), entities=[
        EntityFigures(entity_id=entity_of[e.entity_uscc], verified_emissions_t=e.verified_emissions_t, initial_allocation_t=e.final_allocation_t,
                      shortfall_topup_t=0, final_allocation_t=e.final_allocation_t, pre_allocation_t=e.pre_allocation_t,
                      obligation_t=e.obligation_t)
        for e in entities])
    return computed, facility_rows


def _industry(*, pack: Pack, year: int) -> Computed:
    """Steel, cement, aluminium: :func:`_industry_compute`, then the facility lines replace the sector's lines of ``year``."""
    computed, rows = _industry_compute(pack=pack, year=year)
    FacilityAllocation.objects.filter(year=year, facility__sector=pack.sector).delete()
    _insert(FacilityAllocation, rows)
    return computed


def _fit(value: Decimal | None, places: int) -> Decimal | None:
    """``value`` rounded half-up to the stored places (display only: the allocation itself was computed exact)."""
    from cets.core.quantities import round_half_up

    return None if value is None else round_half_up(value, places)


def previous_allocations(*, market: str, year: int, bases) -> dict[int, tuple[int, str]]:
    """entity id → (its previous year's approved free allocation in tonnes CO2e (int), the record it comes from) for
    each ``AllocationBasis`` in ``bases``: the platform's own ``year − 1`` allocation of ``market`` where it holds one
    (``allocation:<id>``; the last sector in id order, as before), else the figure the bureau recorded in the basis
    (``basis:<id>``). The pre-allocation (``_beijing_capped_free``) and the pre-issue (``services.preissue_propose``)
    both read it."""
    from .models import EntityAllocation

    own = {eid: (t, pk) for eid, t, pk in EntityAllocation.objects.filter(market=market, year=year - 1, entity_id__in=[b.entity_id for b in bases])
           .order_by("id").values_list("entity_id", "final_allocation_t", "id")}
    return {b.entity_id: ((own[b.entity_id][0], f"allocation:{own[b.entity_id][1]}") if b.entity_id in own else (b.prev_allocation_t, f"basis:{b.pk}"))
            for b in bases}


def _beijing_capped_free(*, pack: Pack, year: int) -> Computed:
    """Free allocation of the entities the bureau recorded an approval basis for (``AllocationBasis`` of the
    pack's market and ``year``) with the emissions MRV determined (:func:`cets.mrv.selectors.determined_emissions`):
    ``A = min(max(A0, floor(0.8 E)), floor(1.2 E))`` with A0 by the entity's method; pre-allocation 70% of the
    previous year's approved allocation (the platform's own ``year − 1`` allocation where it holds one, else the
    basis's figure) for entities that completed the previous compliance (pack ``[allocation]``). Entities whose
    emissions are not determined yet take no part. The obligation is the determined emissions (三(四)).
    Tonnes CO2e (int)."""
    from cets.mrv.selectors import determined_emissions

    from .beijing import BeijingInput, BeijingRules, allocate_beijing
    from .models import AllocationBasis

    rules = BeijingRules.from_pack(pack, year)
    bases = list(AllocationBasis.objects.filter(market=pack.market, year=year).select_related("entity"))
    emissions = determined_emissions(market=pack.market, year=year, entity_ids=[b.entity_id for b in bases])
    prev = previous_allocations(market=pack.market, year=year, bases=[b for b in bases if b.entity_id in emissions])
    inputs = {b.entity.uscc: b for b in bases if b.entity_id in emissions}
    results = allocate_beijing([BeijingInput(entity_uscc=uscc, method=b.method, verified_emissions_t=emissions[b.entity_id], base=b.base,
                                             activity=b.activity, factor=b.factor, prev_allocation_t=prev[b.entity_id][0],
                                             prev_compliant=b.prev_compliant) for uscc, b in inputs.items()], rules)
    return Computed(units=len(results), entities=[
        EntityFigures(entity_id=inputs[r.entity_uscc].entity_id, verified_emissions_t=r.verified_emissions_t,
                      initial_allocation_t=r.initial_allocation_t, shortfall_topup_t=r.cap_adjustment_t, final_allocation_t=r.free_allocation_t,
                      pre_allocation_t=r.pre_allocation_t, obligation_t=r.verified_emissions_t)
        for r in results])


MECHANISMS: dict[str, Callable[..., Computed]] = {
    "benchmark_power": _benchmark_power,
    "verified_emissions": _industry,
    "industry_balance_value": _industry,
    "beijing_capped_free": _beijing_capped_free,
}


#: The pure (dry-run) part of each mechanism: reads the verified data, writes nothing (what-if runs,
#: :mod:`cets.allocation.whatif`). Keyword arguments ``pack``, ``year`` (the data) and ``rules_year`` (the pack's year).
DRY_RUN: dict[str, Callable[..., tuple]] = {
    "benchmark_power": _power_compute,
    "verified_emissions": _industry_compute,
    "industry_balance_value": _industry_compute,
}


def dry_run(*, pack: Pack, year: int, rules_year: int) -> Computed:
    """The entity figures ``pack``'s mechanism for ``rules_year`` gives on the verified data of ``year``, without
    storing anything (no unit, facility or entity allocation is written). A0117 if the pack does not cover
    ``rules_year`` or its market names no mechanism this path runs; A0102 as the mechanism itself."""
    fn = DRY_RUN.get(mechanism_name(pack, rules_year))
    if fn is None or not pack.covers(rules_year):
        raise CetsError(A0117, f"{pack.id} {rules_year}")
    return fn(pack=pack, year=year, rules_year=rules_year)[0]


def mechanism_name(pack: Pack, year: int) -> str:
    """The mechanism the pack's market names for the pack's sector and ``year`` (``[[packs]] mechanism`` in
    ``rules/packs/<market>/market.toml``); '' if the market names none."""
    from cets.rules.markets import load_market

    try:
        return load_market(pack.market).mechanism(pack.sector, year)
    except PackError:
        return ""


def mechanism_for(pack: Pack, year: int) -> Callable[..., Computed]:
    """The compute function for ``pack`` and ``year``; A0117 if the pack names none this path runs."""
    fn = MECHANISMS.get(mechanism_name(pack, year))
    if fn is None or not pack.covers(year):
        raise CetsError(A0117, f"{pack.id} {year}")
    return fn
