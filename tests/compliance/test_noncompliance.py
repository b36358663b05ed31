"""Non-compliance on the real database: rectification order, the Art. 24 fine from the real CEA prices
of November 2024 (2023 obligation, deadline 2024-12-31), the old fixed range, deduction from next
year's allocation (and its pack switch), publication. Every refusal changes nothing."""

import pytest

from cets.allocation.models import AllocationAdjustment
from cets.compliance.models import Obligation, PenaltyDecision, RectificationOrder
from cets.compliance.services import arrears_deduction_decide, penalty_decide, penalty_publish, rectification_order_issue
from cets.core.errors import CetsError
from tests.compliance.helpers import load_daily_stats, surrender
from tests.conftest import SD_1, when

# Daily totals of November 2024, all allowance subjects (= the composite COMCEA row), listing + block
# (no auction volume that month), from data/cea-national-official/cea_daily_by_trade_method.csv:
#   date    listing t / CNY                 block t / CNY
#   11-01   145,565 /  15,209,835.49   1,540,000 / 143,170,000.00
#   11-04    51,166 /   5,367,662.80     570,000 /  58,331,000.00
#   11-05   119,030 /  12,494,372.30   2,155,000 / 222,262,700.00
#   11-06    45,405 /   4,794,922.55     556,000 /  57,532,000.00
#   11-07   115,642 /  12,188,284.66     697,420 /  67,773,282.34
#   11-08   110,088 /  11,570,945.09   2,688,230 / 270,941,457.58
#   11-11   148,543 /  15,602,192.58   1,864,192 / 193,094,554.40
#   11-12   212,618 /  22,324,104.33   1,245,251 / 123,285,407.54
#   11-13   252,654 /  26,696,632.78   1,916,930 / 193,411,392.80
#   11-14   354,705 /  37,280,819.02     860,596 /  86,084,130.00
#   11-15   445,903 /  46,781,751.28   3,030,733 / 306,084,845.10
#   11-18   435,384 /  45,611,034.48   2,723,005 / 269,070,716.50
#   11-19   315,059 /  33,025,277.56   2,809,409 / 249,975,682.71
#   11-20   388,719 /  40,702,833.32   1,686,169 / 155,507,960.29
#   11-21   512,990 /  53,708,298.58   2,769,996 / 250,389,542.78
#   11-22   342,883 /  35,925,265.77   3,342,070 / 316,862,088.88
#   11-25   793,376 /  82,743,093.75   4,298,525 / 394,820,284.50
#   11-26   735,160 /  75,753,764.99   4,832,059 / 469,776,429.20
#   11-27 1,002,492 / 103,421,634.77   4,986,712 / 474,733,659.76
#   11-28   552,420 /  56,489,081.29   2,715,932 / 250,844,440.28
#   11-29   588,624 /  59,633,654.60   5,880,586 / 578,999,319.89
#   Σ listing 7,668,426 t / 797,325,461.99;  Σ block 53,168,815 t / 5,132,950,894.55
#   Σ all 60,837,241 t / 5,930,276,356.54 CNY = 593,027,635,654 fen
#   P̄ = 593,027,635,654 / 60,837,241 = 9,747 rem 47,047,627 (60,837,241 × 9,747 = 592,980,588,027);
#       47,047,627 > 60,837,241 / 2 → half-up → 9,748 fen = CNY 97.48 per tonne.
# Entity: obligation 100,000 t, 90,000 t surrendered by 2024-12-31 → 10,000 t unsurrendered.
#   range 5 × 10,000 × 9,748 = 487,400,000 fen (CNY 4,874,000) … 10 × = 974,800,000 fen (CNY 9,748,000)
#   multiple 7.5 → 7.5 × 10,000 × 9,748 = 731,100,000 fen (CNY 7,311,000).
PRICE_NOV_2024_FEN = 9748


def refused(code, fn, **kw):
    before = (PenaltyDecision.objects.count(), RectificationOrder.objects.count(), AllocationAdjustment.objects.count())
    with pytest.raises(CetsError) as e:
        fn(**kw)
    assert e.value.code == code, e.value
    assert (PenaltyDecision.objects.count(), RectificationOrder.objects.count(), AllocationAdjustment.objects.count()) == before


def test_fine_from_the_real_november_2024_prices(world, late, jinan):
    composite = load_daily_stats("2024-11")
    # the per-subject rows loaded add up to the composite figures used in the comment above
    assert len(composite) == 21
    assert sum(v for v, _ in composite.values()) == 60_837_241
    assert sum(a for _, a in composite.values()) == 593_027_635_654
    kw = dict(obligation_id=late.pk, reference="济环罚〔2025〕1号", reason="首次违法，已部分清缴 first offence, 90% surrendered", actor=jinan)
    refused("C0809", penalty_decide, multiple="5", at=when("2024-12-31", 20), **kw)  # the deadline day itself
    refused("C0802", penalty_decide, multiple="4.99", at=when("2025-01-10"), **kw)
    refused("C0802", penalty_decide, multiple="10.01", at=when("2025-01-10"), **kw)
    refused("C0802", penalty_decide, multiple=None, at=when("2025-01-10"), **kw)
    refused("C0808", penalty_decide, multiple="5", at=when("2025-01-10"), **dict(kw, reason=" "))
    refused("R0502", penalty_decide, multiple="5", at=when("2025-01-10"), **dict(kw, actor=world.province_zj))  # another province
    refused("R0502", penalty_decide, multiple="5", at=when("2025-01-10"), **dict(kw, actor=world.entity_sd1_user))
    d = penalty_decide(multiple="7.5", at=when("2025-01-10"), **kw)
    assert (d.unsurrendered_t, d.price_fen, d.price_volume_t, d.price_amount_fen) == (10_000, PRICE_NOV_2024_FEN, 60_837_241, 593_027_635_654)
    assert (str(d.price_from), str(d.price_to)) == ("2024-11-01", "2024-11-30")
    assert (d.min_fen, d.max_fen, d.fine_fen) == (487_400_000, 974_800_000, 731_100_000)
    d.refresh_from_db()
    assert d.authority.name == "济南市生态环境局"
    assert str(d.multiple) == "7.50"
    assert d.published_at is None
    refused("C0804", penalty_decide, multiple="5", at=when("2025-01-11"), **kw)


def test_no_fine_without_prices_or_without_a_shortfall(world, late, jinan):
    kw = dict(obligation_id=late.pk, reference="R-1", reason="r", actor=jinan, multiple="5", at=when("2025-01-10"))
    refused("C0803", penalty_decide, **kw)  # no market data for November 2024 on the platform
    load_daily_stats("2024-11")
    surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 10_000, "2024-12-30", "s-rest")
    refused("C0801", penalty_decide, **kw)  # surrendered in full on time


def test_late_surrender_does_not_erase_the_fine(world, late, jinan):
    load_daily_stats("2024-11")
    surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 10_000, "2025-01-05", "s-late")
    d = penalty_decide(obligation_id=late.pk, reference="R-2", reason="r", actor=jinan, multiple="5", at=when("2025-01-10"))
    assert d.unsurrendered_t == 10_000
    assert d.fine_fen == 487_400_000  # quantity at the deadline (pack penalty.quantity_at)
    refused("C0801", rectification_order_issue, obligation_id=late.pk, reference="R", actor=jinan, at=when("2025-01-10"))  # nothing to rectify


def test_old_pack_keeps_the_fixed_range(world, jinan):
    # 2022 obligation under the Measures (Art. 40): CNY 20,000–30,000 whatever the quantity.
    ob = Obligation.objects.create(entity=world.sd1, year=2022, pack_id="national/power-2021-2022", obligation_t=50_000, offset_cap_t=2_500,
                                   deadline=when("2023-12-31").date())
    kw = dict(obligation_id=ob.pk, reference="R-3", reason="r", actor=jinan, at=when("2024-01-15"))
    refused("C0802", penalty_decide, amount_fen=3_000_001, **kw)
    refused("C0802", penalty_decide, amount_fen=1_999_999, **kw)
    refused("C0802", penalty_decide, multiple="5", **kw)
    d = penalty_decide(amount_fen=3_000_000, **kw)
    assert (d.basis, d.unsurrendered_t, d.min_fen, d.max_fen, d.fine_fen, d.price_fen, d.multiple) == \
        ("fixed_range", 50_000, 2_000_000, 3_000_000, 3_000_000, None, None)


def test_rectification_then_deduction_from_next_year(world, late, jinan):
    kw = dict(obligation_id=late.pk, reference="济环责改〔2025〕1号", actor=jinan)
    refused("C0809", rectification_order_issue, at=when("2024-12-31"), **kw)
    refused("R0502", rectification_order_issue, at=when("2025-01-06"), **dict(kw, actor=world.province_zj))
    o = rectification_order_issue(at=when("2025-01-06"), **kw)
    assert (str(o.deadline), o.unsurrendered_t) == ("2025-02-28", 10_000)  # notice §三(三): 2023 → 2025-02-28
    refused("C0804", rectification_order_issue, at=when("2025-01-07"), **kw)
    d = dict(obligation_id=late.pk, actor=world.province_sd)
    refused("C0806", arrears_deduction_decide, at=when("2025-02-28"), **d)  # the period is still open
    refused("R0502", arrears_deduction_decide, at=when("2025-03-03"), **dict(d, actor=jinan))  # provincial decision (Measures Art. 40)
    surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 4_000, "2025-02-20", "s-part")  # partly rectified
    a = arrears_deduction_decide(at=when("2025-03-03"), **d)
    # 100,000 − 90,000 − 4,000 = 6,000 t deducted from the 2024 allocation
    assert (a.entity_id, a.year, a.kind, a.quantity_t, a.source) == (world.sd1.pk, 2024, "arrears_deduction", 6_000,
                                                                     f"compliance.rectification:{o.pk}")
    assert arrears_deduction_decide(at=when("2025-03-04"), **d).pk == a.pk  # idempotent
    # once the arrears are being deducted, no further late surrender (notice §四(四) "在后续年度未完成配额核减")
    from cets.compliance.services import surrender_submit

    with pytest.raises(CetsError) as e:
        surrender_submit(key="s-after", entity=world.sd1, year=2023, unit_type_code="CEA-2023", quantity=6_000, actor=world.entity_sd1_user,
                         at=when("2025-03-05"))
    assert e.value.code == "C0811"


def test_no_deduction_when_rectified_or_switched_off(world, late, jinan):
    rectification_order_issue(obligation_id=late.pk, reference="R", actor=jinan, at=when("2025-01-06"))
    refused("C0805", arrears_deduction_decide, obligation_id=late.pk, actor=world.province_sd, at=when("2026-08-15"))  # 生态环境法典
    surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 10_000, "2025-02-27", "s-fix")
    refused("C0807", arrears_deduction_decide, obligation_id=late.pk, actor=world.province_sd, at=when("2025-03-03"))
    # 2025–2026 pack: deduction switched off (reference §1.7)
    ob = Obligation.objects.create(entity=world.sd2, year=2025, pack_id="national/power-2025-2026", obligation_t=1_000, offset_cap_t=50,
                                   deadline=when("2026-12-31").date())
    refused("C0810", rectification_order_issue, obligation_id=ob.pk, reference="R", actor=jinan, at=when("2027-01-05"))  # no date in pack
    o = rectification_order_issue(obligation_id=ob.pk, reference="R", actor=jinan, deadline=when("2027-02-26").date(), at=when("2027-01-05"))
    assert str(o.deadline) == "2027-02-26"
    refused("C0805", arrears_deduction_decide, obligation_id=ob.pk, actor=world.province_sd, at=when("2027-03-05"))


def test_publication(world, late, jinan, client):
    load_daily_stats("2024-11")
    d = penalty_decide(obligation_id=late.pk, reference="济环罚〔2025〕7号", reason="r", actor=jinan, multiple="5", at=when("2025-01-10"))
    assert "济环罚〔2025〕7号" not in client.get("/public/penalties/").content.decode()
    refused("R0502", penalty_publish, decision_id=d.pk, actor=world.province_zj)
    penalty_publish(decision_id=d.pk, actor=jinan, at=when("2025-01-12"))
    page = client.get("/public/penalties/").content.decode()
    assert "济环罚〔2025〕7号" in page
    assert SD_1 in page
    assert "4,874,000.00" in page


def test_non_compliance_page_and_forms(world, late, jinan):
    from tests.conftest import client_for

    load_daily_stats("2024-11")
    c = client_for(jinan)
    page = c.get(f"/compliance/obligations/{late.pk}/").content.decode()
    # the basis a regulator defends: window, counted volume and amount, P̄ = 97.48, range 4,874,000.00 – 9,748,000.00
    for text in ("2024-11-01", "2024-11-30", "60,837,241", "5,930,276,356.54", "97.48", "4,874,000.00", "9,748,000.00"):
        assert text in page, text
    assert client_for(world.province_zj).get(f"/compliance/obligations/{late.pk}/").status_code == 404
    assert client_for(world.entity_sd1_user).get(f"/compliance/obligations/{late.pk}/").status_code == 404
    r = c.post(f"/compliance/obligations/{late.pk}/fine/", {"reference": "济环罚〔2025〕9号", "multiple": "12", "reason": "r"}, follow=True)
    assert "C0802" in r.content.decode()
    assert not PenaltyDecision.objects.exists()
    c.post(f"/compliance/obligations/{late.pk}/fine/", {"reference": "济环罚〔2025〕9号", "multiple": "6", "reason": "r"})
    assert PenaltyDecision.objects.get().fine_fen == 6 * 10_000 * PRICE_NOV_2024_FEN
    c.post(f"/compliance/obligations/{late.pk}/publish/")
    assert PenaltyDecision.objects.get().published_at is not None


def test_published_penalties_are_paginated_not_capped(world, jinan, client):
    """More published decisions than a page holds: every one is reachable on some page (the list was capped at 500)."""
    from cets.compliance.models import Obligation
    from cets.compliance.views import PENALTIES_PER_PAGE

    n = PENALTIES_PER_PAGE + 3
    from cets.parties.models import Organisation

    entity, authority = world.sd1, Organisation.objects.get(name="济南市生态环境局")
    at = when("2025-01-12")
    obs = Obligation.objects.bulk_create([Obligation(entity=entity, year=1900 + i, pack_id="test", obligation_t=10,
                                                     offset_cap_t=0, deadline=at.date()) for i in range(n)])
    PenaltyDecision.objects.bulk_create([
        PenaltyDecision(obligation=o, pack_id="test", basis="b", reference=f"罚-{o.year}号", unsurrendered_t=1, min_fen=1, max_fen=3, fine_fen=2,
                        reason="r", authority=authority, decided_by=jinan, decided_at=at, published_at=at)
        for o in obs])
    seen = set()
    for page in (1, 2):
        body = client.get(f"/public/penalties/?page={page}").content.decode()
        seen |= {o.year for o in obs if f"罚-{o.year}号<" in body}
    assert seen == {o.year for o in obs}
    assert len(seen) > PENALTIES_PER_PAGE  # two pages together, not one capped page
    first = client.get("/public/penalties/?page=x").content.decode()  # garbage → the first page
    assert f"罚-{obs[-1].year}号<" in first and 'id="penalties-pager"' in first
    assert client.get("/public/penalties/?page=99999999999999999999").status_code == 200
