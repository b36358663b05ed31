"""Beijing's free allocation on the database path: the bureau records each entity's approval basis
(核定依据), MRV supplies the determined emissions, the mechanism caps the result at ±20% of them, the
registry issues BEA through four eyes and the obligations follow from the stored figures (no hand-entered
obligations). Pack beijing/emitters-2023-2024: surplus and shortfall caps 0.20, pre-allocation 0.70 for entities
that completed the previous compliance, every rounding floor; pack beijing/compliance-2023-2024: offsets ≤ 5% of
the determined emissions and the deadline 2024-11-15 (京环发〔2024〕8号 三(四)).

Computed by hand:
- A 历史总量 base 90,000 × factor 0.98 → A0 = 88,200; E = 100,000 → [80,000, 120,000] → 88,200; pre = floor(0.7 ×
  95,000) = 66,500 (compliant); issue 21,700; obligation 100,000, offset cap 5,000.
- B 基准线 0.5 t/unit × 300,000 × 1 → A0 = 150,000; verified 110,000 but the bureau's spot check 100,000 →
  E = 100,000 → cut to 120,000 (−30,000); not compliant → pre 0; obligation 100,000, offset cap 5,000.
- C 历史强度 0.8 × 50,000 × 0.95 → A0 = 38,000; E = 50,000 → topped up to 40,000 (+2,000); pre = floor(0.7 × 30,000)
  = 21,000; obligation 50,000, offset cap 2,500.
- D has a basis but no completed verification: no allocation.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cets.allocation.models import AllocationBasis, EntityAllocation
from cets.allocation.services import allocation_basis_import, allocation_compute
from cets.core.errors import CetsError, InputError
from cets.parties.models import Organisation, Role
from cets.parties.services import member_create
from tests.conftest import SD_1, when

PACK = "beijing/emitters-2023-2024"
A, B, C, D = "91110105MA00BJ0019", "91110108MA00BJ002P", "91110114MA00BJ003G", "91110105000000001Y"
PW = "test-password-123"
BASIS = ("entity_uscc,method,base,activity,factor,prev_allocation_t,prev_compliant\n"
         f"{A},historical_total,90000,,0.98,95000,是\n"
         f"{B},benchmark,0.5,300000,1,80000,否\n"
         f"{C},historical_intensity,0.8,50000,0.95,30000,yes\n"
         f"{D},historical_total,1000,,1,0,no\n")


@pytest.fixture
def bj(world, tmp_path):
    from cets.mrv.services import verification_assign, verification_commission, verification_outcome_record

    bureau = member_create(username="pbj", role=Role.PROVINCIAL_AUTHORITY, province="11", password=PW,
                           organisation=Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市生态环境局", province="11"))
    body = Organisation.objects.create(uscc="91110108MA01R1234G", name="核查机构", kind=Organisation.Kind.VERIFIER)
    verifier = member_create(username="vb", organisation=body, role=Role.VERIFIER, password=PW)
    spot_body = Organisation.objects.create(uscc="91110108MA01R5678L", name="抽查机构", kind=Organisation.Kind.VERIFIER)
    spot_verifier = member_create(username="vs", organisation=spot_body, role=Role.VERIFIER, password=PW)
    ents = {}
    for code, name in ((A, "北京测试热力"), (B, "北京测试水泥"), (C, "北京测试数据中心"), (D, "北京测试宾馆")):
        ents[code] = Organisation.objects.create(uscc=code, name=name, kind=Organisation.Kind.ENTITY, province="11", region_code=code[2:8])
    for code, t in ((A, 100_000), (B, 110_000), (C, 50_000)):
        user = member_create(username=f"e{code[-4:]}", organisation=ents[code], role=Role.ENTITY, password=PW)
        a = verification_commission(entity=ents[code], year=2023, body=body, actor=user, market="beijing", sector="power", at=when("2024-05-20"))
        verification_outcome_record(assignment_id=a.pk, actor=verifier, verified_emissions_t=t, generation_mwh=None, heat_supplied_gj=None,
                                    conforming=True, completed_on=dt.date(2024, 6, 7))
    [s] = verification_assign(year=2023, province="11", entities=[ents[B]], bodies=[spot_body], seed="s", actor=bureau, market="beijing", sector="power",
                              kind="spot_check")
    verification_outcome_record(assignment_id=s.pk, actor=spot_verifier, verified_emissions_t=100_000, generation_mwh=None, heat_supplied_gj=None,
                                conforming=True, completed_on=dt.date(2024, 7, 1))
    f = tmp_path / "basis.csv"
    f.write_text(BASIS, encoding="utf-8")
    return bureau, ents, f


def test_bureau_basis_to_allocation_obligations_and_issuance(world, bj):
    from cets.compliance.models import Obligation
    from cets.compliance.services import obligations_create

    bureau, ents, f = bj
    assert allocation_basis_import(pack_id=PACK, year=2023, path=f, actor=bureau) == 4
    assert AllocationBasis.objects.get(entity=ents[C]).factor == Decimal("0.95")
    out = allocation_compute(year=2023, pack_id=PACK, actor=bureau)
    assert out["entities"] == 3
    got = {a.entity.uscc: (a.verified_emissions_t, a.initial_allocation_t, a.shortfall_topup_t, a.final_allocation_t, a.pre_allocation_t,
                           a.issue_delta_t, a.obligation_t)
           for a in EntityAllocation.objects.filter(market="beijing", year=2023).select_related("entity")}
    assert got == {A: (100_000, 88_200, 0, 88_200, 66_500, 21_700, 100_000),
                   B: (100_000, 150_000, -30_000, 120_000, 0, 120_000, 100_000),
                   C: (50_000, 38_000, 2_000, 40_000, 21_000, 19_000, 50_000)}
    _issue_bea(world, ents)
    assert obligations_create(year=2023, pack_id="beijing/compliance-2023-2024") == 3
    obs = {o.entity.uscc: (o.obligation_t, o.offset_cap_t, o.deadline) for o in Obligation.objects.filter(market="beijing", year=2023)}
    assert obs == {A: (100_000, 5_000, dt.date(2024, 11, 15)), B: (100_000, 5_000, dt.date(2024, 11, 15)), C: (50_000, 2_500, dt.date(2024, 11, 15))}


def _issue_bea(world, ents):
    """Pre then final issuance of BEA-2023 through registry proposals (one operator proposes, another approves):
    each entity ends holding its free allocation."""
    from cets.allocation.services import allocation_issue_confirm, allocation_issue_propose
    from cets.registry.models import Holding, Instrument
    from cets.registry.services import account_open, proposal_approve, system_accounts_ensure, vintage_create

    system_accounts_ensure(market="beijing", provinces=["11"])
    for o in ents.values():
        account_open(holder=o, market="beijing")
    bea = vintage_create(instrument=Instrument.BEA, vintage="2023", cap_t=1_000_000, key="bea-2023-test")
    for stage in ("pre", "final"):
        p = allocation_issue_propose(year=2023, stage=stage, unit_type=bea, actor=world.registry_a, market="beijing")
        proposal_approve(proposal_id=p.pk, approver=world.registry_b)
        allocation_issue_confirm(year=2023, stage=stage, market="beijing")
    held = {h.account.holder.uscc: h.quantity for h in Holding.objects.filter(unit_type=bea, account__holder__in=list(ents.values()))}
    assert held == {A: 88_200, B: 120_000, C: 40_000}


def test_the_previous_years_stored_allocation_beats_the_basis_figure(world, bj):
    """A's 2022 allocation held by the platform (88,200 t) is the basis of its 2023 pre-allocation: floor(0.7 × 88,200) =
    61,740, not the 66,500 from the basis file's 95,000."""
    bureau, ents, f = bj
    EntityAllocation.objects.create(entity=ents[A], market="beijing", sector="power", year=2022, pack_id="beijing/emitters-2021-2022",
                                    verified_emissions_t=90_000, pre_allocation_t=0, initial_allocation_t=88_200, shortfall_topup_t=0,
                                    final_allocation_t=88_200, issue_delta_t=88_200, source="imported:2022 tables")
    allocation_basis_import(pack_id=PACK, year=2023, path=f, actor=bureau)
    allocation_compute(year=2023, pack_id=PACK, actor=bureau)
    x = EntityAllocation.objects.get(market="beijing", year=2023, entity=ents[A])
    assert (x.final_allocation_t, x.pre_allocation_t, x.issue_delta_t) == (88_200, 61_740, 26_460)


def test_a_bad_basis_file_writes_nothing_and_says_where(world, bj, tmp_path):
    bureau, ents, _f = bj
    bad = tmp_path / "bad.csv"
    bad.write_text("entity_uscc,method,base,activity,factor,prev_allocation_t,prev_compliant\n"
                   f"{A},historical_total,90000,,0.98,95000,是\n"
                   f"{B},grandfathering,1,1,1,0,no\n"
                   "91110105MA00BJ004J,historical_total,1,,1,0,no\n"
                   f"{C},historical_intensity,-1,50000,1,0,no\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        allocation_basis_import(pack_id=PACK, year=2023, path=bad, actor=bureau)
    where = {(p.row, p.field) for p in e.value.problems}
    assert (3, "method") in where and (5, "base") in where and (4, "entity_uscc") in where
    assert not AllocationBasis.objects.exists()


def test_only_the_bureau_of_the_entities_province(world, bj, tmp_path):
    bureau, ents, f = bj
    with pytest.raises(CetsError) as e:
        allocation_basis_import(pack_id=PACK, year=2023, path=f, actor=world.province_sd)
    assert e.value.code == "R0502"
    other = tmp_path / "sd.csv"
    other.write_text("entity_uscc,method,base,activity,factor,prev_allocation_t,prev_compliant\n"
                     f"{A},historical_total,1,,1,0,no\n{SD_1},historical_total,1,,1,0,no\n", encoding="utf-8")
    with pytest.raises(CetsError) as e:
        allocation_basis_import(pack_id=PACK, year=2023, path=other, actor=bureau)
    assert e.value.code == "R0502"
    assert not AllocationBasis.objects.exists()


def test_a_pack_whose_method_takes_no_basis_is_refused(world, bj):
    bureau, _ents, f = bj
    with pytest.raises(CetsError) as e:
        allocation_basis_import(pack_id="national/power-2023-2024", year=2023, path=f, actor=bureau)
    assert e.value.code == "A0131"


def test_basis_pages_upload_compute_and_scope(world, bj):
    """The bureau uploads and computes on /allocation/basis/; a bad file answers 422 with row and column; the
    Shandong province sees no Beijing basis; an entity gets 404."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import client_for

    bureau, ents, f = bj
    c = client_for(bureau)
    scope = f"{PACK}:2023"
    r = c.post("/allocation/basis/upload/", {"scope": scope, "file": SimpleUploadedFile("bad.csv", b"entity_uscc,method\nx,y\n")})
    assert r.status_code == 422
    assert "missing columns" in r.content.decode() or "缺少列" in r.content.decode()
    assert not AllocationBasis.objects.exists()
    r = c.post("/allocation/basis/upload/", {"scope": scope, "file": SimpleUploadedFile("basis.csv", f.read_bytes())})
    assert r.status_code == 302 and AllocationBasis.objects.count() == 4
    r = c.post("/allocation/basis/compute/", {"scope": scope})
    assert r.status_code == 302
    page = c.get(r["Location"]).content.decode()
    assert "120,000" in page and "-30,000" in page and 'data-entity="' + D + '"' in page
    assert EntityAllocation.objects.filter(market="beijing", year=2023).count() == 3
    assert 'data-entity="' not in client_for(world.province_sd).get(f"/allocation/basis/?scope={scope}").content.decode()
    assert client_for(world.entity_sd1_user).get("/allocation/basis/").status_code == 404
    r = c.post("/allocation/basis/compute/", {"scope": "national/power-2023-2024:2023x"})
    assert r.status_code == 302


def test_basis_api(world, bj):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import client_for

    bureau, ents, f = bj
    c = client_for(bureau)
    r = c.post("/api/v1/allocation/basis", {"pack_id": PACK, "year": "2023", "file": SimpleUploadedFile("b.csv", f.read_bytes())})
    assert r.status_code == 200 and r.json() == {"entities": 4}
    r = c.post("/api/v1/allocation/basis", {"pack_id": PACK, "year": "2023",
                                            "file": SimpleUploadedFile("b.csv", BASIS.replace("0.98", "x").encode())})
    assert r.status_code == 422 and r.json()["problems"][0]["row"] == 2 and r.json()["problems"][0]["field"] == "factor"
    assert client_for(world.province_sd).post("/api/v1/allocation/basis", {"pack_id": PACK, "year": "2023",
                                                                           "file": SimpleUploadedFile("b.csv", f.read_bytes())}).status_code == 403
    allocation_compute(year=2023, pack_id=PACK, actor=bureau)
    got = {r["entity_uscc"]: r["free_allocation_t"] for r in c.get(f"/api/v1/allocation/basis?pack_id={PACK}&year=2023").json()}
    assert got == {A: 88_200, B: 120_000, C: 40_000, D: None}
    assert c.get("/api/v1/allocation/basis?pack_id=nope/nope&year=2023").status_code == 422
