"""A district authority (Beijing's 各区生态环境局, 京环发〔2024〕8号 三(一)) sees and acts only in its district.

Two Beijing entities in two districts (GB/T 2260: 110105 朝阳区, 110108 海淀区) and a 朝阳 district user: it sees
the 朝阳 entity only, may review the 朝阳 entity's monthly filing and is refused (R0502) on the 海淀 one, and
the database refuses a district authority membership without a six-digit district.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from cets.core.errors import CetsError
from cets.parties.access import organisation_scope, require_role, viewer_of, within
from cets.parties.models import Membership, Organisation, Role
from cets.parties.services import member_create

pytestmark = pytest.mark.django_db
PW = "test-password-123"


@pytest.fixture
def beijing():
    bureau = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市朝阳区生态环境局", province="11")
    chaoyang = Organisation.objects.create(kind=Organisation.Kind.ENTITY, name="朝阳测试热力", uscc="911101050000000017", province="11",
                                           region_code="110105")
    haidian = Organisation.objects.create(kind=Organisation.Kind.ENTITY, name="海淀测试数据中心", uscc="911101080000000012", province="11",
                                          region_code="110108")
    user = member_create(username="cy", organisation=bureau, role=Role.DISTRICT_AUTHORITY, province="11", district="110105", password=PW)
    return user, chaoyang, haidian


def test_district_sees_only_its_district(beijing):
    user, chaoyang, haidian = beijing
    seen = set(Organisation.objects.filter(organisation_scope(user)).values_list("pk", flat=True))
    assert chaoyang.pk in seen and haidian.pk not in seen
    assert viewer_of(user).dashboard == "provincial"


def test_within_and_require_role(beijing):
    user, chaoyang, haidian = beijing
    m = user.membership
    assert within(m, province="11", region_code="110105")
    assert not within(m, province="11", region_code="110108")
    assert not within(m, province="11")  # a district needs the entity's region code
    assert not within(m, province="37", region_code="110105")
    require_role(user, Role.DISTRICT_AUTHORITY, province="11", region_code=chaoyang.region_code)
    with pytest.raises(CetsError) as e:
        require_role(user, Role.DISTRICT_AUTHORITY, province="11", region_code=haidian.region_code)
    assert e.value.check.code == "R0502"
    with pytest.raises(CetsError):
        require_role(user, Role.DISTRICT_AUTHORITY, province="11")


def test_district_reviews_only_its_districts_monthly_filing(beijing):
    from cets.mrv.models import MonthlyFiling
    from cets.mrv.services import monthly_filing_review
    from cets.parties.models import GeneratingUnit

    user, chaoyang, haidian = beijing
    filings = {}
    for org in (chaoyang, haidian):
        filer = member_create(username=f"e{org.region_code}", organisation=org, role=Role.ENTITY, password=PW)
        unit = GeneratingUnit.objects.create(entity=org, code=f"{org.region_code}-1", category="A", rated_capacity_mw=Decimal("300"))
        filings[org.pk] = MonthlyFiling.objects.create(market="beijing", entity=org, unit=unit, year=2024, month=1, due_on=dt.date(2024, 2, 20),
                                                       generation_mwh=Decimal("1000"), supplied_mwh=Decimal("950"), heat_supplied_gj=Decimal("0"),
                                                       operating_hours=Decimal("744"), rated_capacity_mw=Decimal("300"),
                                                       submitted_on=dt.date(2024, 2, 10), submitted_by=filer, status=MonthlyFiling.Status.SUBMITTED)
    f = monthly_filing_review(filing_id=filings[chaoyang.pk].pk, actor=user, accept=True, comment="", on=dt.date(2024, 2, 25))
    assert f.status == MonthlyFiling.Status.ACCEPTED
    with pytest.raises(CetsError) as e:
        monthly_filing_review(filing_id=filings[haidian.pk].pk, actor=user, accept=True, comment="", on=dt.date(2024, 2, 25))
    assert e.value.check.code == "R0502"
    assert MonthlyFiling.objects.get(pk=filings[haidian.pk].pk).status == MonthlyFiling.Status.SUBMITTED


def test_a_district_authority_needs_a_district(beijing):
    user, *_ = beijing
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(user=user).update(district="")
