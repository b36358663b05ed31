"""``cets demo``: one real compliance year (national power sector, 2023) run end to end.

Real input: the 2023 power key emitting entities of the official verification disclosures
(``data/cets-verification-entities``) and the national CCER registry's registered reductions
(``data/ccer-national``). Generated input (DEMO, not real): each entity's generating units and
their 2022/2023 verified data (:mod:`cets.demo.fleet`), and the year's trades between entities
(CEA on the exchange: listing and block agreements, settled delivery versus payment).

Every step goes through the platform's own services (import, allocation, four-eyes issuance,
transfers, surrender applications and provincial approval) and is idempotent: running the demo
twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Sum

from cets.rules.markets import PRIMARY_MARKET

from .common import DEMO_PASSWORD, SHANGHAI, _entity_users, _province_users, _rank, at, create_units, data_dir, issue_notices, submit_tables  # noqa: F401

YEAR = 2023
PACK_ID = "national/power-2023-2024"
DEMO_PROVINCE = "37"  # 山东省: the province with the most power entities after Zhejiang











@dataclass
class DemoResult:
    counts: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    import_problems: list[str] = field(default_factory=list)
    audit_ok: bool = False
    audit_problems: list[str] = field(default_factory=list)
    #: compliance year 2024 (:mod:`cets.demo.year2024`): counts, and one row per sector
    counts_2024: dict[str, int] = field(default_factory=dict)
    sectors_2024: list = field(default_factory=list)
    #: the what-if runs against 2024 (cets.demo.year2024.WHATIF): name → cets.allocation.whatif.WhatIfRun
    whatif_2024: dict = field(default_factory=dict)
    #: the Beijing pilot's compliance year 2023 (:mod:`cets.demo.beijing`)
    counts_beijing: dict[str, int] = field(default_factory=dict)
    #: supervision over the demo's records (:mod:`cets.demo.supervision`): surveillance alerts, decisions, reports, findings, credit
    counts_supervision: dict[str, int] = field(default_factory=dict)


def run_demo(*, seed: int = 2023, log=print) -> DemoResult:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    res = DemoResult()
    step = _Steps(seed=seed, log=log, res=res)
    step.accounts_and_people()
    step.import_entities()
    step.generate_units()
    step.allocate_and_issue()
    step.ccer()
    step.trade()
    step.notices()
    step.surrender()
    from .year2024 import Year2024

    Year2024(step).run()  # after 2023, so that 2023 stays exactly as it was
    from .supervision import SupervisionDemo

    supervision = SupervisionDemo(step)
    supervision.run()  # over both years' trades and records; changes no obligation or outcome
    from .beijing import BeijingYear

    BeijingYear(step).run()  # the pilot market beside the national one
    from .participants import Participants

    Participants(step).run()  # an individual, an institution (national and CCER accounts) and an exchange member
    supervision.after_beijing()  # the credit records of every event, Beijing's penalty included
    step.summary()  # 2023's figures, then the audit of the whole journal
    return res





class _Steps:
    def __init__(self, *, seed: int, log, res: DemoResult) -> None:
        self.seed, self.log, self.res = seed, log, res

    # -- 1. registry system accounts and the demo's people
    def accounts_and_people(self) -> None:
        from cets.core.regions import PROVINCES
        from cets.parties.models import Organisation, Role
        from cets.parties.services import member_create
        from cets.registry.services import system_accounts_ensure

        self.log("· registry system accounts 注册登记系统账户")
        system_accounts_ensure(market="national", provinces=sorted(PROVINCES))
        mee, _ = Organisation.objects.get_or_create(kind=Organisation.Kind.AUTHORITY, name="生态环境部", uscc=None, defaults={"province": ""})
        reg, _ = Organisation.objects.get_or_create(kind=Organisation.Kind.REGISTRY, name="全国碳排放权注册登记机构", uscc=None)
        self.authorities = {}
        for code, (zh, _en) in PROVINCES.items():
            org, _ = Organisation.objects.get_or_create(kind=Organisation.Kind.AUTHORITY, name=f"{zh}生态环境厅", uscc=None, defaults={"province": code})
            self.authorities[code] = org
        self.mee = member_create(username="mee", organisation=mee, role=Role.NATIONAL_AUTHORITY, password=DEMO_PASSWORD)
        self.registry_a = member_create(username="registry-a", organisation=reg, role=Role.REGISTRY_OPERATOR, password=DEMO_PASSWORD)
        self.registry_b = member_create(username="registry-b", organisation=reg, role=Role.REGISTRY_OPERATOR, password=DEMO_PASSWORD)
        exch, _ = Organisation.objects.get_or_create(kind=Organisation.Kind.EXCHANGE, name="全国碳排放权交易机构", uscc=None)
        self.exchange = member_create(username="exchange", organisation=exch, role=Role.EXCHANGE_OPERATOR, password=DEMO_PASSWORD)
        from cets.parties.services import staff_grant_view, totp_device_ensure

        for u in (self.mee, self.registry_a, self.registry_b):
            staff_grant_view(user=u)
        # Everyone who moves units or money signs in with a dynamic code (parties.access.SECOND_FACTOR_ROLES): the demo
        # prints each such login's TOTP secret (any authenticator app, or `oathtool --totp -b SECRET`).
        secrets = {u.username: totp_device_ensure(user=u)[1] for u in (self.registry_a, self.registry_b, self.exchange)}
        self.res.logins += [
            ("mee", DEMO_PASSWORD, "生态环境部 national authority"),
            ("registry-a", DEMO_PASSWORD, f"注册登记机构 registry operator (proposes); TOTP secret {secrets['registry-a']}"),
            ("registry-b", DEMO_PASSWORD, f"注册登记机构 registry operator (approves); TOTP secret {secrets['registry-b']}"),
            ("exchange", DEMO_PASSWORD, f"交易机构 exchange operator; TOTP secret {secrets['exchange']}"),
        ]

    # -- 2. real key emitting entities
    def import_entities(self) -> None:
        from cets.mrv.services import disclosures_import
        from cets.parties.models import Organisation, Role
        from cets.parties.services import member_create, members_bulk_create

        path = data_dir() / "cets-verification-entities" / "verification_targets.csv"
        self.log(f"· import real key emitting entities 导入重点排放单位 ({path.name}, power 2023)")
        result = disclosures_import(path=path, sector="power", year=YEAR)
        self.res.import_problems = [str(p) for p in result.problems]
        self.res.counts.update({f"import_{k}": v for k, v in result.counts.items()})
        self.entities = list(
            Organisation.objects.filter(
                list_entries__market="national", list_entries__year=YEAR, list_entries__sector="power", list_entries__included=True
            ).order_by("uscc")
        )
        from cets.registry.services import account_open

        for e in self.entities:
            account_open(holder=e)
        members_bulk_create(specs=[(f"e-{e.uscc}", e, Role.ENTITY, "") for e in self.entities])
        members_bulk_create(specs=[(f"p-{code}", org, Role.PROVINCIAL_AUTHORITY, code) for code, org in self.authorities.items()])
        self.demo_entity = next(e for e in self.entities if e.province == DEMO_PROVINCE)
        from cets.parties.services import totp_device_ensure

        province = member_create(
            username="province-37", organisation=self.authorities[DEMO_PROVINCE], role=Role.PROVINCIAL_AUTHORITY, province=DEMO_PROVINCE, password=DEMO_PASSWORD
        )
        entity = member_create(username="entity-demo", organisation=self.demo_entity, role=Role.ENTITY, password=DEMO_PASSWORD)
        secrets = {u.username: totp_device_ensure(user=u)[1] for u in (province, entity)}
        self.res.logins += [
            ("province-37", DEMO_PASSWORD, f"山东省生态环境厅 provincial authority (Shandong only); TOTP secret {secrets['province-37']}"),
            ("entity-demo", DEMO_PASSWORD, f"{self.demo_entity.name} key emitting entity; TOTP secret {secrets['entity-demo']}"),
        ]

    # -- 3. generated units and verified data (DEMO data)
    def generate_units(self) -> None:
        from cets.mrv.models import UnitYearData
        from cets.mrv.services import unit_year_data_upsert
        from cets.parties.models import GeneratingUnit
        from cets.parties.services import units_upsert

        from .fleet import EntitySeed, generate_fleet

        self.log("· generate units and 2022/2023 verified data 生成机组与核查数据 (demo data, fixed seed)")
        fleet = generate_fleet([EntitySeed(e.uscc, e.name, e.province) for e in self.entities], seed=self.seed, years=(YEAR - 1, YEAR))
        ids = {e.uscc: e.pk for e in self.entities}
        units_upsert(
            units=[
                GeneratingUnit(entity_id=ids[g.entity_uscc], code=g.code, category=g.category, rated_capacity_mw=g.rated_capacity_mw, source="demo-generated")
                for g in fleet
            ]
        )
        unit_ids = {(e, c): pk for pk, e, c in GeneratingUnit.objects.values_list("pk", "entity_id", "code")}
        rows = []
        for g in fleet:
            for year, y in g.years.items():
                rows.append(
                    UnitYearData(
                        unit_id=unit_ids[(ids[g.entity_uscc], g.code)],
                        year=year,
                        generation_mwh=y.generation_mwh,
                        heat_supplied_gj=y.heat_supplied_gj,
                        load_factor=y.load_factor,
                        verified_emissions_t=y.verified_emissions_t,
                        source="demo-generated",
                    )
                )
        unit_year_data_upsert(rows=rows)

    # -- 4. allocation, cap, four-eyes issuance of pre-allocation and final allocation
    def allocate_and_issue(self) -> None:
        from cets.allocation.models import EntityAllocation
        from cets.allocation.services import allocation_compute, allocation_issue_confirm, allocation_issue_propose
        from cets.registry.models import Instrument, Proposal, UnitType
        from cets.registry.services import proposal_approve

        if not EntityAllocation.objects.filter(year=YEAR, market=PRIMARY_MARKET).exists():
            self.log(f"· allocation {YEAR} 配额核算 ({PACK_ID})")
            allocation_compute(year=YEAR, pack_id=PACK_ID)
        tot = EntityAllocation.objects.filter(year=YEAR, market=PRIMARY_MARKET).aggregate(final=Sum("final_allocation_t"), pre=Sum("pre_allocation_t"))
        cap = max(tot["final"], tot["pre"])
        self.log(f"· vintage CEA-{YEAR}, cap {cap:,} t 创设配额")
        ut = create_units(self, instrument=Instrument.CEA, vintage=str(YEAR), cap_t=cap, key=f"cap-CEA-{YEAR}",
                          reference=f"{YEAR}年度配额总量 cap (Σ final allocation)", effective_at=at("2024-10-16"))
        for stage, day in (("pre", "2024-11-15"), ("final", "2024-12-06")):
            want = {"pre": EntityAllocation.Stage.COMPUTED, "final": EntityAllocation.Stage.PRE_ISSUED}[stage]
            submit_tables(self, year=YEAR, sector="power", stage=stage, day="2024-10-24")  # both stages' tables by 2024-10-24
            if stage == "final":
                self.resolve_verification_blocks(at("2024-12-02"))
            if EntityAllocation.objects.filter(year=YEAR, market=PRIMARY_MARKET, stage=want).exists():
                self.log(f"· issue {stage} allocation 发放 ({'预分配' if stage == 'pre' else '核定'}): registry-a proposes, registry-b approves")
                p = allocation_issue_propose(year=YEAR, stage=stage, unit_type=ut, actor=self.registry_a, effective_at=at(day))
                if p.status == Proposal.Status.PROPOSED:
                    proposal_approve(proposal_id=p.pk, approver=self.registry_b)
                allocation_issue_confirm(year=YEAR, stage=stage)
        self.cea = UnitType.objects.get(code=f"CEA-{YEAR}")

    def notices(self) -> None:
        """The compliance notices of the year, issued by the registry once the final allocation is issued."""
        n = issue_notices(self, year=YEAR, day="2024-12-06")
        if n:
            self.log(f"· {YEAR}: {n:,} compliance notices issued 履约通知书")

    def resolve_verification_blocks(self, when, year: int = YEAR) -> None:
        """The real 不符合 conclusions of ``year`` block final allocation (mrv.selectors.verification_blocks); the
        demo has each entity's provincial authority record a determination before the final issuance."""
        from django.contrib.auth import get_user_model

        from cets.mrv.models import VerificationRecord
        from cets.mrv.services import verification_resolve

        open_ = list(VerificationRecord.objects.filter(year=year, conforming=False, resolved_at__isnull=True).select_related("entity"))
        if not open_:
            return
        self.log(f"· {len(open_)} 不符合 verification conclusions block final allocation; provinces record determinations 核定 (demo)")
        users = {u.membership.province: u for u in get_user_model().objects.filter(username__startswith="p-").select_related("membership")}
        for r in open_:
            verification_resolve(
                record_id=r.pk,
                actor=users.get(r.entity.province, self.mee),
                resolution=VerificationRecord.Resolution.DETERMINED,
                note="演示：主管部门核定排放量 demo determination",
                at=when,
            )

    # -- 5. real CCER registered before the deadline
    def ccer(self) -> None:
        from cets.registry.ccer import ccer_registry_import

        d = data_dir() / "ccer-national"
        self.log("· CCER registry: real registered reductions up to 2024-12-31 国家核证自愿减排量")
        c = ccer_registry_import(
            projects_csv=d / "ccer_projects_and_reductions.csv", detail_csv=d / "ccer_reduction_annual_detail.csv", issued_until=dt.date(YEAR + 1, 12, 31)
        )
        self.res.counts["ccer_projects"] = c["projects"]

    # -- 6. trades between entities on the exchange (listing and block agreements, settled DVP)
    def trade(self) -> None:
        from cets.compliance.models import Obligation
        from cets.compliance.services import obligations_create
        from cets.registry.models import Account, AccountKind, Holding, Instrument
        from cets.registry.services import holding_transfer, position_move
        from cets.trading import services as ex
        from cets.trading.funds import funds_deposit
        from cets.trading.models import DailyQuote

        obligations_create(year=YEAR, pack_id=PACK_ID)
        self.log("· trading 交易: listing and block agreements on the exchange, settled delivery versus payment")
        obligations = {o.entity_id: o for o in Obligation.objects.filter(year=YEAR, market=PRIMARY_MARKET)}
        accounts = {a.holder_id: a for a in Account.objects.filter(market="national", kind=AccountKind.ENTITY)}
        users = dict((m_org, u) for u, m_org in _entity_users())
        holding = {h.account_id: h.quantity for h in Holding.objects.filter(unit_type=self.cea, position="registry")}
        order = sorted(self.entities, key=lambda e: _rank(self.seed, e.uscc))
        need = {e.pk: obligations[e.pk].obligation_t - holding.get(accounts[e.pk].pk, 0) for e in order}
        # Two entities that must buy will fall short (incomplete); two others surrender after the deadline (late),
        # like the real 2023 outcome (2,107 units: 2,103 on time, 2 late, 2 incomplete; coverage stats file).
        self.incomplete = {e.pk for e in [e for e in order if need[e.pk] > 0][:2]}
        self.late = {e.pk for e in [e for e in order if e.pk not in self.incomplete][:2]}
        day = dt.date(2024, 12, 10)
        if DailyQuote.objects.filter(market="national", instrument="CEA23", date=day).exists():
            return  # the trading day was run and closed
        # CCER offered by their owners, oldest batch first; a buyer takes up to its offset cap. CCER is not listed on
        # the platform's exchange (its trading pack lists CEA only), so these purchases settle as registry transfers.
        ccer_holdings = list(
            Holding.objects.filter(unit_type__instrument=Instrument.CCER, account__kind=AccountKind.CCER_HOLDING, position="registry")
            .select_related("account__holder", "unit_type")
            .order_by("unit_type__code")
        )
        from cets.parties.models import Role
        from cets.parties.services import member_create

        sold: dict[int, int] = {}
        n = 0
        for e in order:
            if need[e.pk] <= 0 or not ccer_holdings or e.pk in self.incomplete:
                continue
            want = min(need[e.pk], obligations[e.pk].offset_cap_t)
            for h in ccer_holdings:
                q = min(want, h.quantity - sold.get(h.pk, 0))
                if q <= 0:
                    continue
                seller = member_create(username=f"o-{h.account.holder_id}", organisation=h.account.holder, role=Role.TRADER)
                holding_transfer(
                    key=f"demo-ccer-{YEAR}-{e.uscc}-{h.unit_type.code}",
                    from_account=h.account,
                    to_account=accounts[e.pk],
                    unit_type=h.unit_type,
                    quantity=q,
                    actor=seller,
                    reference="CCER 协议转让 purchase (registry transfer)",
                    effective_at=at("2024-12-09", 10, n % 50),
                )
                sold[h.pk] = sold.get(h.pk, 0) + q
                want -= q
                need[e.pk] -= q
                n += 1
        # CEA-2023 on the exchange on 2024-12-10, around the real published close of CEA23 on 2024-12-09 (99.78 CNY/t).
        ex.day_open(market="national", instrument="CEA23", day=day, prev_close_fen=9_978)
        block_min = ex.market_rules("national", day).limits.block_min_t
        sellers = [e for e in order if need[e.pk] < 0]
        buyers = [e for e in order if need[e.pk] > 0]
        for s in sellers:
            position_move(
                key=f"demo-{YEAR}-to-trading-{s.uscc}",
                account=accounts[s.pk],
                unit_type=self.cea,
                from_position="registry",
                to_position="trading",
                quantity=-need[s.pk],
                actor=users[s.pk],
                effective_at=at("2024-12-10", 9, 0),
            )
        si = 0
        for i, b in enumerate(buyers):
            want = need[b.pk]
            if b.pk in self.incomplete:
                want = want - max(1, obligations[b.pk].obligation_t // 20)  # short by about 5% of the obligation
            if want <= 0:
                continue
            price = 9_978 + (i % 9) - 4  # within a few fen of the reference
            funds_deposit(
                key=f"demo-{YEAR}-deposit-{b.uscc}",
                holder=b,
                amount_fen=want * price + want * price // 1000 + 100,
                actor=self.exchange,
                at=at("2024-12-10", 9, 0),
            )
            bought = 0
            while want > 0 and si < len(sellers):
                s = sellers[si]
                q = min(want, -need[s.pk])
                key = f"demo-{YEAR}-{s.uscc}-{b.uscc}"
                if q >= block_min:  # a directed block agreement in the afternoon session
                    o = ex.order_place(
                        key=key,
                        participant=s,
                        instrument="CEA23",
                        method="block",
                        side="S",
                        price_fen=price,
                        quantity_t=q,
                        counterparty=b,
                        actor=users[s.pk],
                        at=at("2024-12-10", 13, 30),
                    )
                    ex.order_take(key=f"{key}-confirm", participant=b, quote_seq=o.seq, quantity_t=q, actor=users[b.pk], at=at("2024-12-10", 13, 31))
                else:  # a listing quote taken in full
                    o = ex.order_place(
                        key=key,
                        participant=s,
                        instrument="CEA23",
                        method="listing",
                        side="S",
                        price_fen=price,
                        quantity_t=q,
                        actor=users[s.pk],
                        at=at("2024-12-10", 10, 0),
                    )
                    ex.order_take(key=f"{key}-take", participant=b, quote_seq=o.seq, quantity_t=q, actor=users[b.pk], at=at("2024-12-10", 10, 1))
                bought += q
                need[s.pk] += q
                need[b.pk] -= q
                want -= q
                if need[s.pk] == 0:
                    si += 1
            if bought:  # bought units arrive in the trading position; surrender needs them in the registry position
                position_move(
                    key=f"demo-{YEAR}-to-registry-{b.uscc}",
                    account=accounts[b.pk],
                    unit_type=self.cea,
                    from_position="trading",
                    to_position="registry",
                    quantity=bought,
                    actor=users[b.pk],
                    effective_at=at("2024-12-10", 15, 30),
                )
        ex.day_close(market="national", instrument="CEA23", day=day)
        self.res.counts["entities_short_after_trading"] = sum(1 for e in order if need[e.pk] > 0 and e.pk not in self.incomplete)

    # -- 7. surrender applications and provincial approval
    @transaction.atomic
    def surrender(self) -> None:
        from cets.compliance.models import Obligation, SurrenderApplication
        from cets.compliance.services import surrender_approve, surrender_submit
        from cets.registry.models import Account, AccountKind, Holding, Instrument

        self.log("· surrender 清缴: entities apply, provinces approve")
        users = dict((org, u) for u, org in _entity_users())
        province_users = _province_users()
        accounts = {a.holder_id: a for a in Account.objects.filter(market="national", kind=AccountKind.ENTITY)}
        obligations = {o.entity_id: o for o in Obligation.objects.filter(year=YEAR, market=PRIMARY_MARKET)}
        done = set(SurrenderApplication.objects.filter(obligation__year=YEAR).values_list("obligation__entity_id", flat=True))
        order = sorted(self.entities, key=lambda e: _rank(self.seed + 1, e.uscc))
        for i, e in enumerate(order):
            ob = obligations[e.pk]
            if e.pk in done:
                continue
            if e.pk in self.late:
                sub, dec = at("2025-01-08", 10, i % 60), at("2025-01-10", 15)
            else:
                day = dt.date(2024, 12, 10) + dt.timedelta(days=i % 15)
                sub, dec = at(day.isoformat(), 9 + i % 6, i % 60), at((day + dt.timedelta(days=2)).isoformat(), 16)
            left = ob.obligation_t
            held = Holding.objects.filter(account=accounts[e.pk], position="registry", quantity__gt=0).select_related("unit_type__project")
            # CCER first (within its cap), then allowances.
            for h in sorted(held, key=lambda h: (h.unit_type.instrument != Instrument.CCER, h.unit_type.code)):
                q = min(left, h.quantity)
                if q <= 0:
                    continue
                key = f"surrender-{YEAR}-{e.uscc}-{h.unit_type.code}"
                app = surrender_submit(key=key, entity=e, year=YEAR, unit_type_code=h.unit_type.code, quantity=q, actor=users[e.pk], at=sub)
                if app.status == SurrenderApplication.Status.SUBMITTED:
                    surrender_approve(application_id=app.pk, approver=province_users[e.province], at=dec)
                left -= q

    # -- 8. summary and audit
    def summary(self) -> None:
        from cets.allocation.models import EntityAllocation
        from cets.compliance.selectors import outcome_counts, surrendered_by_instrument
        from cets.parties.models import GeneratingUnit
        from cets.registry.audit import audit_verify

        national = EntityAllocation.objects.filter(year=YEAR, market=PRIMARY_MARKET)
        a = national.aggregate(
            e=Sum("verified_emissions_t"), pre=Sum("pre_allocation_t"), final=Sum("final_allocation_t"), top=Sum("shortfall_topup_t")
        )
        s = surrendered_by_instrument(year=YEAR)
        c = self.res.counts
        c.update(
            {
                "entities": national.count(),
                "units": GeneratingUnit.objects.filter(entity__allocations__year=YEAR, entity__allocations__market=PRIMARY_MARKET).count(),
                "verified_emissions_t": a["e"] or 0,
                "pre_allocated_t": a["pre"] or 0,
                "final_allocated_t": a["final"] or 0,
                "shortfall_topup_t": a["top"] or 0,
                "surrendered_cea_t": s.get("CEA", 0),
                "surrendered_ccer_t": s.get("CCER", 0),
            }
        )
        for k, v in outcome_counts(year=YEAR).items():
            c[f"outcome_{k}"] = v
        report = audit_verify()
        self.res.audit_ok = report.ok
        self.res.audit_problems = report.problems
        c["journal_entries"] = report.transfers
