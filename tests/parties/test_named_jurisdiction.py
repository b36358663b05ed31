"""北京经济技术开发区 (经开区) as a district-level authority (京政发〔2024〕6号 Art. 4 "各区人民政府、北京经济技术开发区管委会负责本地区
碳排放单位的监督管理"). It has no GB/T 2260 code: beijing/market.toml names it with a code of ours, ``11ETDA``. Its area
lies in 大兴区 (110115): a unit there under 经开区 (``Organisation.jurisdiction = "11ETDA"``) is seen and acted on by the
经开区 official only, not by 大兴区's; a plain 大兴 unit by 大兴区's only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cets.core.errors import CetsError
from cets.parties.access import district_of, organisation_scope, require_role
from cets.parties.models import Organisation, Role
from cets.parties.services import member_create, organisation_jurisdiction_set
from cets.rules.markets import load_market, named_jurisdictions

pytestmark = pytest.mark.django_db
PW = "test-password-123"


def test_the_market_file_names_it_with_our_code():
    [j] = load_market("beijing").jurisdictions
    assert (j.code, j.name_zh, j.province, j.level) == ("11ETDA", "北京经济技术开发区", "11", "district")
    assert named_jurisdictions()["11ETDA"] == j


@pytest.fixture
def etda():
    city = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市生态环境局", province="11")
    bureau = member_create(username="bjb", organisation=city, role=Role.PROVINCIAL_AUTHORITY, province="11", password=PW)
    body = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京经济技术开发区管委会", province="11")
    official = member_create(username="etda", organisation=body, role=Role.DISTRICT_AUTHORITY, province="11", district="11ETDA", password=PW)
    dx = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市大兴区生态环境局", province="11", region_code="110115")
    daxing = member_create(username="dx", organisation=dx, role=Role.DISTRICT_AUTHORITY, province="11", district="110115", password=PW)
    yizhuang = Organisation.objects.create(kind=Organisation.Kind.ENTITY, name="亦庄测试制造", uscc="911101150000000011", province="11", region_code="110115")
    plain = Organisation.objects.create(kind=Organisation.Kind.ENTITY, name="大兴测试热力", uscc="911101150000000029", province="11", region_code="110115")
    with pytest.raises(CetsError) as e:
        organisation_jurisdiction_set(organisation=yizhuang, jurisdiction="11ETDA", actor=official)   # the bureau assigns, not the body
    assert e.value.code == "R0502"
    organisation_jurisdiction_set(organisation=yizhuang, jurisdiction="11ETDA", actor=bureau)
    return {"bureau": bureau, "official": official, "daxing": daxing, "yizhuang": yizhuang, "plain": plain}


def _seen(user) -> set[str]:
    return set(Organisation.objects.filter(organisation_scope(user), kind=Organisation.Kind.ENTITY).values_list("name", flat=True))


def test_each_sees_only_its_own_units(etda):
    assert _seen(etda["official"]) == {"亦庄测试制造"}
    assert _seen(etda["daxing"]) == {"大兴测试热力"}
    assert _seen(etda["bureau"]) == {"亦庄测试制造", "大兴测试热力"}
    assert district_of(etda["yizhuang"]) == "11ETDA" and district_of(etda["plain"]) == "110115"
    require_role(etda["official"], Role.DISTRICT_AUTHORITY, province="11", region_code=district_of(etda["yizhuang"]))
    for user, org in ((etda["official"], etda["plain"]), (etda["daxing"], etda["yizhuang"])):
        with pytest.raises(CetsError) as e:
            require_role(user, Role.DISTRICT_AUTHORITY, province="11", region_code=district_of(org))
        assert e.value.code == "R0502"


def test_acts_only_on_its_units_monthly_filing(etda):
    from cets.mrv.models import MonthlyFiling
    from cets.mrv.services import monthly_filing_review
    from cets.parties.models import GeneratingUnit

    filings = {}
    for key in ("yizhuang", "plain"):
        org = etda[key]
        filer = member_create(username=f"e-{key}", organisation=org, role=Role.ENTITY, password=PW)
        unit = GeneratingUnit.objects.create(entity=org, code=f"{key}-1", category="A", rated_capacity_mw=Decimal("300"))
        filings[key] = MonthlyFiling.objects.create(market="beijing", entity=org, unit=unit, year=2024, month=1, due_on=dt.date(2024, 2, 20),
                                                    generation_mwh=Decimal("1000"), supplied_mwh=Decimal("950"), heat_supplied_gj=Decimal("0"),
                                                    operating_hours=Decimal("744"), rated_capacity_mw=Decimal("300"),
                                                    submitted_on=dt.date(2024, 2, 10), submitted_by=filer, status=MonthlyFiling.Status.SUBMITTED)
    with pytest.raises(CetsError) as e:   # 大兴区 cannot act on the 经开区 unit although it lies in 大兴
        monthly_filing_review(filing_id=filings["yizhuang"].pk, actor=etda["daxing"], accept=True, comment="", on=dt.date(2024, 2, 25))
    assert e.value.code == "R0502"
    with pytest.raises(CetsError) as e:
        monthly_filing_review(filing_id=filings["plain"].pk, actor=etda["official"], accept=True, comment="", on=dt.date(2024, 2, 25))
    assert e.value.code == "R0502"
    f = monthly_filing_review(filing_id=filings["yizhuang"].pk, actor=etda["official"], accept=True, comment="", on=dt.date(2024, 2, 25))
    assert f.status == MonthlyFiling.Status.ACCEPTED


def test_page_shows_the_official_only_its_units(etda):
    from tests.conftest import client_for

    page = client_for(etda["official"], verified=True).get("/entities/").content.decode()
    assert "亦庄测试制造" in page and "大兴测试热力" not in page


@pytest.mark.parametrize("district, province, code", [("11ABCD", "11", "S0401"), ("11ETDA", "31", "S0402"), ("310101", "11", "S0402"),
                                                      ("etda", "11", "S0401")])
def test_unknown_or_foreign_jurisdictions_refused(district, province, code):
    body = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="x", province=province)
    with pytest.raises(CetsError) as e:
        member_create(username="x", organisation=body, role=Role.DISTRICT_AUTHORITY, province=province, district=district, password=PW)
    assert e.value.code == code


def test_assignment_refusals_and_undo(etda):
    for code in ("110115", "11ABCD"):
        with pytest.raises(CetsError) as e:
            organisation_jurisdiction_set(organisation=etda["plain"], jurisdiction=code, actor=etda["bureau"])
        assert e.value.code == "S0401"
    organisation_jurisdiction_set(organisation=etda["yizhuang"], jurisdiction="", actor=etda["bureau"])   # back under 大兴区
    assert _seen(etda["daxing"]) == {"亦庄测试制造", "大兴测试热力"} and _seen(etda["official"]) == set()


def test_the_bureau_assigns_on_the_entity_page_and_through_the_api(etda):
    from tests.conftest import client_for

    plain = etda["plain"]
    bureau = client_for(etda["bureau"], verified=True)
    page = bureau.get(f"/entities/{plain.uscc}/").content.decode()
    assert 'id="jurisdiction-set"' in page and "北京经济技术开发区 (11ETDA)" in page
    r = bureau.post(f"/entities/{plain.uscc}/jurisdiction/", {"jurisdiction": "11ABCD"}, follow=True)
    assert "S0401" in r.content.decode()
    bureau.post(f"/entities/{plain.uscc}/jurisdiction/", {"jurisdiction": "11ETDA"}, follow=True)
    assert _seen(etda["official"]) == {"亦庄测试制造", "大兴测试热力"}
    assert 'id="jurisdiction-set"' not in client_for(etda["official"], verified=True).get(f"/entities/{plain.uscc}/").content.decode()
    # the 经开区 official cannot assign (R0502); 大兴区 no longer sees the unit (404)
    r = client_for(etda["official"], verified=True).post(f"/api/v1/entities/{plain.uscc}/jurisdiction", {"jurisdiction": ""},
                                                          content_type="application/json")
    assert r.status_code == 403
    assert client_for(etda["daxing"], verified=True).post(f"/entities/{plain.uscc}/jurisdiction/", {"jurisdiction": ""}).status_code == 404
    r = bureau.post(f"/api/v1/entities/{plain.uscc}/jurisdiction", {"jurisdiction": ""}, content_type="application/json")
    assert r.status_code == 200 and r.json()["jurisdiction"] == ""
    assert _seen(etda["daxing"]) == {"大兴测试热力"}
