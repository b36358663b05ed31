"""Compliance API: surrender applications and approval, with the rule codes in the error body."""


from cets.compliance.models import Obligation
from cets.registry.models import AccountKind, Holding, Instrument, Position, TransferKind
from cets.registry.services import Leg, system_account, transfer_post, vintage_create
from tests.conftest import SD_1, client_for, when


def login(u):
    return client_for(u, verified=True)


def test_surrender_over_the_api(world):
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    cea24 = vintage_create(instrument=Instrument.CEA, vintage="2024", cap_t=100, key="cap-24")
    for ut in (world.cea, cea24):
        transfer_post(key=f"seed-{ut.code}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                      credit=Leg(world.accounts[SD_1], Position.REGISTRY), quantity=100)
    Obligation.objects.create(entity=world.sd1, year=2023, pack_id="national/power-2023-2024", obligation_t=150, offset_cap_t=7,
                              deadline=when("2024-12-31").date())
    e = login(world.entity_sd1_user)
    body = {"key": "s1", "entity_uscc": SD_1, "year": 2023, "unit_type": "CEA-2024", "quantity": 50}
    r = e.post("/api/v1/compliance/surrenders", body, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "R0601"  # the 2024 vintage cannot serve 2023 (plan §五(三))
    r = e.post("/api/v1/compliance/surrenders", dict(body, unit_type="CEA-2023", quantity=100), content_type="application/json")
    assert r.status_code == 200
    assert r.json()["status"] == "submitted"
    app = r.json()["id"]
    assert Holding.objects.get(account=world.accounts[SD_1], unit_type=world.cea, position="pending").quantity == 100
    r = login(world.province_zj).post(f"/api/v1/compliance/surrenders/{app}/approve")
    assert r.status_code == 403
    assert r.json()["code"] == "R0502"  # another province
    r = login(world.province_sd).post(f"/api/v1/compliance/surrenders/{app}/approve")
    assert r.status_code == 200
    assert r.json()["status"] == "approved"
    r = e.post("/api/v1/compliance/surrenders", dict(body, key="s2", unit_type="CEA-2023", quantity=51), content_type="application/json")
    assert r.json()["code"] == "R0604"  # more than the remaining obligation


def test_penalty_over_the_api(world):
    import datetime as dt

    from django.utils import timezone

    from tests.compliance.helpers import load_daily_stats

    load_daily_stats("2024-11")
    ob = Obligation.objects.create(entity=world.sd1, year=2023, pack_id="national/power-2023-2024", obligation_t=1_000, offset_cap_t=50,
                                   deadline=dt.date(2024, 12, 31))
    assert timezone.localdate() > ob.deadline  # the tests run after the 2023 deadline
    p = login(world.province_sd)
    r = p.get(f"/api/v1/compliance/penalties/range/{ob.pk}")
    # 1,000 t × 9,748 fen (November 2024, see test_noncompliance) × 5 … 10
    assert r.json() == {"basis": "price_multiple", "unsurrendered_t": 1000, "price_fen": 9748, "min_fen": 48_740_000, "max_fen": 97_480_000}
    assert login(world.province_zj).get(f"/api/v1/compliance/penalties/range/{ob.pk}").status_code == 403
    body = {"obligation_id": ob.pk, "reference": "鲁环罚1", "reason": "r", "multiple": "11"}
    assert p.post("/api/v1/compliance/penalties", body, content_type="application/json").json()["code"] == "C0802"
    r = p.post("/api/v1/compliance/penalties", dict(body, multiple="6"), content_type="application/json")
    assert r.status_code == 200
    assert r.json()["fine_fen"] == 58_488_000  # 6 × 1,000 × 9,748


def test_forced_surrender_endpoint_needs_a_verified_operator(world):
    """The endpoint lives with compliance (its service's context): an unverified operator gets R0505,
    an unknown entity R0101, a verified operator a four-eyes proposal awaiting approval."""
    from cets.compliance.models import Obligation
    from tests.conftest import SD_1, client_for, when

    Obligation.objects.create(entity=world.sd1, year=2023, pack_id="national/power-2023-2024", obligation_t=800, offset_cap_t=40,
                              deadline=when("2024-12-31").date())
    body = {"key": "fs-api-1", "entity_uscc": SD_1, "year": 2023, "instruction_ref": "鲁环函〔2024〕88号"}
    r = client_for(world.registry_a).post("/api/v1/compliance/forced-surrender", body, content_type="application/json")
    assert r.status_code == 403
    assert r.json()["code"] == "R0505"
    c = client_for(world.registry_a, verified=True)
    r = c.post("/api/v1/compliance/forced-surrender", dict(body, entity_uscc="91370000000000000X"), content_type="application/json")
    assert r.json()["code"] == "R0101"
    r = c.post("/api/v1/compliance/forced-surrender", body, content_type="application/json")
    assert r.status_code == 200
    assert r.json()["kind"] == "forced_surrender"
    assert r.json()["status"] == "proposed"
