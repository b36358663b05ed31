"""The web world (tests/web/conftest.py) plus published information and supervision records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from tests.web.conftest import VERIFIER, YEAR, web  # noqa: F401  (the fixture is reused)

REPORTER = "举报人王某某"
CONTACT = "13912345678"
CONTENT = "CONFIDENTIAL-CONTENT 该企业篡改燃煤化验数据，月度信息化存证与实际不符。"
NOTE = "CONFIDENTIAL-NOTE 内部线索来源"
FUND_FEN = 987_654_321  # a fund balance no public page may show


@dataclass
class Sup:
    web: object
    verifier: object
    report: object
    credit: object
    blacklist: object
    municipal: object


@pytest.fixture
def sup(web):  # noqa: F811
    from django.utils import timezone

    from cets.mrv.models import VerifierEvaluation
    from cets.parties.models import EmitterListEntry, EmitterListPublication, Organisation, Role
    from cets.parties.services import member_create
    from cets.supervision import services
    from cets.trading.models import FundAccount

    for org in (web.sd1, web.sd2, web.zj1):
        EmitterListEntry.objects.create(market="national", year=YEAR, sector="power", entity=org, province=org.province, basis_year=YEAR, basis_t=30_000)
    EmitterListPublication.objects.create(market="national", year=YEAR, sector="power", province="37", published_on=dt.date(2024, 3, 1),
                                          published_by=web.province_sd, entries=2)
    verifier = Organisation.objects.get(uscc=VERIFIER)
    VerifierEvaluation.objects.create(year=YEAR, province="37", body=verifier, verifications=1, timeliness="1.0000", compliance="0.9000",
                                      quality=None, published_at=timezone.now(), published_by=web.province_sd)
    FundAccount.objects.create(number="FUND-SD1", kind=FundAccount.Kind.PARTICIPANT, holder=web.sd1, available_fen=FUND_FEN)
    credit = services.credit_record_create(actor=web.province_sd, subject_id=web.sd2.pk, kind="non_compliance", reason="2023年度未足额清缴",
                                           source_reference="鲁环罚〔2025〕1号", internal_note=NOTE)
    black = services.blacklist_decide(actor=web.mee, subject_id=verifier.pk, effect="verification", decision_reference="环气候〔2025〕9号",
                                      reason="出具虚假核查报告", starts_on=dt.date(2025, 1, 1), internal_note=NOTE)
    report = services.report_file(session={}, subject_name=web.sd2.name, province="37", city="3701", content=CONTENT, reporter_name=REPORTER,
                                  reporter_contact=CONTACT)
    jinan_org = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="济南市生态环境局", province="37")
    municipal = member_create(username="w-jinan", organisation=jinan_org, role=Role.MUNICIPAL_AUTHORITY, province="37", city="3701")
    return Sup(web=web, verifier=verifier, report=report, credit=credit, blacklist=black, municipal=municipal)
