"""A small world for the web pages, built with the platform's own services (no mocks).

Two provinces: Shandong (37) with two entities, Zhejiang (33) with one. The 2023 allocation is
computed from verified unit data, issued in two stages with four eyes, obligations are created,
and surrenders are approved so that the three entities end on time, incomplete and late.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2023
PACK_ID = "national/power-2023-2024"
PASSWORD = "web-test-password-2023"

# Real credit codes of the 2023 power list (data/cets-verification-entities); names are test names.
SD_1 = "913700001630435316"
SD_2 = "91370100163155357D"
ZJ_1 = "91330800586289189R"
VERIFIER = "12100000400018613T"
NAMES = {SD_1: "鲁网测一号热电有限公司", SD_2: "鲁网测二号发电有限公司", ZJ_1: "浙网测燃气热电有限公司"}


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), SHANGHAI)


@dataclass
class WebWorld:
    sd1: object
    sd2: object
    zj1: object
    mee: object
    province_sd: object
    province_zj: object
    entity_sd1: object
    registry_a: object
    registry_b: object
    nobody: object


# (entity, unit code, category, MW, generation MWh, heat GJ, load factor, emissions 2023, emissions 2022)
UNITS = [
    (SD_1, "#1", "I", "660", "1000000", "0", "0.80", 700_000, 680_000),
    (SD_2, "#1", "II", "300", "400000", "100000", "0.50", 500_000, 480_000),
    (ZJ_1, "G1", "IV", "400", "500000", "0", "0.50", 200_000, 190_000),
]


@pytest.fixture
def web(db) -> WebWorld:
    from django.contrib.auth import get_user_model

    from cets.allocation.models import EntityAllocation
    from cets.allocation.services import allocation_compute, allocation_issue_confirm, allocation_issue_propose
    from cets.compliance.services import obligations_create, surrender_approve, surrender_submit
    from cets.mrv.models import UnitYearData
    from cets.mrv.services import unit_year_data_upsert, verification_records_upsert
    from cets.parties.models import GeneratingUnit, Organisation, Role
    from cets.parties.services import member_create, units_upsert
    from cets.registry.models import Instrument
    from cets.registry.services import account_open, proposal_approve, system_accounts_ensure, vintage_create

    system_accounts_ensure(market="national", provinces=["33", "37"])
    orgs = {u: Organisation.objects.create(uscc=u, name=n, kind=Organisation.Kind.ENTITY, region_code=u[2:8], province=u[2:4])
            for u, n in NAMES.items()}
    for o in orgs.values():
        account_open(holder=o)
    verifier = Organisation.objects.create(uscc=VERIFIER, name="网测核查技术服务有限公司", kind=Organisation.Kind.VERIFIER, province="")
    verification_records_upsert(records=[(YEAR, "power", orgs[SD_1].pk, verifier.pk, "VER-T001", True, True)], source="test")
    units_upsert(units=[GeneratingUnit(entity=orgs[e], code=c, category=cat, rated_capacity_mw=Decimal(mw)) for e, c, cat, mw, *_ in UNITS])
    unit_ids = {(u.entity.uscc, u.code): u.pk for u in GeneratingUnit.objects.select_related("entity")}
    rows = []
    for e, c, _cat, _mw, gen, heat, lf, em23, em22 in UNITS:
        for year, em in ((YEAR, em23), (YEAR - 1, em22)):
            rows.append(UnitYearData(unit_id=unit_ids[(e, c)], year=year, generation_mwh=Decimal(gen), heat_supplied_gj=Decimal(heat),
                                     load_factor=Decimal(lf), verified_emissions_t=em))
    unit_year_data_upsert(rows=rows)

    reg = Organisation.objects.create(kind=Organisation.Kind.REGISTRY, name="网测注册登记机构")
    mee_org = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="网测生态环境部")
    sd_auth = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="网测山东省生态环境厅", province="37")
    zj_auth = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="网测浙江省生态环境厅", province="33")
    # Users have unusable passwords and log in with force_login; ``with_password`` gives one a real (argon2) one.
    w = WebWorld(
        sd1=orgs[SD_1], sd2=orgs[SD_2], zj1=orgs[ZJ_1],
        mee=member_create(username="w-mee", organisation=mee_org, role=Role.NATIONAL_AUTHORITY),
        province_sd=member_create(username="w-psd", organisation=sd_auth, role=Role.PROVINCIAL_AUTHORITY, province="37"),
        province_zj=member_create(username="w-pzj", organisation=zj_auth, role=Role.PROVINCIAL_AUTHORITY, province="33"),
        entity_sd1=member_create(username="w-esd1", organisation=orgs[SD_1], role=Role.ENTITY),
        registry_a=member_create(username="w-ra", organisation=reg, role=Role.REGISTRY_OPERATOR),
        registry_b=member_create(username="w-rb", organisation=reg, role=Role.REGISTRY_OPERATOR),
        nobody=get_user_model().objects.create(username="w-nobody"),
    )
    entity_users = {SD_1: w.entity_sd1,
                    SD_2: member_create(username="w-esd2", organisation=orgs[SD_2], role=Role.ENTITY),
                    ZJ_1: member_create(username="w-ezj1", organisation=orgs[ZJ_1], role=Role.ENTITY)}

    allocation_compute(year=YEAR, pack_id=PACK_ID)
    cap = sum(EntityAllocation.objects.filter(year=YEAR).values_list("final_allocation_t", flat=True))
    cea = vintage_create(instrument=Instrument.CEA, vintage=str(YEAR), cap_t=cap, key="w-cap-2023", effective_at=at("2024-10-16"))
    for stage, day in (("pre", "2024-11-15"), ("final", "2024-12-06")):
        p = allocation_issue_propose(year=YEAR, stage=stage, unit_type=cea, actor=w.registry_a, effective_at=at(day))
        proposal_approve(proposal_id=p.pk, approver=w.registry_b)
        allocation_issue_confirm(year=YEAR, stage=stage)
    obligations_create(year=YEAR, pack_id=PACK_ID)

    # SD_1 surrenders in full before the deadline; ZJ_1 in full after it; SD_2 not at all.
    for uscc, approver, sub, dec in ((SD_1, w.province_sd, "2024-12-18", "2024-12-20"), (ZJ_1, w.province_zj, "2025-01-03", "2025-01-06")):
        org = orgs[uscc]
        ob = org.obligations.get(year=YEAR)
        app = surrender_submit(key=f"w-surrender-{uscc}", entity=org, year=YEAR, unit_type_code=cea.code, quantity=ob.obligation_t,
                               actor=entity_users[uscc], at=at(sub))
        surrender_approve(application_id=app.pk, approver=approver, at=at(dec))
    return w


def with_password(user):
    """Give ``user`` the test password through the parties service (hashed with argon2, as in production)."""
    from cets.parties.services import member_create

    m = user.membership
    return member_create(username=user.username, organisation=m.organisation, role=m.role, province=m.province, password=PASSWORD)
