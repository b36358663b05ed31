"""Carry-over (结转) of 2019–2024 vintages into 2025, plan 附5: the formula by hand, then the flow."""

from decimal import Decimal

import pytest

from cets.compliance.carryover import carry_over_limit
from cets.compliance.models import CarryOverApplication, Obligation, SurrenderApplication
from cets.compliance.services import carry_over_apply, carry_over_position, carry_over_process
from cets.core.errors import CetsError
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, Holding, Instrument, Position, TransferKind
from cets.registry.selectors import unit_type_totals
from cets.registry.services import Leg, freeze_release_propose, judicial_freeze, proposal_approve, system_account, transfer_post, vintage_create
from cets.rules.packs import load_pack
from tests.conftest import SD_1, SD_2, when

B, R = Decimal("10000"), Decimal("1.5")


@pytest.mark.parametrize("ns,holdings,expected", [
    (200_000, 10**9, 310_000),   # reference §1.8: 10,000 + 1.5 × 200,000
    (200_000, 250_000, 250_000),  # capped by holdings at 2025-12-31 23:59
    (-50_000, 10**9, 10_000),     # net purchases count as 0
    (3, 10**9, 10_004),           # 10,004.5 rounded down
    (0, 0, 0),
])
def test_limit_by_hand(ns, holdings, expected):
    assert carry_over_limit(net_sales_t=ns, holdings_t=holdings, base=B, ratio=R) == expected


def _world_with_history(w):
    """SD_1 holds 2023 vintage, sells 8,000 t to SD_2 in 2025, and met both obligations on time."""
    cea24 = vintage_create(instrument=Instrument.CEA, vintage="2024", cap_t=1_000_000, key="cap-24")
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    surrender = system_account("national", AccountKind.SURRENDER)
    for code in (SD_1, SD_2):
        for ut in (w.cea, cea24):
            transfer_post(key=f"iss-{code}-{ut.code}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                          credit=Leg(w.accounts[code], Position.REGISTRY), quantity=30_000, effective_at=when("2024-11-01"))
    transfer_post(key="sale-1", kind=TransferKind.TRANSFER, unit_type=w.cea, debit=Leg(w.accounts[SD_1], Position.REGISTRY),
                  credit=Leg(w.accounts[SD_2], Position.REGISTRY), quantity=8_000, effective_at=when("2025-03-01"))
    for year, ut, deadline in ((2023, w.cea, "2024-12-31"), (2024, cea24, "2025-12-31")):
        ob = Obligation.objects.create(entity=w.sd1, year=year, pack_id="national/power-2023-2024", obligation_t=1_000, offset_cap_t=50,
                                       deadline=when(deadline).date())
        t = transfer_post(key=f"sur-{year}", kind=TransferKind.SURRENDER, unit_type=ut, debit=Leg(w.accounts[SD_1], Position.REGISTRY),
                          credit=Leg(surrender, Position.REGISTRY), quantity=1_000, effective_at=when(deadline))
        SurrenderApplication.objects.create(key=f"sur-{year}", obligation=ob, unit_type=ut, quantity=1_000, status="approved",
                                            submitted_by=w.entity_sd1_user, submitted_at=when(deadline), decided_by=w.province_sd,
                                            decided_at=when(deadline), pending_transfer_key=t.key, final_transfer_key=t.key)
    return cea24


def test_position_from_the_journal(world):
    _world_with_history(world)
    pos = carry_over_position(entity=world.sd1, pack=load_pack("national/power-2023-2024"))
    # sold 8,000 → T = 10,000 + 12,000 = 22,000; holdings at the cut-off: 30,000 + 30,000 − 8,000 − 2,000 = 50,000
    assert (pos.net_sales_t, pos.holdings_t, pos.limit_t, pos.applied_t) == (8_000, 50_000, 22_000, 0)


def test_apply_and_process(world):
    w = world
    _world_with_history(w)
    with pytest.raises(CetsError) as e:  # before the application period
        carry_over_apply(key="co0", entity=w.sd1, unit_type_code="CEA-2023", quantity=1, actor=w.entity_sd1_user, at=when("2025-12-30"))
    assert e.value.code == "C0701"
    carry_over_apply(key="co1", entity=w.sd1, unit_type_code="CEA-2023", quantity=15_000, actor=w.entity_sd1_user, at=when("2026-02-10"))
    assert Holding.objects.get(account=w.accounts[SD_1], unit_type=w.cea, position="pending").quantity == 15_000
    with pytest.raises(CetsError) as e:  # a second application beyond what is left of T = 22,000
        carry_over_apply(key="co2", entity=w.sd1, unit_type_code="CEA-2024", quantity=7_001, actor=w.entity_sd1_user, at=when("2026-04-01"))
    assert e.value.code == "C0704"
    carry_over_apply(key="co3", entity=w.sd1, unit_type_code="CEA-2024", quantity=7_000, actor=w.entity_sd1_user, at=when("2026-04-01"))
    # first batch: applications up to 03-20 only
    r = carry_over_process(cutoff=when("2026-03-20").date(), actor=w.registry_a, at=when("2026-03-27"))
    assert r == {"processed_t": 15_000, "target": "CEA-2025"}
    assert CarryOverApplication.objects.get(key="co3").status == "submitted"
    r = carry_over_process(cutoff=when("2026-06-10").date(), actor=w.registry_a, at=when("2026-06-26"))
    assert r["processed_t"] == 7_000
    assert Holding.objects.get(account=w.accounts[SD_1], unit_type__code="CEA-2025", position="registry").quantity == 22_000
    rows = {r["unit_type"]: r for r in unit_type_totals()}
    assert rows["CEA-2023"]["carried_over_t"] == 15_000
    assert rows["CEA-2024"]["carried_over_t"] == 7_000
    assert all(r["balanced"] for r in rows.values())
    assert rows["CEA-2025"]["created_t"] == rows["CEA-2025"]["issued_t"] == 22_000
    assert audit_verify().ok


def test_refusals(world):
    w = world
    _world_with_history(w)
    with pytest.raises(CetsError) as e:  # SD_2 has no obligations met
        carry_over_apply(key="x1", entity=w.sd2, unit_type_code="CEA-2023", quantity=1, actor=w.entity_sd1_user, at=when("2026-02-10"))
    assert e.value.code == "R0502"
    judicial_freeze(key="jf", account=w.accounts[SD_1], unit_type=w.cea, quantity=1, court_ref="x", actor=w.registry_a)
    with pytest.raises(CetsError) as e:
        carry_over_apply(key="x2", entity=w.sd1, unit_type_code="CEA-2023", quantity=1, actor=w.entity_sd1_user, at=when("2026-02-10"))
    assert e.value.code == "C0703"
    p = freeze_release_propose(key="jr", account=w.accounts[SD_1], unit_type=w.cea, quantity=1, court_ref="x", actor=w.registry_a)
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)  # releasing a freeze takes a second operator
    vintage_create(instrument=Instrument.CEA, vintage="2025", cap_t=10, key="cap-25")
    with pytest.raises(CetsError) as e:
        carry_over_apply(key="x3", entity=w.sd1, unit_type_code="CEA-2025", quantity=1, actor=w.entity_sd1_user, at=when("2026-02-10"))
    assert e.value.code == "R0601"
    SurrenderApplication.objects.filter(key="sur-2024").update(decided_at=when("2026-01-05"))  # 2024 surrendered late
    with pytest.raises(CetsError) as e:
        carry_over_apply(key="x4", entity=w.sd1, unit_type_code="CEA-2023", quantity=1, actor=w.entity_sd1_user, at=when("2026-02-10"))
    assert e.value.code == "C0702"
