"""``cets demo``, second year: compliance year 2024 of the expanded national market (power, steel, cement,
aluminium), run after 2023 through the platform's own services.

Real input: the 2024 key emitting entities of the official verification disclosures
(``data/cets-verification-entities/verification_targets.csv``), imported per disclosure industry with
``disclosures_import``:

- 发电 → ``power`` and 钢铁 → ``steel``: every 2024 entity of the industry;
- 建材 → ``building_materials`` and 有色金属 → ``nonferrous`` are imported whole, and the demo puts on the
  national ``cement`` list the 建材 entities whose name contains 水泥 (cement producers), and on the
  ``aluminium`` list the 有色金属 entities whose name contains 铝 (aluminium smelters) — a name rule, because
  the disclosures name the industry, not the sub-sector (:data:`SELECTION`).

Real prices: the CEA24 close of the trading day (:data:`TRADE_DAY`) and of the day before, from
``data/cea-national-official/cea_daily_quotes.csv``. Real CCER: the national registry's batches registered
up to :data:`CCER_UNTIL`.

Generated input (DEMO, not real): 2024 unit data of the power entities (:mod:`cets.demo.fleet`, the 2023
fleet for the entities that were there, new units for new entities) and the steel works, clinker lines and
electrolysis processes with their 2024 figures (:mod:`cets.demo.works`).

Every step is idempotent: a second run changes nothing.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from .common import _entity_users, _province_users, _rank, at, create_units, data_dir, issue_notices, publish_lists, submit_tables

YEAR = 2024
POWER_PACK = "national/power-2023-2024"
#: The allocation pack of each sector for 2024 (market.toml of the national market).
PACKS = {
    "power": POWER_PACK,
    "steel": "national/steel-2024-2025",
    "cement": "national/cement-2024-2025",
    "aluminium": "national/aluminium-2024-2025",
}
SECTORS = tuple(PACKS)
#: sector → (the disclosure's sector it is imported under, text the entity name must contain; "" = all).
SELECTION = {
    "power": ("power", ""),
    "steel": ("steel", ""),
    "cement": ("building_materials", "水泥"),
    "aluminium": ("nonferrous", "铝"),
}
SECTOR_ZH = {"power": "发电", "steel": "钢铁", "cement": "水泥", "aluminium": "铝冶炼"}
#: The demo's trading day for CEA-2024 (a 2025 trading day, three weeks before the 2025-12-31 deadline).
TRADE_DAY = dt.date(2025, 12, 10)
#: CCER batches registered up to this date can be bought for the 2024 obligation (purchases on 2025-12-08).
CCER_UNTIL = dt.date(2025, 12, 5)
#: Dates (demo, Asia/Shanghai) of the year's steps. Power: 2024 pre-allocation and final issuance; industries:
#: "2024 allocation approved by 2025-09-30 and issued by 2025-10-20", no pre-allocation (2025 notice, cn-ets-rules.md §2.1).
DATES = {
    "cap": "2025-03-20",
    "power-pre": "2025-03-31",
    "resolve": "2025-09-26",
    "power-final": "2025-10-14",
    "industry-final": "2025-10-16",
    "ccer": "2025-12-08",
}
#: Real 2024 outcome (cets_public_info_coverage_stats.json, fulfillment_year_stats 2024: 2,066 units, 2,064
#: on time, 1 overdue, 1 incomplete): one entity surrenders late and one falls short.
LATE, INCOMPLETE = 1, 1
#: The demo's what-if runs (issue 17), each against the 2024 year: the 2025–2026 consultation draft's power plan
#: (its 2025 rules) and the industry method of the 2026 consultation draft for steel, cement and aluminium
#: (intensity coefficient with the solved balance value, §四(二)). Name → draft packs.
WHATIF = {
    "power": ("national/power-2025-2026",),
    "industry": ("national/steel-2026", "national/cement-2026", "national/aluminium-2026"),
}


@dataclass(frozen=True)
class SectorRow:
    """One sector's 2024 figures, tonnes CO2e (int); ``surrendered_t`` is the entity's surrender split over
    its sectors in proportion to the obligation breakdown; outcomes count each entity in each of its sectors."""

    sector: str
    entities: int
    facilities: int
    verified_t: int
    pre_allocated_t: int
    allocated_t: int
    issued_t: int
    surrendered_t: int
    on_time: int
    late: int
    incomplete: int


def cea24_prices(path=None) -> tuple[int, int]:
    """(previous close, close) of CEA24 on :data:`TRADE_DAY` in fen per tonne (int), read exactly (Decimal)
    from the official daily quotes."""
    path = path or data_dir() / "cea-national-official" / "cea_daily_quotes.csv"
    with open(path, encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            if r["subject_code"] == "CEA24" and r["trade_date"] == TRADE_DAY.isoformat():
                return int(Decimal(r["prev_close"]) * 100), int(Decimal(r["close"]) * 100)
    raise LookupError(f"no CEA24 quote on {TRADE_DAY} in {path}")


class Year2024:
    """The 2024 steps; ``base`` is the 2023 run's :class:`cets.demo.run._Steps` (its people and authorities)."""

    def __init__(self, base) -> None:
        self.base, self.seed, self.log, self.res = base, base.seed, base.log, base.res
        self.counts: dict[str, int] = {}

    def run(self) -> None:
        self.import_entities()
        publish_lists(market="national", year=YEAR, sectors=SECTORS, day="2025-05-09")  # the four lists, by 2025-05-10 (seed 003 一)
        self.generate()
        self.allocate_and_issue()
        self.ccer()
        self.trade()
        self.notices()
        self.surrender()
        self.summary()
        self.whatif()

    # -- 1. the 2024 lists: real entities of the disclosures, cement and aluminium by name
    def import_entities(self) -> None:
        from cets.mrv.services import disclosures_import
        from cets.parties.models import EmitterListEntry, Organisation, Role
        from cets.parties.services import emitter_list_entries_ensure, members_bulk_create
        from cets.registry.services import account_open

        path = data_dir() / "cets-verification-entities" / "verification_targets.csv"
        self.log(f"· {YEAR}: import real key emitting entities 导入2024年度重点排放单位 ({path.name}: 发电, 钢铁, 建材, 有色金属)")
        for imported in sorted({s for s, _ in SELECTION.values()}):
            disclosures_import(path=path, sector=imported, year=YEAR)
        for sector, (imported, contains) in SELECTION.items():
            if not contains:
                continue
            picked = Organisation.objects.filter(list_entries__market="national", list_entries__year=YEAR, list_entries__sector=imported,
                                                 list_entries__included=True, name__contains=contains)
            emitter_list_entries_ensure(market="national", entries=[
                (YEAR, sector, e.pk, e.province, f"{path.name}: {imported} entity named …{contains}… (demo selection rule)") for e in picked])
        self.entities: dict[str, list[Organisation]] = {}
        for sector in SECTORS:
            ids = EmitterListEntry.objects.filter(market="national", year=YEAR, sector=sector, included=True).values_list("entity_id", flat=True)
            self.entities[sector] = list(Organisation.objects.filter(pk__in=ids).order_by("uscc"))
            self.counts[f"entities_{sector}"] = len(self.entities[sector])
        self.all = {e.pk: e for es in self.entities.values() for e in es}
        have = set(Organisation.objects.filter(pk__in=list(self.all), accounts__market="national").values_list("pk", flat=True))
        for pk, e in self.all.items():
            if pk not in have:
                account_open(holder=e)
        members_bulk_create(specs=[(f"e-{e.uscc}", e, Role.ENTITY, "") for e in self.all.values()])

    # -- 2. generated data (DEMO): 2024 power unit data, industry facilities
    def generate(self) -> None:
        from cets.mrv.models import FacilityYearData, UnitYearData
        from cets.mrv.services import unit_year_data_upsert
        from cets.parties.models import Facility, GeneratingUnit
        from cets.parties.services import units_upsert

        from .fleet import EntitySeed, generate_fleet
        from .works import WorksSeed, generate_works

        self.log(f"· {YEAR}: generate power unit data and industry facilities 生成机组与设施数据 (demo data, fixed seed)")
        power = self.entities["power"]
        fleet = generate_fleet([EntitySeed(e.uscc, e.name, e.province) for e in power], seed=self.seed, years=(YEAR,))
        ids = {e.uscc: e.pk for e in power}
        units_upsert(units=[GeneratingUnit(entity_id=ids[g.entity_uscc], code=g.code, category=g.category, rated_capacity_mw=g.rated_capacity_mw,
                                           source="demo-generated") for g in fleet])
        unit_ids = {(e, c): pk for pk, e, c in GeneratingUnit.objects.filter(entity_id__in=list(ids.values())).values_list("pk", "entity_id", "code")}
        unit_year_data_upsert(rows=[
            UnitYearData(unit_id=unit_ids[(ids[g.entity_uscc], g.code)], year=YEAR, generation_mwh=y.generation_mwh, heat_supplied_gj=y.heat_supplied_gj,
                         load_factor=y.load_factor, verified_emissions_t=y.verified_emissions_t, source="demo-generated")
            for g in fleet for y in (g.years[YEAR],)])
        for sector in ("steel", "cement", "aluminium"):
            ents = self.entities[sector]
            ids = {e.uscc: e.pk for e in ents}
            works = generate_works(sector, [WorksSeed(e.uscc, e.name, e.province) for e in ents], seed=self.seed, years=(YEAR,))
            have = set(Facility.objects.filter(entity_id__in=list(ids.values())).values_list("entity_id", "code"))
            Facility.objects.bulk_create([Facility(entity_id=ids[w.entity_uscc], sector=sector, code=w.code, kind=w.kind, source="demo-generated")
                                          for w in works if (ids[w.entity_uscc], w.code) not in have], batch_size=1000)
            fac = {(e, c): pk for pk, e, c in Facility.objects.filter(entity_id__in=list(ids.values()), sector=sector).values_list("pk", "entity_id", "code")}
            done = set(FacilityYearData.objects.filter(facility_id__in=list(fac.values()), year=YEAR).values_list("facility_id", flat=True))
            chain = ents[0].uscc if ents else ""  # this entity's year runs through the MRV chain (mrv_chain), the others' data is loaded
            FacilityYearData.objects.bulk_create([
                FacilityYearData(facility_id=fac[(ids[w.entity_uscc], w.code)], year=YEAR, verified_emissions_t=y.verified_emissions_t,
                                 intensity_emissions_t=y.intensity_emissions_t, output_t=y.output_t, source="demo-generated")
                for w in works for y in (w.years[YEAR],) if fac[(ids[w.entity_uscc], w.code)] not in done and w.entity_uscc != chain], batch_size=1000)
            if chain:
                self.mrv_chain(sector, ents[0], [w for w in works if w.entity_uscc == chain])

    def mrv_chain(self, sector: str, entity, works) -> None:
        """One entity of an industry sector runs the year's duties through the platform's services (DEMO activity lines
        sized from its generated figures): twelve months per facility filed (2025-05-20) → the annual report computed by
        the sector's accounting and submitted (2025-06-25) → a body drawn by the province, per-facility verification
        (2025-08-15) → handed to allocation, so its allocation line traces back to its months. Idempotent."""
        from cets.mrv.facility_services import (
            FacilityFigures,
            LineIn,
            facility_annual_report_generate,
            facility_month_file,
            facility_verification_record,
            facility_year_data_from_verification,
        )
        from cets.mrv.models import AnnualReport, FacilityYearData, VerificationAssignment
        from cets.mrv.services import annual_report_sign, verification_assign
        from cets.parties.models import Facility, Membership, Organisation, Role
        from cets.parties.services import member_create

        facs = {f.code: f for f in Facility.objects.filter(entity=entity, sector=sector)}
        if FacilityYearData.objects.filter(facility__in=list(facs.values()), year=YEAR).exists():
            return
        self.log(f"· {YEAR}: {SECTOR_ZH[sector]} {entity.name}: monthly filings → annual report → verification → allocation data 月度存证至核查")
        user = Membership.objects.filter(organisation=entity, role=Role.ENTITY).order_by("pk").first().user
        for w in works:
            y = w.years[YEAR]
            lines = _demo_month_lines(sector, y.verified_emissions_t, y.intensity_emissions_t, y.output_t)
            for m in range(1, 13):
                facility_month_file(facility=facs[w.code], year=YEAR, month=m, lines=[LineIn(**ln) for ln in lines], actor=user, on=dt.date(2025, 5, 20))
        rep = AnnualReport.objects.filter(entity=entity, year=YEAR, sector=sector).first()
        if rep is None or rep.signed_on is None:
            rep = facility_annual_report_generate(entity=entity, year=YEAR, actor=user, sector=sector, at=at("2025-06-25"))
            annual_report_sign(report_id=rep.pk, actor=user, on=dt.date(2025, 6, 25))
        province = _province_users()[entity.province]
        a = VerificationAssignment.objects.filter(entity=entity, year=YEAR, kind="regular").first()
        if a is None:
            bodies = list(Organisation.objects.filter(kind=Organisation.Kind.VERIFIER).order_by("uscc")[:20])
            [a] = verification_assign(year=YEAR, province=entity.province, entities=[entity], bodies=bodies, seed=f"demo-{YEAR}-{sector}",
                                      actor=province, sector=sector, at=at("2025-07-01"))
        verifier = member_create(username=f"v-{a.body.uscc or a.body.pk}", organisation=a.body, role=Role.VERIFIER)
        if a.completed_on is None:
            facility_verification_record(assignment_id=a.pk, actor=verifier, conforming=True, completed_on=dt.date(2025, 8, 15), figures=[
                FacilityFigures(f["facility_id"], f["emissions_t"], f["intensity_emissions_t"], f["output_t"]) for f in rep.facilities])
        facility_year_data_from_verification(assignment_id=a.pk, actor=province)

    # -- 3. allocation per sector, the CEA-2024 cap, four-eyes issuance (power pre then final; industries final)
    def allocate_and_issue(self) -> None:
        from cets.allocation.models import EntityAllocation
        from cets.allocation.services import allocation_compute, allocation_issue_confirm, allocation_issue_propose
        from cets.registry.models import Instrument, Proposal, UnitType
        from cets.registry.services import proposal_approve

        b = self.base
        for sector, pack in PACKS.items():
            if not EntityAllocation.objects.filter(market="national", year=YEAR, sector=sector).exists():
                self.log(f"· {YEAR}: allocation {SECTOR_ZH[sector]} {sector} 配额核算 ({pack})")
                allocation_compute(year=YEAR, pack_id=pack)
        tot = EntityAllocation.objects.filter(market="national", year=YEAR).aggregate(final=Sum("final_allocation_t"), pre=Sum("pre_allocation_t"))
        cap = max(tot["final"], tot["pre"])
        self.log(f"· vintage CEA-{YEAR}, cap {cap:,} t 创设配额 (Σ final allocation of the four sectors)")
        ut = create_units(b, instrument=Instrument.CEA, vintage=str(YEAR), cap_t=cap, key=f"cap-CEA-{YEAR}",
                          reference=f"{YEAR}年度配额总量 cap (Σ final allocation: power, steel, cement, aluminium)", effective_at=at(DATES["cap"]))
        steps = [("power", "pre", DATES["power-pre"]), ("power", "final", DATES["power-final"])]
        steps += [(s, "final", DATES["industry-final"]) for s in ("steel", "cement", "aluminium")]
        tables = {("power", "pre"): "2025-03-31", ("power", "final"): "2025-07-31"}  # seed 000 一(二), 二(二); industries 2025-09-30 (seed 003)
        for sector, stage, day in steps:
            submit_tables(b, year=YEAR, sector=sector, stage=stage, day=tables.get((sector, stage), "2025-09-30"))
            if stage == "final":
                b.resolve_verification_blocks(at(DATES["resolve"]), year=YEAR)
            want = [EntityAllocation.Stage.COMPUTED] if stage == "pre" or sector != "power" else [EntityAllocation.Stage.PRE_ISSUED]
            if EntityAllocation.objects.filter(market="national", year=YEAR, sector=sector, stage__in=want).exists():
                self.log(f"· {YEAR}: issue {sector} {stage} 发放: registry-a proposes, registry-b approves")
                p = allocation_issue_propose(year=YEAR, stage=stage, unit_type=ut, actor=b.registry_a, effective_at=at(day), sector=sector)
                if p.status == Proposal.Status.PROPOSED:
                    proposal_approve(proposal_id=p.pk, approver=b.registry_b)
                allocation_issue_confirm(year=YEAR, stage=stage, sector=sector)
        self.cea = UnitType.objects.get(code=f"CEA-{YEAR}")

    def notices(self) -> None:
        """The compliance notices of 2024, issued by the registry once every sector's final allocation is issued."""
        n = issue_notices(self.base, year=YEAR, day=DATES["industry-final"])
        if n:
            self.log(f"· {YEAR}: {n:,} compliance notices issued 履约通知书")

    # -- 4. real CCER registered up to the purchases
    def ccer(self) -> None:
        from cets.registry.ccer import ccer_registry_import

        d = data_dir() / "ccer-national"
        self.log(f"· CCER registry: real registered reductions up to {CCER_UNTIL} 国家核证自愿减排量")
        c = ccer_registry_import(projects_csv=d / "ccer_projects_and_reductions.csv", detail_csv=d / "ccer_reduction_annual_detail.csv",
                                 issued_until=CCER_UNTIL)
        self.counts["ccer_projects"] = c["projects"]

    # -- 5. purchases: CCER from project owners within the offset cap, CEA24 on the exchange on TRADE_DAY
    def trade(self) -> None:
        from cets.compliance.models import Obligation
        from cets.compliance.services import obligations_create
        from cets.registry.models import Account, AccountKind, Holding
        from cets.trading.models import DailyQuote

        obligations_create(year=YEAR, pack_id=POWER_PACK)
        obligations = {o.entity_id: o for o in Obligation.objects.filter(market="national", year=YEAR)}
        order = sorted((self.all[i] for i in obligations), key=lambda e: _rank(self.seed + YEAR, e.uscc))
        # Outcomes from the entities' rank (stable across runs): the incomplete one is the first exchange buyer in
        # rank order (set in _exchange), the late one the first other entity of the power list.
        self.incomplete: set[int] = set()
        self.order = order
        if DailyQuote.objects.filter(market="national", instrument="CEA24", date=TRADE_DAY).exists():
            return  # the trading day was run and closed
        self.log(f"· {YEAR}: purchases 购买: CCER from project owners (registry transfers), CEA24 on the exchange on {TRADE_DAY}")
        accounts = {a.holder_id: a for a in Account.objects.filter(market="national", kind=AccountKind.ENTITY, holder_id__in=list(obligations))}
        usable = {"CEA-2023", f"CEA-{YEAR}"}
        held: dict[int, int] = {}
        for acc, q in Holding.objects.filter(account__in=list(accounts.values()), unit_type__code__in=usable, position="registry",
                                             quantity__gt=0).values_list("account__holder_id", "quantity"):
            held[acc] = held.get(acc, 0) + q
        need = {e.pk: obligations[e.pk].obligation_t - held.get(e.pk, 0) for e in order}
        # CCER: an entity whose gap fits in its offset cap (5% of the obligation) buys it from the project owners,
        # smallest gap first (so that the CCER there is serves as many entities as it can), while CCER lasts. CCER is not listed on the platform's
        # exchange (its trading pack lists CEA only): the purchases settle as registry transfers.
        self._ccer_purchases(order, need, obligations, accounts)
        self._exchange(order, need, obligations, accounts)

    def _late(self) -> set[int]:
        power = {e.pk for e in self.entities["power"]}
        return {e.pk for e in [e for e in self.order if e.pk in power and e.pk not in self.incomplete][:LATE]}

    def _ccer_purchases(self, order, need, obligations, accounts) -> None:
        from cets.parties.models import Role
        from cets.parties.services import member_create
        from cets.registry.models import AccountKind, Holding, Instrument
        from cets.registry.services import holding_transfer

        holdings = list(Holding.objects.filter(unit_type__instrument=Instrument.CCER, account__kind=AccountKind.CCER_HOLDING, position="registry",
                                               quantity__gt=0, unit_type__project__registered_on__gte=dt.date(2024, 1, 22))
                        .select_related("account__holder", "unit_type").order_by("unit_type__code"))
        left = {h.pk: h.quantity for h in holdings}
        sellers = {}
        n = 0
        for e in sorted((e for e in order if need[e.pk] > 0), key=lambda e: (need[e.pk], e.uscc)):
            want = need[e.pk]
            if want > obligations[e.pk].offset_cap_t or want > sum(left.values()):
                continue
            for h in holdings:
                q = min(want, left[h.pk])
                if q <= 0:
                    continue
                if h.account.holder_id not in sellers:
                    sellers[h.account.holder_id] = member_create(username=f"o-{h.account.holder_id}", organisation=h.account.holder, role=Role.TRADER)
                holding_transfer(key=f"demo-ccer-{YEAR}-{e.uscc}-{h.unit_type.code}", from_account=h.account, to_account=accounts[e.pk],
                                 unit_type=h.unit_type, quantity=q, actor=sellers[h.account.holder_id],
                                 reference="CCER 协议转让 purchase (registry transfer)", effective_at=at(DATES["ccer"], 10, n % 60))
                left[h.pk] -= q
                want -= q
                need[e.pk] -= q
                n += 1
                if want == 0:
                    break
        self.counts.update({"ccer_transfers": n, "ccer_bought_t": sum(h.quantity for h in holdings) - sum(left.values())})

    def _exchange(self, order, need, obligations, accounts) -> None:
        from cets.registry.services import position_move
        from cets.trading import services as ex
        from cets.trading.funds import funds_deposit

        users = dict((org, u) for u, org in _entity_users())
        prev_close, close = cea24_prices()
        ex.day_open(market="national", instrument="CEA24", day=TRADE_DAY, prev_close_fen=prev_close)
        block_min = ex.market_rules("national", TRADE_DAY).limits.block_min_t
        buyers = sorted((e for e in order if need[e.pk] > 0), key=lambda e: (-need[e.pk], e.uscc))
        sellers = sorted((e for e in order if need[e.pk] < 0), key=lambda e: (need[e.pk], e.uscc))
        self.incomplete = {b.pk for b in sorted(buyers, key=lambda e: _rank(self.seed + YEAR, e.uscc))[:INCOMPLETE]}
        # The matching first (pure), so that a seller moves into its trading position only what it sells. Best fit:
        # the largest buyer first, each served by the long entity with the smallest surplus that covers it (else the
        # largest, and on to the next), so that most buyers trade once: about one trade per buyer.
        plan: list[tuple[object, object, int, int]] = []  # (seller, buyer, tonnes, price fen)
        pool = sorted((-need[s.pk], s.uscc) for s in sellers)  # (surplus left, uscc)
        by_uscc = {s.uscc: s for s in sellers}
        sold: dict[int, int] = {}
        for i, b in enumerate(buyers):
            want = need[b.pk]
            if b.pk in self.incomplete:
                want -= max(1, obligations[b.pk].obligation_t // 20)  # short by about 5% of the obligation
            price = close + (i % 9) - 4  # within a few fen of the real close of the day
            while want > 0 and pool:
                j = bisect.bisect_left(pool, (want, ""))
                left, uscc = pool.pop(j if j < len(pool) else -1)
                q = min(want, left)
                s = by_uscc[uscc]
                plan.append((s, b, q, price))
                sold[s.pk] = sold.get(s.pk, 0) + q
                want -= q
                if left > q:
                    bisect.insort(pool, (left - q, uscc))
        commands = 0
        for s in sellers:
            if sold.get(s.pk):
                position_move(key=f"demo-{YEAR}-to-trading-{s.uscc}", account=accounts[s.pk], unit_type=self.cea, from_position="registry",
                              to_position="trading", quantity=sold[s.pk], actor=users[s.pk], effective_at=at(TRADE_DAY.isoformat(), 9, 0))
        bought: dict[int, int] = {}
        for b in buyers:
            amount = sum(q * p for _, bb, q, p in plan if bb.pk == b.pk)
            if amount:
                funds_deposit(key=f"demo-{YEAR}-deposit-{b.uscc}", holder=b, amount_fen=amount + amount // 1000 + 100, actor=self.base.exchange,
                              at=at(TRADE_DAY.isoformat(), 9, 0))
        d = TRADE_DAY.isoformat()
        for s, b, q, price in plan:
            key = f"demo-{YEAR}-{s.uscc}-{b.uscc}"
            if q >= block_min:  # a directed block agreement in the afternoon session
                o = ex.order_place(key=key, participant=s, instrument="CEA24", method="block", side="S", price_fen=price, quantity_t=q,
                                   counterparty=b, actor=users[s.pk], at=at(d, 13, 30))
                ex.order_take(key=f"{key}-confirm", participant=b, quote_seq=o.seq, quantity_t=q, actor=users[b.pk], at=at(d, 13, 31))
            else:  # a listing quote taken in full
                o = ex.order_place(key=key, participant=s, instrument="CEA24", method="listing", side="S", price_fen=price, quantity_t=q,
                                   actor=users[s.pk], at=at(d, 10, 0))
                ex.order_take(key=f"{key}-take", participant=b, quote_seq=o.seq, quantity_t=q, actor=users[b.pk], at=at(d, 10, 1))
            commands += 2
            bought[b.pk] = bought.get(b.pk, 0) + q
        for b in buyers:
            if bought.get(b.pk):  # bought units arrive in the trading position; surrender needs them in the registry position
                position_move(key=f"demo-{YEAR}-to-registry-{b.uscc}", account=accounts[b.pk], unit_type=self.cea, from_position="trading",
                              to_position="registry", quantity=bought[b.pk], actor=users[b.pk], effective_at=at(d, 15, 30))
        ex.day_close(market="national", instrument="CEA24", day=TRADE_DAY)
        self.counts.update({"exchange_buyers": len(bought), "exchange_sellers": len(sold), "exchange_trades": len(plan),
                            "exchange_commands": commands + 2, "exchange_volume_t": sum(q for _, _, q, _ in plan)})

    # -- 6. surrender applications and provincial approval (CCER first, then the older vintage)
    @transaction.atomic
    def surrender(self) -> None:
        from cets.compliance.models import Obligation, SurrenderApplication
        from cets.compliance.services import surrender_approve, surrender_submit
        from cets.registry.models import Account, AccountKind, Holding, Instrument

        self.log(f"· {YEAR}: surrender 清缴 by 2025-12-31: entities apply, provinces approve")
        users = dict((org, u) for u, org in _entity_users())
        province_users = _province_users()
        obligations = {o.entity_id: o for o in Obligation.objects.filter(market="national", year=YEAR)}
        accounts = {a.holder_id: a for a in Account.objects.filter(market="national", kind=AccountKind.ENTITY, holder_id__in=list(obligations))}
        done = set(SurrenderApplication.objects.filter(obligation__year=YEAR, obligation__market="national").values_list("obligation__entity_id", flat=True))
        usable = {"CEA-2023", f"CEA-{YEAR}"}
        holdings: dict[int, list] = {}
        for h in (Holding.objects.filter(account__in=list(accounts.values()), position="registry", quantity__gt=0)
                  .select_related("unit_type").order_by("unit_type__code")):
            if h.unit_type.instrument == Instrument.CCER or h.unit_type.code in usable:
                holdings.setdefault(h.account_id, []).append(h)
        late = self._late()
        order = sorted((self.all[i] for i in obligations), key=lambda e: _rank(self.seed + YEAR + 1, e.uscc))
        for i, e in enumerate(order):
            if e.pk in done:
                continue
            if e.pk in late:
                sub, dec = at("2026-01-08", 10, i % 60), at("2026-01-09", 15)
            else:
                day = dt.date(2025, 12, 11) + dt.timedelta(days=i % 16)
                sub, dec = at(day.isoformat(), 9 + i % 6, i % 60), at((day + dt.timedelta(days=2)).isoformat(), 16)
            left = obligations[e.pk].obligation_t
            held = holdings.get(accounts[e.pk].pk, [])
            for h in sorted(held, key=lambda h: (h.unit_type.instrument != Instrument.CCER, h.unit_type.code)):
                q = min(left, h.quantity)
                if q <= 0:
                    continue
                app = surrender_submit(key=f"surrender-{YEAR}-{e.uscc}-{h.unit_type.code}", entity=e, year=YEAR, unit_type_code=h.unit_type.code,
                                       quantity=q, actor=users[e.pk], at=sub, market="national")
                if app.status == SurrenderApplication.Status.SUBMITTED:
                    surrender_approve(application_id=app.pk, approver=province_users[e.province], at=dec)
                left -= q

    # -- 7. the summary per sector
    def summary(self) -> None:
        from cets.allocation.models import EntityAllocation
        from cets.compliance.models import Obligation, SurrenderApplication
        from cets.compliance.selectors import statuses, surrendered_by_instrument
        from cets.parties.models import Facility, GeneratingUnit

        by_entity: dict[int, int] = {}
        for eid, q in (SurrenderApplication.objects.filter(obligation__year=YEAR, obligation__market="national",
                                                           status=SurrenderApplication.Status.APPROVED)
                       .values_list("obligation__entity_id", "quantity")):
            by_entity[eid] = by_entity.get(eid, 0) + q
        split: dict[str, int] = {s: 0 for s in SECTORS}
        for o in Obligation.objects.filter(market="national", year=YEAR):
            split_t = split_surrendered(by_entity.get(o.entity_id, 0), o.sectors)
            for s, t in split_t.items():
                split[s] = split.get(s, 0) + t
        st = statuses(year=YEAR, market="national")
        rows = []
        for sector in SECTORS:
            a = EntityAllocation.objects.filter(market="national", year=YEAR, sector=sector).aggregate(
                e=Sum("verified_emissions_t"), pre=Sum("pre_allocation_t"), final=Sum("final_allocation_t"), issued=Sum("issued_t"))
            ids = set(EntityAllocation.objects.filter(market="national", year=YEAR, sector=sector).values_list("entity_id", flat=True))
            if sector == "power":
                facilities = GeneratingUnit.objects.filter(entity_id__in=ids, year_data__year=YEAR).count()
            else:
                facilities = Facility.objects.filter(entity_id__in=ids, sector=sector, year_data__year=YEAR).count()
            outcome = [st[i].status for i in ids if i in st]
            rows.append(SectorRow(sector=sector, entities=len(ids), facilities=facilities, verified_t=a["e"] or 0, pre_allocated_t=a["pre"] or 0,
                                  allocated_t=a["final"] or 0, issued_t=a["issued"] or 0, surrendered_t=split.get(sector, 0),
                                  on_time=outcome.count("on_time"), late=outcome.count("late"), incomplete=outcome.count("incomplete")))
        self.res.sectors_2024 = rows
        s = surrendered_by_instrument(year=YEAR, market="national")
        c = self.counts
        from cets.trading.models import Trade

        tr = Trade.objects.filter(market="national", instrument="CEA24", trading_day=TRADE_DAY)
        c.update({"exchange_trades": tr.count(), "exchange_volume_t": tr.aggregate(q=Sum("quantity_t"))["q"] or 0})
        c.update({"entities": len(st), "surrendered_cea_t": s.get("CEA", 0), "surrendered_ccer_t": s.get("CCER", 0)})
        for k in ("on_time", "late", "incomplete"):
            c[f"outcome_{k}"] = sum(1 for v in st.values() if v.status == k)
        self.res.counts_2024 = c


    # -- 8. what-if runs of the drafts against 2024 (nothing in the database changes); the XLSX goes to var/
    def whatif(self) -> None:
        from pathlib import Path

        from django.conf import settings

        from cets.core.quantities import fen_to_yuan
        from cets.supervision import whatif as wi

        runs = {}
        for name, packs in WHATIF.items():
            r = wi.run(packs=list(packs), base=f"national/{YEAR}")
            path = Path(settings.VAR_DIR) / f"whatif-{name}-{YEAR}.xlsx"
            path.write_bytes(wi.xlsx(r))
            g = r.grand_total()
            self.log(f"· what-if {name} 配额方案模拟 ({', '.join(packs)} on {YEAR}): allocation {g.base_t:,} → {g.draft_t:,} t, "
                     f"balance {g.base_balance_t:+,} → {g.draft_balance_t:+,} t at {fen_to_yuan(r.price_fen)} CNY/t → {path.name}")
            runs[name] = r
        self.res.whatif_2024 = runs


def split_surrendered(total_t: int, sectors: dict[str, int]) -> dict[str, int]:
    """Split an entity's surrendered tonnes (int) over its sectors in proportion to the obligation breakdown
    ``sectors`` (sector → tonnes): floor of each share, the remainder to the largest sectors first (largest
    remainder). Exact integers; the parts sum to ``total_t``."""
    whole = sum(sectors.values())
    if not whole:
        return {}
    parts = {s: total_t * t // whole for s, t in sectors.items()}
    rest = total_t - sum(parts.values())
    for s in sorted(sectors, key=lambda s: (-(total_t * sectors[s] % whole), s))[:rest]:
        parts[s] += 1
    return parts


def _demo_month_lines(sector: str, verified_t: int, intensity_t: int, output_t: int) -> list[dict]:
    """DEMO activity lines of one month sized so that the year's accounting lands near the generated figures (defaults
    of the national accounting packs: coke 28.435 GJ/t × 0.02942 tC/GJ; bituminous coal 23.736 × 0.02618 × 0.99; clinker
    CaO 0.65 / MgO 0.02 measured; anode S 2% / ash 0.4%, PFC 0.034 / 0.0034 kg/t). Quantities rounded to 0.001 t."""
    q = Decimal("0.001")
    out12 = Decimal(output_t) / 12
    if sector == "steel":
        coke = Decimal("28.435") * Decimal("0.02942") * 44 / 12  # t CO2 per t coke
        return [dict(source="fuel", material="焦炭", quantity=(verified_t / coke / 12).quantize(q)),
                dict(source="process_input", part="ironmaking", material="焦炭", quantity=(intensity_t * Decimal("0.85") / coke / 12).quantize(q)),
                dict(source="process_input", part="sintering", material="焦炭", quantity=(intensity_t * Decimal("0.15") / coke / 12).quantize(q)),
                dict(source="product", part="ironmaking", material="生铁", quantity=out12.quantize(q))]
    if sector == "cement":
        coal = Decimal("23.736") * Decimal("0.02618") * Decimal("0.99") * 44 / 12
        carbonate = Decimal("0.65") * 44 / 56 + Decimal("0.02") * 44 / 40
        fuel = max(Decimal(verified_t) - carbonate * output_t, Decimal(0))
        return [dict(source="fuel", material="烟煤", quantity=(fuel / coal / 12).quantize(q)),
                dict(source="clinker", material="熟料", quantity=out12.quantize(q)),
                dict(source="clinker_content", material="氧化钙", measured_value=Decimal("0.65")),
                dict(source="clinker_content", material="氧化镁", measured_value=Decimal("0.02"))]
    pfc = Decimal("0.034") * 6630 / 1000 + Decimal("0.0034") * 11100 / 1000  # t CO2e per t aluminium
    anode = max(Decimal(verified_t) - pfc * output_t, Decimal(0)) / (Decimal("0.976") * 44 / 12)
    return [dict(source="anode", material="炭阳极", quantity=(anode / 12).quantize(q)),
            dict(source="product", material="原铝液", quantity=out12.quantize(q))]
