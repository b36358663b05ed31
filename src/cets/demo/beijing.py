"""``cets demo``, the Beijing pilot's compliance year 2023, run beside the national years through the platform's
own services, in the order and on the dates of 京环发〔2024〕8号 (seed 004; ``beijing/cycle-2023-2024``).

Generated input (DEMO, not real): the Beijing key emitters (:data:`ENTITIES`, named 演示 and with generated credit
codes), their verified emissions and the bureau's approval basis (method, base, activity, control factor). Beijing
publishes neither its entity list with codes nor the per-entity figures of 《北京市重点碳排放单位配额核定方法》, so
nothing here is presented as real. Six units are in the power sector (电力生产业, ``beijing/power-2023``); the seventh,
a data centre in the services sector (服务业, ``beijing/services-2023``, :data:`DATA_CENTRE`), files its twelve months
(fuel, purchased electricity with some green electricity, purchased heat), and the platform computes its report from them.

The year:

1. the bureau (``bj-bureau``, the municipal bureau: a provincial-level authority, province 11) imports and
   publishes the 2023 list as an XLSX; a district bureau user (``bj-chaoyang``, 朝阳区) sees only its district;
   北京经济技术开发区 (``bj-etda``, our code ``11ETDA``: it has no GB/T 2260 code) supervises one unit of 大兴区's area and
   sees only it; the list also names one general reporting unit (一般报告单位, :data:`GENERAL`, 朝阳区): it files its 2023 report by
   2024-07-15 (``bj-general``) and ``bj-chaoyang`` checks it within 30 days (三(一)2); it is allocated nothing and owes
   nothing;
2. the data centre files its 2023 months (月度数据), 朝阳区 checks them, the report is computed from them by the services
   pack and signed (:meth:`BeijingYear.services_unit`); each unit commissions a verification body (自行委托, 三(二)); the
   body records the verified emissions (the data centre's per facility, from its report); the bureau spot-checks one unit
   with a second body (a difference over 1,000 t or 10% flags the first verifier);
3. the bureau records the approval basis and pre-issues free allowances by 07-15 (三(三)2: 70% of each unit's previous
   year's approved allocation for units that completed the previous compliance, before the emissions are
   determined; ``bj-bureau`` proposes, ``bj-bureau-2`` signs: four eyes inside the bureau); once the emissions are
   determined it computes the free allocation (±20% cap, 二(二)) and issues the final allocation by 09-15, one issuance
   per sector (power, the data centre's services): final − pre-issued per unit (a negative true-up would be returned
   to the market's total account), again by four eyes;
4. carbon inclusion (碳普惠, 三(三)): the first unit registers a petrol-to-electric car project (:data:`PCER_PROJECT`),
   the bureau approves it, the unit submits the 2023 monitoring period (the calculator of ``beijing/pcer-2023-2026``,
   placeholder factors), the bureau confirms it and the registry creates and issues PCER-2023 by four eyes; the unit
   surrenders it before the offset cut-off 10-15, within its cap of 5% of its determined emissions (三(四));
5. obligations follow from the stored figures (determined emissions; offsets ≤ 5% of them, 三(四)); the units
   surrender before 2024-11-15, except one, whose allowances the registry collects automatically after the
   deadline (four eyes; outcome ``collected``), and one that holds too little (``incomplete``).

Every step is idempotent: a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from .common import at, create_units

MARKET = "beijing"
YEAR = 2023
PROVINCE = "11"
ALLOCATION_PACK = "beijing/emitters-2023-2024"
COMPLIANCE_PACK = "beijing/compliance-2023-2024"
LIST_SECTOR = "power"
DISTRICT = "110105"  # 朝阳区 (GB/T 2260)
#: 北京经济技术开发区: no GB/T 2260 code; our code from beijing/market.toml [[jurisdictions]]. The demo unit it
#: supervises (its area lies in 大兴区, so the unit's GB/T region_code stays 110115).
ETDA, ETDA_UNIT = "11ETDA", "91110115MA0BJD005"


@dataclass(frozen=True)
class DemoUnit:
    """One generated Beijing key emitter: ``first17`` the credit code's first 17 characters (the check character
    is computed), ``district`` GB/T 2260, emissions in tonnes CO2e (int), the approval basis as the bureau would
    record it, and what the unit does at the deadline (``surrender`` / ``collected`` / ``short``)."""

    first17: str
    name: str
    district: str
    verified_t: int
    method: str
    base: str
    activity: str
    factor: str
    prev_allocation_t: int
    prev_compliant: bool
    outcome: str = "surrender"
    sector: str = LIST_SECTOR


ENTITIES = (
    DemoUnit("91110105MA0BJD001", "（演示）北京朝阳燃气热电有限公司", "110105", 820_000, "historical_total", "850000", "", "0.98", 790_000, True),
    DemoUnit("91110105MA0BJD002", "（演示）北京东坝能源有限公司", "110105", 160_000, "benchmark", "0.38", "450000", "1", 150_000, True, "collected"),
    DemoUnit("91110108MA0BJD003", "（演示）北京海淀北部热电有限公司", "110108", 410_000, "historical_intensity", "0.40", "1100000", "0.97", 400_000, True),
    DemoUnit("91110106MA0BJD004", "（演示）北京丰台燃气电厂有限公司", "110106", 95_000, "historical_total", "70000", "", "1", 68_000, False, "short"),
    DemoUnit("91110115MA0BJD005", "（演示）北京大兴能源中心有限公司", "110115", 240_000, "benchmark", "0.36", "700000", "1", 230_000, True),
    DemoUnit("91110112MA0BJD006", "（演示）北京通州热电有限公司", "110112", 330_000, "historical_total", "340000", "", "0.99", 335_000, True),
    # the data centre: its verified_t is what the platform computes from DATA_CENTRE's months (checked when it runs)
    DemoUnit("91110105MA0BJD007", "（演示）北京朝阳云计算数据中心有限公司", "110105", 77_349, "historical_total", "80000", "", "0.97", 76_000, True,
             sector="services"),
)
#: The services unit's data centre (generated): facility code and name, and its month (the services pack's sources):
#: 柴油 5 t (backup generators), purchased electricity 12,000 MWh of which 3,000 MWh green from April to September,
#: purchased heat 800 GJ. By hand (beijing/services-2023): fuel 60 t × 43.33 × 0.0202 × 0.98 × 44/12 = 188.7073496 t;
#: electricity (144,000 − 18,000) MWh × 0.604 = 76,104 t; heat 9,600 GJ × 0.11 = 1,056 t; total 77,348.707… → 77,349 t.
DATA_CENTRE = ("DC1", "（演示）朝阳云计算数据中心一号楼", {"fuel": ("柴油", "5"), "electricity": ("电力", "12000"), "heat": ("热力", "800")},
               ("绿电", "3000", range(4, 10)))
#: The general reporting unit (一般报告单位, 京环发〔2024〕8号 三(一)2): credit code's first 17 characters, name, GB/T 2260
#: district, its reported 2023 emissions (t CO2e), the filing and check days.
GENERAL = ("91110105MA0BJG001", "（演示）北京朝阳区域供热站有限公司", "110105", 18_600, "2024-07-10", "2024-07-29")
#: The carbon-inclusion project of the first unit (generated): name, methodology, location and the 2023 period's
#: activity data — 20,000,000 vkm × 8 L/100 km ÷ 100 × 2.3 kg/L ÷ 1000 = 3,680 t; 3,000,000 kWh × 0.604 t/MWh ÷ 1000
#: = 1,812 t; reduction 1,868 t (pack placeholders).
PCER_PROJECT = ("（演示）朝阳区网约车油改电项目", "ev_conversion", "北京市朝阳区", {"vehicle_km": 20_000_000, "electricity_kwh": 3_000_000})
#: The unit the bureau spot-checks and the figure the second body finds (tonnes CO2e).
SPOT_CHECK = ("91110108MA0BJD003", 396_000)
#: Dates of 京环发〔2024〕8号 (Asia/Shanghai): list, verification, determination and allocation, surrender, collection.
DAYS = {
    "list": "2024-05-20", "commission": "2024-05-27", "verified": "2024-06-20", "spot": "2024-06-24", "spot_done": "2024-07-05",
    "pcer_issue": "2024-05-06", "pcer_surrender": "2024-10-10",
    "basis": "2024-07-08", "pre": "2024-07-12", "final": "2024-09-13", "surrender": "2024-11-08", "collect": "2024-11-18",
    # the fine's price window (beijing/compliance-2023-2024 penalty.price_window: the six months up to the deadline)
    "price_from": "2024-05-16", "price_to": "2024-11-15", "fine": "2024-12-02",
}

def uscc(first17: str) -> str:
    from cets.core.uscc import check_character

    return first17 + check_character(first17)


class BeijingYear:
    """The Beijing 2023 year on top of the national demo's people (``base``: the 2023 ``_Steps``)."""

    def __init__(self, base) -> None:
        self.base, self.log, self.res = base, base.log, base.res

    def run(self) -> None:
        self.people()
        self.list_and_accounts()
        self.services_unit()
        self.verification()
        self.general_report()
        self.preissue()
        self.allocate_and_issue()
        self.carbon_inclusion()
        self.surrender_and_collect()
        self.market_and_fine()
        self.summary()

    # -- the bureau, a district bureau, two verification bodies
    def people(self) -> None:
        from cets.parties.models import Organisation, Role
        from cets.parties.services import member_create
        from cets.registry.services import system_accounts_ensure

        from .common import DEMO_PASSWORD

        self.log("· Beijing pilot 2023: bureau, district bureau, verification bodies 北京试点2023年度")
        system_accounts_ensure(market=MARKET, provinces=[PROVINCE])
        bureau_org = self.base.authorities[PROVINCE]
        self.bureau = member_create(username="bj-bureau", organisation=bureau_org, role=Role.PROVINCIAL_AUTHORITY, province=PROVINCE, password=DEMO_PASSWORD)
        # the bureau's second user: signs what bj-bureau proposes (four eyes: the free allocation's pre-issue and final issue)
        self.bureau2 = member_create(username="bj-bureau-2", organisation=bureau_org, role=Role.PROVINCIAL_AUTHORITY, province=PROVINCE,
                                     password=DEMO_PASSWORD)
        district_org, _ = Organisation.objects.get_or_create(kind=Organisation.Kind.AUTHORITY, name="北京市朝阳区生态环境局", uscc=None,
                                                             defaults={"province": PROVINCE, "region_code": DISTRICT})
        self.district = member_create(username="bj-chaoyang", organisation=district_org, role=Role.DISTRICT_AUTHORITY, province=PROVINCE,
                                      district=DISTRICT, password=DEMO_PASSWORD)
        etda_org, _ = Organisation.objects.get_or_create(kind=Organisation.Kind.AUTHORITY, name="北京经济技术开发区管理委员会", uscc=None,
                                                         defaults={"province": PROVINCE})
        self.etda = member_create(username="bj-etda", organisation=etda_org, role=Role.DISTRICT_AUTHORITY, province=PROVINCE, district=ETDA,
                                  password=DEMO_PASSWORD)
        self.bodies = []
        for i, first17 in enumerate(("91110105MA0BJK001", "91110108MA0BJK002")):
            org, _ = Organisation.objects.get_or_create(uscc=uscc(first17), defaults={"name": f"（演示）北京第{i + 1}碳核查技术服务有限公司",
                                                                                        "kind": Organisation.Kind.VERIFIER, "province": PROVINCE})
            self.bodies.append((org, member_create(username=f"bj-verifier-{i + 1}", organisation=org, role=Role.VERIFIER, password=DEMO_PASSWORD)))

    # -- 1. the list (XLSX import, publication) and the units' registry accounts
    def list_and_accounts(self) -> None:
        from cets.parties.list_files import ListRow, write_list_xlsx
        from cets.parties.models import EmitterListPublication, Organisation, Role
        from cets.parties.selectors import list_rules, sector_names_for_list
        from cets.parties.services import emitter_list_import, emitter_list_publish, member_create, members_bulk_create
        from cets.registry.services import account_open

        from .common import DEMO_PASSWORD

        if not EmitterListPublication.objects.filter(market=MARKET, year=YEAR, province=PROVINCE).exists():
            names = sector_names_for_list(MARKET, list_rules(MARKET, YEAR))
            day = dt.date.fromisoformat(DAYS["list"])
            rows = [ListRow(year=YEAR, province=PROVINCE, city="北京市", sector=u.sector, name=u.name, uscc=uscc(u.first17), authority="北京市生态环境局",
                            published_on=day) for u in ENTITIES]
            rows.append(ListRow(year=YEAR, province=PROVINCE, city="北京市", sector=LIST_SECTOR, name=GENERAL[1], uscc=uscc(GENERAL[0]),
                                authority="北京市生态环境局", published_on=day, category="general_reporting"))
            emitter_list_import(market=MARKET, year=YEAR, province=PROVINCE, file_name="北京市2023年度重点碳排放单位名单（演示）.xlsx",
                                data=write_list_xlsx(rows, sector_names=names), actor=self.bureau)
            for sector in sorted({u.sector for u in ENTITIES}):
                emitter_list_publish(market=MARKET, year=YEAR, sector=sector, province=PROVINCE, actor=self.bureau, on=day)
        self.entities = {}
        for u in ENTITIES:
            o = Organisation.objects.get(uscc=uscc(u.first17))
            if o.region_code != u.district or o.province != PROVINCE:
                Organisation.objects.filter(pk=o.pk).update(region_code=u.district, province=PROVINCE)
                o.refresh_from_db()
            account_open(holder=o, market=MARKET)
            self.entities[o.uscc] = (o, u)
        members_bulk_create(specs=[(f"e-{c}", o, Role.ENTITY, "") for c, (o, _u) in self.entities.items()])
        from cets.parties.services import organisation_jurisdiction_set

        etda_unit = self.entities[uscc(ETDA_UNIT)][0]
        if etda_unit.jurisdiction != ETDA:
            organisation_jurisdiction_set(organisation=etda_unit, jurisdiction=ETDA, actor=self.bureau)
        first = self.entities[uscc(ENTITIES[0].first17)][0]
        member_create(username="bj-entity", organisation=first, role=Role.ENTITY, password=DEMO_PASSWORD)
        general = Organisation.objects.get(uscc=uscc(GENERAL[0]))
        if general.region_code != GENERAL[2] or general.province != PROVINCE:
            Organisation.objects.filter(pk=general.pk).update(region_code=GENERAL[2], province=PROVINCE)
            general.refresh_from_db()
        self.general = general
        self.general_user = member_create(username="bj-general", organisation=general, role=Role.ENTITY, password=DEMO_PASSWORD)

    def _user(self, o):
        from cets.parties.models import Membership

        return Membership.objects.get(user__username=f"e-{o.uscc}").user

    # -- 2. verification commissioned by each unit; the bureau's spot check
    def verification(self) -> None:
        from cets.mrv.models import VerificationAssignment
        from cets.mrv.services import verification_assign, verification_commission, verification_outcome_record

        self.log("· Beijing: verification commissioned by the units, the bureau's spot check 自行委托核查、抽查")
        body, verifier = self.bodies[0]
        for c, (o, u) in self.entities.items():
            a = VerificationAssignment.objects.filter(market=MARKET, year=YEAR, entity=o, kind=VerificationAssignment.Kind.REGULAR).first()
            if a is None:
                a = verification_commission(entity=o, year=YEAR, body=body, actor=self._user(o), market=MARKET, sector=u.sector,
                                            at=at(DAYS["commission"]))
            if a.completed_on is None:
                verification_outcome_record(assignment_id=a.pk, actor=verifier, verified_emissions_t=u.verified_t, generation_mwh=None,
                                            heat_supplied_gj=None, conforming=True, completed_on=dt.date.fromisoformat(DAYS["verified"]))
        spot_uscc, spot_t = SPOT_CHECK
        o = self.entities[uscc(spot_uscc)][0]
        s = VerificationAssignment.objects.filter(market=MARKET, year=YEAR, entity=o, kind=VerificationAssignment.Kind.SPOT_CHECK).first()
        if s is None:
            [s] = verification_assign(year=YEAR, province=PROVINCE, entities=[o], bodies=[b for b, _u in self.bodies], seed="demo-beijing-2023",
                                      actor=self.bureau, kind=VerificationAssignment.Kind.SPOT_CHECK, market=MARKET, sector=LIST_SECTOR,
                                      at=at(DAYS["spot"]))
        if s.completed_on is None:
            spot_user = next(user for b, user in self.bodies if b.pk == s.body_id)
            verification_outcome_record(assignment_id=s.pk, actor=spot_user, verified_emissions_t=spot_t, generation_mwh=None, heat_supplied_gj=None,
                                        conforming=True, completed_on=dt.date.fromisoformat(DAYS["spot_done"]))

    # -- the data centre (services): its months, the district's check, the report computed from them, verified per facility
    def services_unit(self) -> None:
        from cets.mrv.facility_services import (
            FacilityFigures,
            LineIn,
            facility_annual_report_generate,
            facility_month_file,
            facility_month_review,
            facility_verification_record,
            facility_year_data_from_verification,
        )
        from cets.mrv.models import AnnualReport, FacilityMonthlyFiling, FacilityYearData, VerificationAssignment
        from cets.mrv.services import annual_report_sign, verification_commission
        from cets.parties.models import Facility, Role
        from cets.parties.services import member_create, totp_device_ensure

        from .common import DEMO_PASSWORD

        self.log("· Beijing: a data centre files its months (green electricity counted zero), its report is computed 数据中心月度数据、核算报告")
        for o, u in self.entities.values():
            if u.sector == LIST_SECTOR:
                continue
            code, name, month, (green, green_mwh, green_months) = DATA_CENTRE
            fac, _ = Facility.objects.get_or_create(entity=o, code=code, defaults={"sector": u.sector, "kind": "data_centre", "name": name,
                                                                                    "source": "demo-generated"})
            login = member_create(username="bj-datacentre", organisation=o, role=Role.ENTITY, password=DEMO_PASSWORD)
            self.res.logins.append(("bj-datacentre", DEMO_PASSWORD, f"{u.name} Beijing services unit (data centre; its report's lines: "
                                                                    f"/mrv/facilities/?year={YEAR}); TOTP secret {totp_device_ensure(user=login)[1]}"))
            if FacilityYearData.objects.filter(facility=fac, year=YEAR).exists():
                continue
            user = self._user(o)
            for m in range(1, 13):
                f = FacilityMonthlyFiling.objects.filter(facility=fac, year=YEAR, month=m, market=MARKET).first()
                if f is None:
                    lines = [LineIn(source=src, material=mat, quantity=Decimal(q)) for src, (mat, q) in month.items()]
                    if m in green_months:
                        lines.append(LineIn(source="green_electricity", material=green, quantity=Decimal(green_mwh)))
                    filed = dt.date(YEAR + 1, 1, 10) if m == 12 else dt.date(YEAR, m + 1, 10)  # within 20 days of month end (三(一)1)
                    f = facility_month_file(facility=fac, year=YEAR, month=m, lines=lines, actor=user, on=filed, market=MARKET)
                if f.status == FacilityMonthlyFiling.Status.SUBMITTED:
                    facility_month_review(filing_id=f.pk, actor=self.district, accept=True, comment="", on=f.submitted_on + dt.timedelta(days=5))
            rep = AnnualReport.objects.filter(entity=o, year=YEAR, market=MARKET, sector=u.sector).first()
            if rep is None or not rep.signed_on:
                rep = facility_annual_report_generate(entity=o, year=YEAR, actor=user, sector=u.sector, market=MARKET, at=at("2024-06-05"))
                if rep.emissions_t != u.verified_t:
                    raise RuntimeError(f"Beijing data centre: report {rep.emissions_t} t, by hand {u.verified_t} t")
                annual_report_sign(report_id=rep.pk, actor=user, on=dt.date(2024, 6, 5))
            body, verifier = self.bodies[0]
            a = VerificationAssignment.objects.filter(market=MARKET, year=YEAR, entity=o, kind=VerificationAssignment.Kind.REGULAR).first()
            if a is None:
                a = verification_commission(entity=o, year=YEAR, body=body, actor=user, market=MARKET, sector=u.sector, at=at(DAYS["commission"]))
            if a.completed_on is None:
                facility_verification_record(assignment_id=a.pk, actor=verifier, conforming=True, completed_on=dt.date.fromisoformat(DAYS["verified"]),
                                             figures=[FacilityFigures(f["facility_id"], f["emissions_t"], f["intensity_emissions_t"], f["output_t"])
                                                      for f in rep.facilities])
            facility_year_data_from_verification(assignment_id=a.pk, actor=self.bureau)

    # -- the general reporting unit's report and the district's check (三(一)2)
    def general_report(self) -> None:
        from cets.mrv.general_reports import general_report_check, general_report_submit
        from cets.mrv.models import GeneralReport

        self.log("· Beijing: a general reporting unit files its report, 朝阳区 checks it 一般报告单位报送、区级数据质量检查")
        _first17, name, _district, emissions, filed, checked = GENERAL
        r = GeneralReport.objects.filter(market=MARKET, year=YEAR, entity=self.general).first()
        if r is None:
            evidence = b"%PDF-1.4\n% DEMO: " + name.encode() + " 2023年度碳排放报告（演示）\n".encode() + b"%%EOF\n"
            r = general_report_submit(entity=self.general, market=MARKET, year=YEAR, emissions_t=emissions, evidence_name="2023年度碳排放报告（演示）.pdf",
                                      evidence=evidence, actor=self.general_user, on=dt.date.fromisoformat(filed))
        if r.status == GeneralReport.Status.SUBMITTED:
            general_report_check(report_id=r.pk, accept=True, actor=self.district, on=dt.date.fromisoformat(checked))

    # -- 3a. the approval basis and the pre-issue by 07-15, before the emissions are determined (four eyes in the bureau)
    def preissue(self) -> None:
        from cets.allocation.models import AllocationBasis
        from cets.allocation.services import allocation_basis_import, preissue_confirm, preissue_preview, preissue_propose
        from cets.core.tables import UploadedTable
        from cets.registry.models import Instrument, Proposal
        from cets.registry.services import proposal_approve

        self.log("· Beijing: approval basis, free allowances pre-issued by 07-15 核定依据、免费配额预发")
        if not AllocationBasis.objects.filter(market=MARKET, year=YEAR).exists():
            lines = ["entity_uscc,method,base,activity,factor,prev_allocation_t,prev_compliant"]
            lines += [f"{uscc(u.first17)},{u.method},{u.base},{u.activity},{u.factor},{u.prev_allocation_t},{'yes' if u.prev_compliant else 'no'}"
                      for u in ENTITIES]
            allocation_basis_import(pack_id=ALLOCATION_PACK, year=YEAR, path=UploadedTable(name="北京2023核定依据（演示）.csv",
                                                                                          data=("\n".join(lines) + "\n").encode()), actor=self.bureau)
        pre_t = sum(ln["pre_issue_t"] for ln in preissue_preview(pack_id=ALLOCATION_PACK, year=YEAR))
        self.bea = create_units(self.base, instrument=Instrument.BEA, vintage=str(YEAR), cap_t=pre_t, key=f"demo-bea-{YEAR}-cap",
                                reference="北京市2023年度免费配额（预发部分，演示）", effective_at=at(DAYS["pre"], 9))
        p = preissue_propose(pack_id=ALLOCATION_PACK, year=YEAR, unit_type=self.bea, actor=self.bureau, client_key=f"demo-{YEAR}-pre",
                             effective_at=at(DAYS["pre"]))
        if p.status == Proposal.Status.PROPOSED:
            proposal_approve(proposal_id=p.pk, approver=self.bureau2)
        preissue_confirm(market=MARKET, year=YEAR)

    # -- 3b. the emissions determined: the free allocation computed and the final issue by 09-15 (final − pre-issued)
    def allocate_and_issue(self) -> None:
        from django.db.models import Sum

        from cets.allocation.models import EntityAllocation, PreIssue
        from cets.allocation.services import allocation_compute, allocation_issue_confirm, allocation_issue_propose
        from cets.registry.models import Instrument, Proposal
        from cets.registry.services import proposal_approve

        self.log("· Beijing: free allocation with the ±20% cap, final issue by 09-15 免费配额核定、核发（多退少补）")
        scope = EntityAllocation.objects.filter(market=MARKET, year=YEAR)
        if not scope.exists():
            allocation_compute(year=YEAR, pack_id=ALLOCATION_PACK, actor=self.bureau)
        total = scope.aggregate(t=Sum("final_allocation_t"))["t"] or 0
        pre_t = PreIssue.objects.filter(market=MARKET, year=YEAR, status=PreIssue.Status.EXECUTED).aggregate(t=Sum("pre_issue_t"))["t"] or 0
        if total > pre_t:
            self.bea = create_units(self.base, instrument=Instrument.BEA, vintage=str(YEAR), cap_t=total - pre_t, key=f"demo-bea-{YEAR}-cap-final",
                                    reference="北京市2023年度免费配额（核发部分，演示）", effective_at=at(DAYS["final"], 9))
        for sector in sorted(set(scope.values_list("sector", flat=True))):  # one issuance per sector (power, the data centre's services)
            if not scope.filter(sector=sector).exclude(stage=EntityAllocation.Stage.FINAL_ISSUED).exists():
                continue
            p = allocation_issue_propose(year=YEAR, stage="final", unit_type=self.bea, actor=self.bureau, market=MARKET, sector=sector,
                                         effective_at=at(DAYS["final"]))
            if p.status == Proposal.Status.PROPOSED:
                proposal_approve(proposal_id=p.pk, approver=self.bureau2)
            allocation_issue_confirm(year=YEAR, stage="final", market=MARKET, sector=sector)

    # -- 4. carbon inclusion: a project, one period confirmed, PCER issued by four eyes (surrendered in step 5)
    def carbon_inclusion(self) -> None:
        from cets.mrv.models import PcerPeriod, PcerProject
        from cets.mrv.pcer_services import pcer_issuance_propose, pcer_period_confirm, pcer_period_submit, pcer_project_approve, pcer_project_register
        from cets.registry.models import Proposal
        from cets.registry.services import proposal_approve

        self.log("· Beijing: a carbon-inclusion project, its 2023 period confirmed, PCER issued 碳普惠项目减排量签发")
        owner, _u = self.entities[uscc(ENTITIES[0].first17)]
        name, methodology, location, activity = PCER_PROJECT
        p = PcerProject.objects.filter(owner=owner, name=name).first() or pcer_project_register(owner=owner, name=name, methodology=methodology,
                                                                                                  location=location, actor=self._user(owner))
        if p.status == PcerProject.Status.SUBMITTED:
            pcer_project_approve(project_id=p.pk, actor=self.bureau)
        start, end = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
        q = PcerPeriod.objects.filter(project=p, start=start).first() or pcer_period_submit(project_id=p.pk, start=start, end=end, activity=activity,
                                                                                              actor=self._user(owner))
        if q.status == PcerPeriod.Status.SUBMITTED:
            q = pcer_period_confirm(period_id=q.pk, actor=self.bureau)
        for _step in ("create", "issue"):
            q.refresh_from_db()
            if q.issued:
                break
            waiting = q.issue_proposal or q.create_proposal
            if waiting is None or waiting.status == Proposal.Status.EXECUTED:
                waiting = pcer_issuance_propose(period_id=q.pk, actor=self.base.registry_a, effective_at=at(DAYS["pcer_issue"], 10))
            if waiting.status == Proposal.Status.PROPOSED:
                proposal_approve(proposal_id=waiting.pk, approver=self.base.registry_b)
        self.pcer_period = q

    # -- 5. obligations, surrender, automatic collection after the deadline
    def surrender_and_collect(self) -> None:
        from cets.compliance.models import Obligation, SurrenderApplication
        from cets.compliance.services import collection_propose, obligations_create, surrender_approve, surrender_submit
        from cets.registry.models import Holding, Position, Proposal
        from cets.registry.services import proposal_approve

        self.log("· Beijing: obligations, surrender by 2024-11-15, automatic collection 清缴、逾期自动收缴")
        from cets.compliance.selectors import status_of

        obligations_create(year=YEAR, pack_id=COMPLIANCE_PACK)
        pcer_owner = self.pcer_period.project.owner_id
        for c, (o, u) in self.entities.items():
            if u.outcome == "collected":
                continue
            ob = Obligation.objects.get(market=MARKET, year=YEAR, entity=o)
            if o.pk == pcer_owner:  # the PCER first, before the offset cut-off (10-15), within 5% of the determined emissions
                pkey = f"demo-bj-{YEAR}-surrender-pcer-{c}"
                pcer = Holding.objects.filter(account__holder=o, account__market=MARKET, unit_type__code=f"PCER-{YEAR}", position=Position.REGISTRY).first()
                if pcer and pcer.quantity and not SurrenderApplication.objects.filter(key=pkey).exists():
                    q = min(pcer.quantity, ob.offset_cap_t or 0)
                    app = surrender_submit(key=pkey, entity=o, year=YEAR, unit_type_code=f"PCER-{YEAR}", quantity=q, actor=self._user(o),
                                           at=at(DAYS["pcer_surrender"]), market=MARKET)
                    surrender_approve(application_id=app.pk, approver=self.bureau, at=at(DAYS["pcer_surrender"], 15))
            held = Holding.objects.filter(account__holder=o, account__market=MARKET, unit_type=self.bea, position=Position.REGISTRY).first()
            q = min(ob.obligation_t - status_of(obligation=ob).surrendered_t, held.quantity if held else 0)
            key = f"demo-bj-{YEAR}-surrender-{c}"
            if q <= 0 or SurrenderApplication.objects.filter(key=key).exists():
                continue
            app = surrender_submit(key=key, entity=o, year=YEAR, unit_type_code=self.bea.code, quantity=q, actor=self._user(o), at=at(DAYS["surrender"]),
                                   market=MARKET)
            surrender_approve(application_id=app.pk, approver=self.bureau, at=at(DAYS["surrender"], 15))
        p = collection_propose(key=f"demo-bj-{YEAR}-collection", pack_id=COMPLIANCE_PACK, year=YEAR, actor=self.base.registry_a,
                               effective_at=at(DAYS["collect"]))
        if p.status == Proposal.Status.PROPOSED:
            proposal_approve(proposal_id=p.pk, approver=self.base.registry_b)

    # -- 5. the market's six months before the deadline, and the fine of the unit that fell short
    def market_and_fine(self) -> None:
        from cets.compliance.models import Obligation, PenaltyDecision
        from cets.compliance.services import penalty_decide
        from cets.trading.models import DailyStat
        from cets.trading.replay_totals import replay_totals_run

        from .common import data_dir

        start, end = dt.date.fromisoformat(DAYS["price_from"]), dt.date.fromisoformat(DAYS["price_to"])
        if not DailyStat.objects.filter(market=MARKET, date__gte=start, date__lte=end).exists():
            self.log("· Beijing: the exchange's real BEA days of the six months before the deadline, replayed 北京市场成交回放")
            rep = replay_totals_run(market=MARKET, path=data_dir() / "cn-pilots-bj-tj-gd-hb" / "beijing_bea_daily.csv", start=start, end=end)
            if not rep.ok:
                raise RuntimeError(f"Beijing replay: {len(rep.engine)} engine mismatch(es)")
        for c, (o, u) in self.entities.items():
            if u.outcome != "short":
                continue
            ob = Obligation.objects.get(market=MARKET, year=YEAR, entity=o)
            if not PenaltyDecision.objects.filter(obligation=ob).exists():
                self.log("· Beijing: the bureau decides the fine (3 × the market's average price) 罚款决定")
                penalty_decide(obligation_id=ob.pk, reference="京环罚〔2024〕演示1号", reason="首次未足额清缴，按下限（演示）", actor=self.bureau,
                               multiple="3", at=at(DAYS["fine"]))

    def summary(self) -> None:
        from django.db.models import Sum

        from cets.allocation.models import EntityAllocation
        from cets.compliance.selectors import outcome_counts, surrendered_by_instrument

        a = EntityAllocation.objects.filter(market=MARKET, year=YEAR).aggregate(e=Sum("verified_emissions_t"), f=Sum("final_allocation_t"),
                                                                                i=Sum("issued_t"))
        from cets.allocation.models import PreIssue

        c = {"entities": len(self.entities), "determined_t": a["e"] or 0, "allocated_t": a["f"] or 0, "issued_t": a["i"] or 0,
             "preissued_t": PreIssue.objects.filter(market=MARKET, year=YEAR, status=PreIssue.Status.EXECUTED).aggregate(t=Sum("pre_issue_t"))["t"] or 0,
             "true_up_t": EntityAllocation.objects.filter(market=MARKET, year=YEAR, stage=EntityAllocation.Stage.FINAL_ISSUED)
             .aggregate(t=Sum("final_issue_t"))["t"] or 0,
             "surrendered_t": sum(surrendered_by_instrument(year=YEAR, market=MARKET).values())}
        c.update({f"outcome_{k}": v for k, v in outcome_counts(year=YEAR, market=MARKET).items()})
        from cets.compliance.models import PenaltyDecision

        fines = list(PenaltyDecision.objects.filter(obligation__market=MARKET, obligation__year=YEAR).values_list("fine_fen", "price_fen"))
        c["fines"], c["fine_fen"] = len(fines), sum(f for f, _ in fines)
        c["fine_price_fen"] = fines[0][1] if fines else 0
        from cets.mrv.models import GeneralReport, PcerPeriod

        c["pcer_issued_t"] = sum(q.reduction_t for q in PcerPeriod.objects.filter(project__owner__accounts__market=MARKET).select_related("issue_proposal")
                                 if q.issued)
        c["general_reports_accepted"] = GeneralReport.objects.filter(market=MARKET, year=YEAR, status=GeneralReport.Status.ACCEPTED).count()
        self.res.counts_beijing = c
        from cets.parties.models import Membership
        from cets.parties.services import totp_device_ensure

        from .common import DEMO_PASSWORD

        secret = {u: totp_device_ensure(user=Membership.objects.get(user__username=u).user)[1] for u in ("bj-bureau", "bj-bureau-2", "bj-chaoyang", "bj-etda",
                                                                                                "bj-entity", "bj-general")}
        self.res.logins += [
            ("bj-bureau", DEMO_PASSWORD, f"北京市生态环境局 Beijing bureau (pilot market, province 11); TOTP secret {secret['bj-bureau']}"),
            ("bj-bureau-2", DEMO_PASSWORD, f"北京市生态环境局 Beijing bureau, second user (signs bj-bureau's proposals); TOTP secret {secret['bj-bureau-2']}"),
            ("bj-chaoyang", DEMO_PASSWORD, f"朝阳区生态环境局 district authority (朝阳区 110105 only); TOTP secret {secret['bj-chaoyang']}"),
            ("bj-etda", DEMO_PASSWORD, f"北京经济技术开发区 district-level authority (code 11ETDA, ours; its one unit); TOTP secret {secret['bj-etda']}"),
            ("bj-entity", DEMO_PASSWORD, f"{ENTITIES[0].name} Beijing key emitter; TOTP secret {secret['bj-entity']}"),
            ("bj-general", DEMO_PASSWORD, f"{GENERAL[1]} general reporting unit 一般报告单位 (朝阳区); TOTP secret {secret['bj-general']}"),
            ("bj-verifier-1", DEMO_PASSWORD, "（演示）北京第1碳核查技术服务有限公司 verification body"),
        ]
