"""Beijing carbon-inclusion (碳普惠, PCER) reductions: the three methodology calculators (pure), the CLI, and the chain
calculator → four-eyes creation and issuance to the owner's Beijing account → surrender within the 5% offset cap.

京环发〔2024〕8号 (seed 004) 三(三): "低碳出行、油改电小客车、氢燃料电池汽车项目的碳减排量，按照《北京市碳普惠项目方法学…》核算
（见附件5）。经审定签发的项目减排量可按相关规定用于碳排放抵销。"; 三(四): "使用比例不得高于当年核定碳排放量的5%".
The methodology factors are the pack's placeholders (beijing/pcer-2023-2026, all [[unconfirmed]]); the golden
values below are computed by hand from those pack values.
"""

import json
from decimal import Decimal

import pytest

from cets.cli import main
from cets.compliance.services import surrender_submit
from cets.core.errors import CetsError
from cets.mrv.pcer import compute, ev_conversion, hydrogen_fcv, low_carbon_travel
from cets.registry.models import AccountKind, Holding, Instrument, Position, UnitType
from cets.registry.services import proposal_approve, system_account
from cets.registry.services.issuance import IssuanceLine, issuance_propose
from cets.registry.services.operator import vintage_create_propose
from cets.rules.packs import load_pack, pack_for
from tests.compliance.test_beijing import _surrender, bj  # noqa: F401  (fixture)
from tests.conftest import when

PACK = load_pack("beijing/pcer-2023-2026")


def test_pack_is_the_beijing_offsets_pack_and_flags_every_methodology():
    assert pack_for("beijing", "pcer", 2024, kind="offsets").id == PACK.id
    assert PACK.text("pcer.instrument") == "PCER"
    for m in ("low_carbon_travel", "ev_conversion", "hydrogen_fcv"):
        assert PACK.is_unconfirmed(f"pcer.methodologies.{m}")


def test_low_carbon_travel_golden():
    """Baseline 135 g/pkm (car); bus 45, metro 30, cycling/walking 0 g/pkm.
    bus 1,000,000 pkm: 135 − 45 = 90 g → 90 t; metro 2,000,000: 105 g → 210 t; cycling 100,000: 135 g → 13.5 t;
    walking 10,000: 1.35 t. Baseline 3,110,000 × 135 g = 419.85 t; project 45 + 60 = 105 t; 314.85 → floor 314 t."""
    r = low_carbon_travel(PACK, {"bus_pkm": 1_000_000, "metro_pkm": 2_000_000, "cycling_pkm": 100_000, "walking_pkm": 10_000})
    assert (r.baseline_t, r.project_t, r.reduction_t) == (Decimal("419.85"), Decimal("105"), 314)


def test_ev_conversion_golden():
    """100,000 vkm × 8 L/100km = 8,000 L × 2.3 kg/L = 18.4 t; 15,000 kWh × 0.604 t/MWh = 9.06 t; 9.34 → 9 t."""
    r = ev_conversion(PACK, {"vehicle_km": 100_000, "electricity_kwh": 15_000})
    assert (r.baseline_t, r.project_t, r.reduction_t) == (Decimal("18.4"), Decimal("9.06"), 9)


def test_hydrogen_fcv_golden():
    """1,000,000 vkm × 25 L/100km = 250,000 L × 2.6 kg/L = 650 t; 80,000 kg H2 × 10 kg/kg = 800 t → negative → 0;
    60,000 kg H2 → 600 t → 50 t."""
    assert hydrogen_fcv(PACK, {"vehicle_km": 1_000_000, "hydrogen_kg": 80_000}).reduction_t == 0
    r = hydrogen_fcv(PACK, {"vehicle_km": 1_000_000, "hydrogen_kg": 60_000})
    assert (r.baseline_t, r.project_t, r.reduction_t) == (Decimal("650"), Decimal("600"), 50)


@pytest.mark.parametrize("methodology, activity, code", [
    ("solar", {}, "P0101"),
    ("ev_conversion", {"vehicle_km": "100", "electricity_kwh": 1}, "P0102"),
    ("ev_conversion", {"vehicle_km": 1.5, "electricity_kwh": 1}, "P0102"),
    ("ev_conversion", {"vehicle_km": True, "electricity_kwh": 1}, "P0102"),
    ("ev_conversion", {"vehicle_km": -1, "electricity_kwh": 1}, "P0102"),
    ("ev_conversion", {"vehicle_km": 1}, "P0103"),
    ("hydrogen_fcv", {"vehicle_km": 1, "hydrogen_kg": 1, "x": 1}, "P0103"),
])
def test_refusals(methodology, activity, code):
    with pytest.raises(CetsError) as e:
        compute(PACK, methodology, activity)
    assert e.value.code == code


def test_other_pack_refused():
    with pytest.raises(CetsError) as e:
        compute(load_pack("beijing/compliance-2023-2024"), "ev_conversion", {"vehicle_km": 1, "electricity_kwh": 1})
    assert e.value.code == "P0104"


def test_cli_compute(tmp_path, capsys):
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"vehicle_km": 100_000, "electricity_kwh": 15_000}))
    assert main(["pcer", "compute", "--methodology", "ev_conversion", "--input", str(f)]) == 0
    assert "reduction 9 t" in capsys.readouterr().out
    f.write_text(json.dumps({"vehicle_km": 1}))
    assert main(["pcer", "compute", "--methodology", "ev_conversion", "--input", str(f)]) == 2


@pytest.mark.django_db
def test_reductions_issued_by_four_eyes_and_surrendered_within_the_cap(bj):  # noqa: F811
    """A low-carbon travel project of BJ2 (owes 50,000 t, offset cap 5% = 2,500 t): the period's reductions
    (bus 20,000,000 pkm → 90 g × 2e7 = 1,800 t; metro 10,000,000 → 105 g × 1e7 = 1,050 t; 2,850 t) are created and
    issued to BJ2's Beijing account by two registry operators; BJ2 surrenders 2,500 t and the 2,501st tonne is refused."""
    r = low_carbon_travel(PACK, {"bus_pkm": 20_000_000, "metro_pkm": 10_000_000, "cycling_pkm": 0, "walking_pkm": 0})
    assert r.reduction_t == 2_850
    ra, rb = bj.w.registry_a, bj.w.registry_b
    total = system_account("beijing", AccountKind.NATIONAL_TOTAL)

    def in_total():
        return Holding.objects.get(account=total, unit_type__code="PCER-2023", position=Position.REGISTRY).quantity

    before = in_total()
    p = vintage_create_propose(key="pcer-p1", instrument=Instrument.PCER, vintage="2023", cap_t=r.reduction_t, actor=ra, reference="PCER project BJ-LCT-1")
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p.pk, approver=ra)      # the proposer cannot approve
    assert e.value.code == "R0501"
    proposal_approve(proposal_id=p.pk, approver=rb)
    assert in_total() == before + 2_850
    i = issuance_propose(key="pcer-i1", unit_type=UnitType.objects.get(code="PCER-2023"),
                         lines=[IssuanceLine(account=bj.acc[1].number, quantity=r.reduction_t, reference="BJ-LCT-1")], actor=rb)
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=i.pk, approver=rb)
    assert e.value.code == "R0501"
    proposal_approve(proposal_id=i.pk, approver=ra)
    assert in_total() == before
    held = Holding.objects.get(account=bj.acc[1], unit_type__code="PCER-2023", position=Position.REGISTRY).quantity
    assert held == 2_850
    _surrender(bj, 1, "PCER-2023", 2_500, "2024-10-10", "bj2-pcer")
    with pytest.raises(CetsError) as e:
        surrender_submit(key="bj2-more", entity=bj.orgs[1], year=2023, unit_type_code="PCER-2023", quantity=1, actor=bj.users[1], at=when("2024-10-11"))
    assert e.value.code == "C1001"
    assert Holding.objects.get(account=bj.acc[1], unit_type__code="PCER-2023", position=Position.REGISTRY).quantity == 350


@pytest.mark.django_db
def test_api_compute(bj):  # noqa: F811
    from tests.conftest import client_for

    c = client_for(bj.users[1])
    r = c.post("/api/v1/mrv/pcer/compute", {"methodology": "ev_conversion", "activity": {"vehicle_km": 100_000, "electricity_kwh": 15_000}},
               content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["reduction_t"] == 9
    r = c.post("/api/v1/mrv/pcer/compute", {"methodology": "ev_conversion", "activity": {"vehicle_km": "100000", "electricity_kwh": 1}},
               content_type="application/json")
    assert r.status_code == 422
    r = c.post("/api/v1/mrv/pcer/compute", {"methodology": "solar", "activity": {}}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "P0101"
    r = c.post("/api/v1/mrv/pcer/compute", {"methodology": "ev_conversion", "activity": {}, "pack": "../../etc"}, content_type="application/json")
    assert r.status_code in (404, 422)


@pytest.mark.django_db
def test_register_approve_submit_confirm_then_issue(bj):  # noqa: F811
    """BJ3 registers an ev_conversion project, the bureau approves, BJ3 submits a period (100,000 vkm, 15,000 kWh → 9 t),
    the bureau confirms, two registry operators issue 9 t to BJ3. Refusals change nothing."""
    import datetime as dt

    from cets.mrv.models import PcerPeriod, PcerProject
    from cets.mrv.pcer_services import pcer_period_confirm, pcer_period_submit, pcer_project_approve, pcer_project_register

    owner, user = bj.orgs[2], bj.users[2]
    p = pcer_project_register(owner=owner, name="油改电网约车", methodology="ev_conversion", location="北京市朝阳区", actor=user)
    D = dt.date.fromisoformat
    act = {"vehicle_km": 100_000, "electricity_kwh": 15_000}
    with pytest.raises(CetsError) as e:
        pcer_period_submit(project_id=p.pk, start=D("2024-01-01"), end=D("2024-06-30"), activity=act, actor=user)
    assert e.value.code == "P0105"
    with pytest.raises(CetsError) as e:
        pcer_project_approve(project_id=p.pk, actor=user)          # the owner cannot approve its own project
    assert e.value.code == "R0502"
    pcer_project_approve(project_id=p.pk, actor=bj.bureau)
    with pytest.raises(CetsError) as e:
        pcer_period_submit(project_id=p.pk, start=D("2024-01-01"), end=D("2024-06-30"), activity=act, actor=bj.users[0])  # not the owner
    assert e.value.code == "R0502"
    with pytest.raises(CetsError) as e:
        pcer_period_submit(project_id=p.pk, start=D("2024-01-01"), end=D("2024-06-30"), activity={"vehicle_km": 1.5, "electricity_kwh": 0}, actor=user)
    assert e.value.code == "P0102"
    assert PcerPeriod.objects.count() == 0
    q = pcer_period_submit(project_id=p.pk, start=D("2024-01-01"), end=D("2024-06-30"), activity=act, actor=user)
    assert (q.reduction_t, q.pack_id, q.status) == (9, PACK.id, "submitted")
    with pytest.raises(CetsError) as e:
        pcer_period_confirm(period_id=q.pk, actor=user)
    assert e.value.code == "R0502"
    q = pcer_period_confirm(period_id=q.pk, actor=bj.bureau)
    assert q.status == "confirmed" and PcerProject.objects.get().status == "approved"
    with pytest.raises(CetsError) as e:
        pcer_period_confirm(period_id=q.pk, actor=bj.bureau)
    assert e.value.code == "P0106"
    ut = UnitType.objects.get(code="PCER-2023")
    i = issuance_propose(key=f"pcer-period-{q.pk}", unit_type=ut, lines=[IssuanceLine(account=bj.acc[2].number, quantity=q.reduction_t)], actor=bj.w.registry_a)
    proposal_approve(proposal_id=i.pk, approver=bj.w.registry_b)
    assert Holding.objects.get(account=bj.acc[2], unit_type=ut, position=Position.REGISTRY).quantity == 9
