"""The per-province summary table of compliance and penalties (notice 国环规气候〔2024〕1号 §三(四), 附件5)."""

import io

from openpyxl import load_workbook

from cets.compliance.models import Obligation
from cets.compliance.reports import summary, summary_xlsx
from cets.compliance.services import arrears_deduction_decide, penalty_decide, rectification_order_issue
from tests.compliance.helpers import issue, load_daily_stats, surrender
from tests.conftest import SD_2, ZJ_1, client_for, when


def test_summary_of_shandong_2023(world, late, jinan):
    # SD_1 (fixture ``late``): 100,000 t owed, 90,000 t by 2024-12-20 → incomplete, 10,000 t unsurrendered;
    #   order (rectify by 2025-02-28), fine 5 × 10,000 × 9,748 fen = 487,400,000 fen, nothing more surrendered
    #   → 10,000 t deducted from 2024.
    # SD_2: 30,000 t owed, 30,000 t on 2024-12-30 → on time. ZJ_1 is in another province: not in the table.
    load_daily_stats("2024-11")
    for e, uscc, q in ((world.sd2, SD_2, 30_000), (world.zj1, ZJ_1, 5_000)):
        Obligation.objects.create(entity=e, year=2023, pack_id="national/power-2023-2024", obligation_t=q, offset_cap_t=q // 20,
                                  deadline=when("2024-12-31").date())
    issue(world, SD_2, world.cea, 30_000)
    from cets.parties.models import Role
    from cets.parties.services import member_create

    u2 = member_create(username="esd2", organisation=world.sd2, role=Role.ENTITY, password="test-password-123")
    surrender(world, world.sd2, u2, 2023, "CEA-2023", 30_000, "2024-12-30", "sd2")
    rectification_order_issue(obligation_id=late.pk, reference="济环责改〔2025〕3号", actor=jinan, at=when("2025-01-06"))
    penalty_decide(obligation_id=late.pk, reference="济环罚〔2025〕3号", reason="r", multiple="5", actor=jinan, at=when("2025-01-10"))
    arrears_deduction_decide(obligation_id=late.pk, actor=world.province_sd, at=when("2025-03-03"))

    s = summary(province="37", year=2023, as_of=when("2025-04-01").date())
    assert str(s.due) == "2025-04-30"
    assert [(r.uscc, r.status, r.obligation_t, r.surrendered_t, r.unsurrendered_at_deadline_t) for r in s.rows] == [
        ("913700001630435316", "incomplete", 100_000, 90_000, 10_000), (SD_2, "on_time", 30_000, 30_000, 0)]
    assert s.counts == {"on_time": 1, "late": 0, "incomplete": 1, "open": 0}
    t = s.totals
    assert (t["obligation_t"], t["surrendered_t"], t["unsurrendered_at_deadline_t"], t["fine_fen"], t["fined"], t["deduction_t"]) == \
        (130_000, 120_000, 10_000, 487_400_000, 1, 10_000)

    wb = load_workbook(io.BytesIO(summary_xlsx(s)))
    ws = wb.active
    assert "清缴完成和处罚情况汇总表" in ws["A1"].value
    assert "due 2025-04-30" in ws["A2"].value
    first = [c.value for c in ws[4]]
    assert first[3] == 100_000
    assert first[7] == "未足额履约"
    assert first[9] == "济环责改〔2025〕3号"
    assert str(first[11]) == "4874000"
    assert first[13] == 10_000
    total = [c.value for c in ws[6]]
    assert total[0] == "合计 Total"
    assert total[3] == 130_000
    assert str(total[11]) == "4874000"

    r = client_for(world.province_sd).get("/compliance/2023/summary/37.xlsx")
    assert r.status_code == 200
    assert r.content[:2] == b"PK"
    assert client_for(world.province_zj).get("/compliance/2023/summary/37.xlsx").status_code == 404
    assert client_for(world.entity_sd1_user).get("/compliance/2023/summary/37.xlsx").status_code == 404
