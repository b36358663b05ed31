"""False-reporting findings and automatic credit records on the real database (world: tests/conftest.py).

Golden figures (national/supervision-2021-2026): Measures Art. 43 fine 1万–3万元 = 1,000,000–3,000,000 fen; Regulations
Art. 22 with gains 100万元 (100,000,000 fen) → 5×–10× = 500,000,000–1,000,000,000 fen; a 60% cut of a next-year
allocation of 80,001 t = 48,000.6 → 48,001 t (half up), recorded as an allocation adjustment of year + 1."""

import datetime as dt
from decimal import Decimal

import pytest

from cets.allocation.models import AllocationAdjustment
from cets.compliance.services import penalty_decide, rectification_order_issue
from cets.core.errors import CetsError
from cets.parties.models import Organisation, Role
from cets.parties.services import member_create
from cets.supervision import enforcement, services
from cets.supervision.models import CreditRecord, FalseReportingFinding
from tests.compliance.helpers import issue, surrender
from tests.conftest import SD_1, when


def refused(code, **kw):
    before = (FalseReportingFinding.objects.count(), CreditRecord.objects.count(), AllocationAdjustment.objects.count())
    with pytest.raises(CetsError) as e:
        enforcement.false_reporting_find(**kw)
    assert e.value.code == code, e.value
    assert (FalseReportingFinding.objects.count(), CreditRecord.objects.count(), AllocationAdjustment.objects.count()) == before


def base(world, **over):
    return dict(actor=world.province_sd, subject_id=world.sd1.pk, year=2024, rules_applied="measures_43", decision_reference="鲁环罚〔2025〕3号",
                facts="篡改燃煤元素碳含量检测报告", fine_fen=2_000_000) | over


def test_measures_43_finding_in_range_creates_a_credit_record(world):
    refused("G0702", **base(world, fine_fen=3_000_001))
    refused("G0702", **base(world, fine_fen=999_999))
    refused("G0701", **base(world, rules_applied="art_99"))
    refused("G0701", **base(world, facts=" "))
    refused("G0703", **base(world, fine_fen=True))
    refused("R0502", **base(world, actor=world.province_zj))
    refused("G0705", **base(world, cut_share=Decimal("0.6"), next_year_allocation_t=1_000))  # no cut under the Measures' Art. 43 here
    f = enforcement.false_reporting_find(**base(world, fine_fen=3_000_000))
    assert (f.fine_min_fen, f.fine_max_fen, f.fine_fen, f.pack_id, f.allocation_cut_t) == (1_000_000, 3_000_000, 3_000_000,
                                                                                           "national/supervision-2021-2026", 0)
    c = CreditRecord.objects.get(source_key=f"supervision.finding:{f.pk}")
    assert (c.subject, c.kind, c.source_reference) == (world.sd1, "false_reporting", "鲁环罚〔2025〕3号")


def test_regulations_22_fine_from_gains_and_the_allocation_cut_as_an_adjustment(world):
    kw = base(world, rules_applied="regulations_22", gains_fen=100_000_000, next_year_allocation_t=80_001)
    refused("G0702", **kw | {"fine_fen": 499_999_999})
    refused("G0705", **kw | {"fine_fen": 500_000_000, "cut_share": Decimal("0.49")})
    refused("G0705", **kw | {"fine_fen": 500_000_000, "cut_share": Decimal("1.01")})
    f = enforcement.false_reporting_find(**kw | {"fine_fen": 1_000_000_000, "cut_share": Decimal("0.60")})
    assert (f.fine_min_fen, f.fine_max_fen, f.allocation_cut_t) == (500_000_000, 1_000_000_000, 48_001)
    adj = AllocationAdjustment.objects.get(source=f"supervision.finding:{f.pk}")
    assert (adj.entity, adj.year, adj.kind, adj.quantity_t) == (world.sd1, 2025, "violation_deduction", 48_001)
    assert f.allocation_adjustment_source == adj.source
    # Art. 22 is the entities' article; Art. 23 the verification bodies'
    body = Organisation.objects.create(kind=Organisation.Kind.VERIFIER, name="某核查机构", uscc="91110000MA00TEST01")
    refused("G0704", **base(world, actor=world.mee, subject_id=body.pk, rules_applied="regulations_22", fine_fen=50_000_000))
    g = enforcement.false_reporting_find(**base(world, actor=world.mee, subject_id=body.pk, rules_applied="regulations_23", fine_fen=20_000_000))
    assert (g.fine_min_fen, g.fine_max_fen) == (20_000_000, 100_000_000)


def test_credit_sync_from_rectification_and_blacklist_is_idempotent(world):
    issue(world, SD_1, world.cea, 120_000)
    from cets.compliance.models import Obligation

    ob = Obligation.objects.create(entity=world.sd1, year=2023, pack_id="national/power-2023-2024", obligation_t=100_000, offset_cap_t=5_000,
                                   deadline=when("2024-12-31").date())
    surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 90_000, "2024-12-20", "s-90k")
    o = rectification_order_issue(obligation_id=ob.pk, reference="鲁环责改〔2025〕1号", actor=world.province_sd, at=when("2025-01-06"))
    services.blacklist_decide(actor=world.mee, subject_id=world.sd2.pk, effect="trading", decision_reference="环信〔2025〕2号", reason="虚报排放数据",
                              starts_on=dt.date(2025, 2, 1))
    # a fine decided under the 2021 Measures' fixed range (Art. 40: 2万–3万元) for a 2022 obligation never surrendered
    ob22 = Obligation.objects.create(entity=world.sd1, year=2022, pack_id="national/power-2021-2022", obligation_t=50_000, offset_cap_t=2_500,
                                     deadline=when("2023-12-31").date())
    p = penalty_decide(obligation_id=ob22.pk, reference="鲁环罚〔2024〕4号", reason="r", actor=world.province_sd, amount_fen=2_500_000,
                       at=when("2024-01-15"))
    with pytest.raises(CetsError) as e:
        enforcement.credit_sync(actor=world.province_sd)
    assert e.value.code == "R0502"
    # the blacklist decision made its record when decided; the sync adds the rectification order's and the fine's
    assert CreditRecord.objects.filter(source_key__startswith="supervision.blacklist:").count() == 1
    assert enforcement.credit_sync(actor=world.mee) == 2
    pr = CreditRecord.objects.get(source_key=f"compliance.penalty:{p.pk}")
    assert (pr.kind, pr.source_reference, pr.recorded_on) == ("non_compliance", "鲁环罚〔2024〕4号", dt.date(2024, 1, 15))
    assert "25000.00" in pr.reason
    assert enforcement.credit_sync(actor=world.mee) == 0
    r = CreditRecord.objects.get(source_key=f"compliance.rectification:{o.pk}")
    assert (r.subject, r.kind, r.source_reference, r.recorded_on) == (world.sd1, "non_compliance", "鲁环责改〔2025〕1号", dt.date(2025, 1, 6))
    assert "10000" in r.reason  # 100,000 − 90,000 t outstanding
    b = CreditRecord.objects.get(source_key__startswith="supervision.blacklist:")
    assert (b.subject, b.kind) == (world.sd2, "false_reporting")


def test_report_deadline_comes_from_the_pack(world):
    r = services.report_file(session={}, subject_name="某电厂", province="37", content="该企业篡改燃煤化验数据，月度存证与实际不符。", now=when("2025-03-01"))
    assert r.due_on == dt.date(2025, 3, 1) + dt.timedelta(days=60)
    assert services.report_handling_days(2025) == 60


def test_a_municipal_authority_cannot_find_outside_its_city(world):
    org = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="青岛市生态环境局", province="37")
    qd = member_create(username="qd", organisation=org, role=Role.MUNICIPAL_AUTHORITY, province="37", city="3702")
    refused("R0502", **base(world, actor=qd))


def test_api_finding_and_strict_types(world):
    from tests.conftest import client_for

    c = client_for(world.province_sd)
    url = "/api/v1/supervision/false-reporting"
    body = {"uscc": SD_1, "year": 2024, "rules": "regulations_22", "decision_reference": "鲁环罚〔2025〕9号", "facts": "伪造检测报告",
            "fine_fen": 50_000_000, "gains_fen": 0}
    assert c.post(url, body | {"fine_fen": "50000000"}, content_type="application/json").status_code == 422  # no string coercion
    r = c.post(url, body | {"fine_fen": 200_000_001}, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (422, "G0702")
    r = c.post(url, body, content_type="application/json")
    assert r.status_code == 200
    assert (r.json()["fine_min_fen"], r.json()["fine_max_fen"]) == (50_000_000, 200_000_000)
    from django.test import Client

    page = Client().get("/public/false-reporting/").content.decode()
    assert "鲁环罚〔2025〕9号" in page
    assert "500,000.00 – 2,000,000.00" in page


def test_cli_credit_sync(world, capsys):
    from cets.cli import main
    from cets.compliance.models import Obligation

    e = services.blacklist_decide(actor=world.mee, subject_id=world.sd2.pk, effect="trading", decision_reference="环信〔2025〕5号", reason="未按时清缴",
                                  starts_on=dt.date(2099, 2, 1))
    auto = CreditRecord.objects.get(source_key=f"supervision.blacklist:{e.pk}")  # made by the decision itself, dated no later than today
    assert auto.kind == "non_compliance"
    assert auto.recorded_on <= dt.date.today()
    ob22 = Obligation.objects.create(entity=world.sd1, year=2022, pack_id="national/power-2021-2022", obligation_t=50_000, offset_cap_t=2_500,
                                     deadline=when("2023-12-31").date())
    penalty_decide(obligation_id=ob22.pk, reference="鲁环罚〔2024〕6号", reason="r", actor=world.province_sd, amount_fen=2_000_000, at=when("2024-01-15"))
    assert main(["supervision", "credit-sync", "--as", world.province_sd.username]) == 1
    assert "R0502" in capsys.readouterr().err
    assert main(["supervision", "credit-sync", "--as", world.mee.username]) == 0
    assert capsys.readouterr().out.strip().endswith(": 1")
    assert CreditRecord.objects.filter(source_reference="鲁环罚〔2024〕6号").count() == 1
