"""Beijing's pre-issue of free allowances before the emissions are determined, and the final issue with its true-up
(京环发〔2024〕8号 三(三)2: "市生态环境部门将于2024年7月15日前完成免费配额预发、9月15日前完成免费配额核发"). The bureau proposes, a
second bureau user approves (four eyes, proposal kind ``free_allocation``). Pack beijing/emitters-2023-2024: pre-issue
share ``allocation.pre_allocation_ratio`` 0.70 of the previous year's approved allocation for entities that completed
the previous compliance, rounded down (``rounding.pre_allocation``); ±20% cap; every rounding floor.

Computed by hand (basis file below; emissions determined after the pre-issue):
- A 历史总量 prev 95,001, compliant → pre-issue floor(0.7 × 95,001 = 66,500.7) = 66,500. Final: base 90,000 × 0.98 =
  88,200, E 100,000 → [80,000, 120,000] → 88,200; true-up up 88,200 − 66,500 = +21,700.
- B 基准线 prev 80,000, not compliant → pre-issue 0. Final 0.5 × 300,000 = 150,000, E 100,000 → cut to 120,000;
  true-up +120,000.
- C 历史强度 prev 30,000, compliant → 21,000. Final 0.8 × 50,000 × 0.95 = 38,000, E 50,000 → topped up to 40,000;
  true-up +19,000.
- E 历史总量 prev 80,000, compliant → 56,000. Final base 50,000 × 1 = 50,000, E 40,000 → [32,000, 48,000] → 48,000;
  true-up down 48,000 − 56,000 = −8,000, returned to the market's total account (claw-back line).
Total pre-issued 66,500 + 21,000 + 56,000 = 143,500; final 88,200 + 120,000 + 40,000 + 48,000 = 296,200.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cets.allocation.models import EntityAllocation, PreIssue
from cets.allocation.services import (
    allocation_basis_import,
    allocation_compute,
    allocation_issue_confirm,
    allocation_issue_propose,
    preissue_confirm,
    preissue_preview,
    preissue_propose,
)
from cets.core.errors import CetsError
from cets.parties.models import Organisation, Role
from cets.parties.services import member_create
from cets.registry.models import AccountKind, Holding, Instrument, Position, Proposal
from tests.conftest import when

PACK = "beijing/emitters-2023-2024"
A, B, C, E = "91110105MA00BJ0019", "91110108MA00BJ002P", "91110114MA00BJ003G", "91110105MA00BJ005M"
PW = "test-password-123"
BASIS = ("entity_uscc,method,base,activity,factor,prev_allocation_t,prev_compliant\n"
         f"{A},historical_total,90000,,0.98,95001,yes\n"
         f"{B},benchmark,0.5,300000,1,80000,no\n"
         f"{C},historical_intensity,0.8,50000,0.95,30000,yes\n"
         f"{E},historical_total,50000,,1,80000,yes\n")
EMISSIONS = {A: 100_000, B: 100_000, C: 50_000, E: 40_000}


class BJ:
    pass


@pytest.fixture
def bj(world, tmp_path):
    from cets.registry.services import account_open, system_accounts_ensure, vintage_create

    x = BJ()
    org = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市生态环境局", province="11")
    x.bureau = member_create(username="pbj", role=Role.PROVINCIAL_AUTHORITY, province="11", password=PW, organisation=org)
    x.bureau2 = member_create(username="pbj2", role=Role.PROVINCIAL_AUTHORITY, province="11", password=PW, organisation=org)
    x.ents = {code: Organisation.objects.create(uscc=code, name=f"北京测试{i}", kind=Organisation.Kind.ENTITY, province="11", region_code=code[2:8])
              for i, code in enumerate((A, B, C, E))}
    system_accounts_ensure(market="beijing", provinces=["11"])
    for o in x.ents.values():
        account_open(holder=o, market="beijing")
    x.bea = vintage_create(instrument=Instrument.BEA, vintage="2023", cap_t=1_000_000, key="bea-2023-test")
    f = tmp_path / "basis.csv"
    f.write_text(BASIS, encoding="utf-8")
    assert allocation_basis_import(pack_id=PACK, year=2023, path=f, actor=x.bureau) == 4
    return x


def _determine(world, x):
    """The emissions determined (verification completed) — after the pre-issue."""
    from cets.mrv.services import verification_commission, verification_outcome_record

    body = Organisation.objects.create(uscc="91110108MA01R1234G", name="核查机构", kind=Organisation.Kind.VERIFIER)
    verifier = member_create(username="vb", organisation=body, role=Role.VERIFIER, password=PW)
    for code, t in EMISSIONS.items():
        user = member_create(username=f"e{code[-4:]}", organisation=x.ents[code], role=Role.ENTITY, password=PW)
        a = verification_commission(entity=x.ents[code], year=2023, body=body, actor=user, market="beijing", sector="power", at=when("2024-05-20"))
        verification_outcome_record(assignment_id=a.pk, actor=verifier, verified_emissions_t=t, generation_mwh=None, heat_supplied_gj=None,
                                    conforming=True, completed_on=dt.date(2024, 8, 20))


def _held(x) -> dict[str, int]:
    return {h.account.holder.uscc: h.quantity for h in Holding.objects.filter(unit_type=x.bea, position=Position.REGISTRY,
                                                                              account__holder__in=list(x.ents.values())).select_related("account__holder")}


def _total(x) -> int:
    return Holding.objects.get(unit_type=x.bea, position=Position.REGISTRY, account__kind=AccountKind.NATIONAL_TOTAL, account__market="beijing").quantity


def test_preview_is_the_hand_computed_basis(bj):
    got = {ln["entity"].uscc: (ln["prev_allocation_t"], ln["prev_source"].split(":")[0], ln["pre_issue_t"]) for ln in preissue_preview(pack_id=PACK, year=2023)}
    assert got == {A: (95_001, "basis", 66_500), B: (80_000, "basis", 0), C: (30_000, "basis", 21_000), E: (80_000, "basis", 56_000)}


def test_preissue_before_determination_then_final_true_up_up_and_down(world, bj):
    x = bj
    assert not EntityAllocation.objects.exists()  # nothing determined, nothing computed
    p = preissue_propose(pack_id=PACK, year=2023, unit_type=x.bea, actor=x.bureau, client_key="bj-2023-pre", effective_at=when("2024-07-12"))
    assert p.kind == "free_allocation" and p.status == Proposal.Status.PROPOSED
    assert sorted(ln["quantity"] for ln in p.payload["lines"]) == [21_000, 56_000, 66_500]  # B pre-issues nothing: no line
    assert preissue_propose(pack_id=PACK, year=2023, unit_type=x.bea, actor=x.bureau, client_key="bj-2023-pre").pk == p.pk  # a retry
    assert PreIssue.objects.count() == 4 and _held(x) == {}
    from cets.registry.services import proposal_approve

    with pytest.raises(CetsError) as e:  # four eyes: not the proposer
        proposal_approve(proposal_id=p.pk, approver=x.bureau)
    assert e.value.check.code == "R0501"
    with pytest.raises(CetsError) as e:  # nor the registry: the bureau's second user approves
        proposal_approve(proposal_id=p.pk, approver=world.registry_b)
    assert e.value.check.code == "R0502"
    proposal_approve(proposal_id=p.pk, approver=x.bureau2)
    assert preissue_confirm(market="beijing", year=2023) == {"executed": 4}
    assert _held(x) == {A: 66_500, C: 21_000, E: 56_000}
    assert _total(x) == 1_000_000 - 143_500
    with pytest.raises(CetsError) as e:  # a second pre-issue of the same year and units
        preissue_propose(pack_id=PACK, year=2023, unit_type=x.bea, actor=x.bureau, client_key="bj-2023-pre-again")
    assert e.value.check.code == "A0301" and A in str(e.value)
    # 09-15: emissions determined, the allocation computed, the final issue proposed by the bureau
    _determine(world, x)
    allocation_compute(year=2023, pack_id=PACK, actor=x.bureau)
    allocation_compute(year=2023, pack_id=PACK, actor=x.bureau)  # a recompute before the final issue is allowed: the pre-issue is its own record
    rows = {a.entity.uscc: (a.stage, a.pre_allocation_computed_t, a.pre_issue_t, a.final_allocation_t, a.final_issue_t, a.issued_t)
            for a in EntityAllocation.objects.filter(market="beijing", year=2023).select_related("entity")}
    pre = EntityAllocation.Stage.PRE_ISSUED
    assert rows == {A: (pre, 66_500, 66_500, 88_200, 21_700, 66_500), B: (pre, 0, 0, 120_000, 120_000, 0),
                    C: (pre, 21_000, 21_000, 40_000, 19_000, 21_000), E: (pre, 56_000, 56_000, 48_000, -8_000, 56_000)}
    with pytest.raises(CetsError) as e:  # the pre-allocation stage was the pre-issue
        allocation_issue_propose(year=2023, stage="pre", unit_type=x.bea, actor=x.bureau, market="beijing")
    assert e.value.check.code == "A0306"
    f = allocation_issue_propose(year=2023, stage="final", unit_type=x.bea, actor=x.bureau, market="beijing", effective_at=when("2024-09-13"))
    assert f.kind == "free_allocation"
    assert sorted(ln["quantity"] for ln in f.payload["lines"]) == [-8_000, 19_000, 21_700, 120_000]
    proposal_approve(proposal_id=f.pk, approver=x.bureau2)
    assert allocation_issue_confirm(year=2023, stage="final", market="beijing") == 4
    assert _held(x) == {A: 88_200, B: 120_000, C: 40_000, E: 48_000}
    assert _total(x) == 1_000_000 - 296_200
    with pytest.raises(CetsError) as e:  # issued: no recompute, no pre-issue
        allocation_compute(year=2023, pack_id=PACK, actor=x.bureau)
    assert e.value.check.code == "A0101"
    with pytest.raises(CetsError) as e:
        preissue_propose(pack_id=PACK, year=2023, unit_type=x.bea, actor=x.bureau, client_key="late")
    assert e.value.check.code == "A0305"


def test_a_claw_back_beyond_what_the_entity_holds_is_refused_and_left_to_the_bureau(world, bj):
    """E transfers 50,000 of its 56,000 pre-issued away: it holds 6,000 < the 8,000 to return, shortfall 2,000 → R1402,
    nothing proposed (the bureau decides: e.g. an adjustment of a later year)."""
    from cets.registry.services import proposal_approve, transfer_post
    from cets.registry.services.ledger import Leg

    x = bj
    p = preissue_propose(pack_id=PACK, year=2023, unit_type=x.bea, actor=x.bureau, client_key="k1")
    proposal_approve(proposal_id=p.pk, approver=x.bureau2)
    from cets.registry.models import Account

    e_acc = Account.objects.get(holder=x.ents[E], market="beijing")
    a_acc = Account.objects.get(holder=x.ents[A], market="beijing")
    transfer_post(key="sold", kind="transfer", unit_type=x.bea, debit=Leg(e_acc, Position.REGISTRY), credit=Leg(a_acc, Position.REGISTRY),
                  quantity=50_000, reference="sold", actor=world.registry_a)
    _determine(world, x)
    allocation_compute(year=2023, pack_id=PACK, actor=x.bureau)
    with pytest.raises(CetsError) as e:
        allocation_issue_propose(year=2023, stage="final", unit_type=x.bea, actor=x.bureau, market="beijing")
    assert e.value.check.code == "R1402" and "shortfall 2000 t" in str(e.value)
    assert not Proposal.objects.filter(kind="free_allocation", status=Proposal.Status.PROPOSED).exists()
    assert not EntityAllocation.objects.exclude(proposal_key="").exists()  # nothing changed


def test_refusals(world, bj):
    x = bj
    for key in ("", "has space", "x" * 41, 7):
        with pytest.raises(CetsError) as e:
            preissue_propose(pack_id=PACK, year=2023, unit_type=x.bea, actor=x.bureau, client_key=key)
        assert e.value.check.code == "A0307"
    with pytest.raises(CetsError) as e:  # a registry operator is not the bureau
        preissue_propose(pack_id=PACK, year=2023, unit_type=x.bea, actor=world.registry_a, client_key="k")
    assert e.value.check.code == "R0502"
    with pytest.raises(CetsError) as e:  # a pack without a pre-issue basis
        preissue_propose(pack_id="national/power-2023-2024", year=2023, unit_type=x.bea, actor=x.bureau, client_key="k")
    assert e.value.check.code == "A0303"
    with pytest.raises(CetsError) as e:  # another province's bureau has nothing of Beijing to pre-issue
        preissue_propose(pack_id=PACK, year=2023, unit_type=x.bea, actor=world.province_sd, client_key="k")
    assert e.value.check.code == "A0302"
    p = preissue_propose(pack_id=PACK, year=2023, unit_type=x.bea, actor=x.bureau, client_key="k")
    _determine(world, x)
    with pytest.raises(CetsError) as e:  # computing while the pre-issue waits
        allocation_compute(year=2023, pack_id=PACK, actor=x.bureau)
    assert e.value.check.code == "A0304"
    from cets.registry.services import proposal_reject

    proposal_reject(proposal_id=p.pk, approver=x.bureau2, reason="basis to be corrected")
    assert preissue_confirm(market="beijing", year=2023) == {"rejected": 4}
    assert _held(x) == {}
    again = preissue_propose(pack_id=PACK, year=2023, unit_type=x.bea, actor=x.bureau, client_key="k2")  # a rejected pre-issue may be proposed again
    assert again.pk != p.pk and PreIssue.objects.filter(status="proposed").count() == 4


def test_api_preview_propose_sign_and_final(world, bj):
    """The same year through the API: preview, propose (a retry with the client key returns the same proposal), the
    second bureau user signs with its TOTP code through the registry API, confirm; then the final issue."""
    from tests.browser import totp_token
    from tests.conftest import client_for

    x = bj
    c1, c2 = client_for(x.bureau, verified=True), client_for(x.bureau2, verified=True)
    r = c1.get(f"/api/v1/allocation/2023/preissue?pack_id={PACK}")
    assert r.status_code == 200 and {ln["entity_uscc"]: ln["pre_issue_t"] for ln in r.json()} == {A: 66_500, B: 0, C: 21_000, E: 56_000}
    assert client_for(world.registry_a).get(f"/api/v1/allocation/2023/preissue?pack_id={PACK}").status_code == 403
    body = {"pack_id": PACK, "unit_type": "BEA-2023", "client_key": "api-1"}
    r = c1.post("/api/v1/allocation/2023/preissue", body, content_type="application/json")
    assert r.status_code == 200 and r.json()["total_t"] == 143_500 and r.json()["kind"] == "free_allocation"
    pid = r.json()["id"]
    assert c1.post("/api/v1/allocation/2023/preissue", body, content_type="application/json").json()["id"] == pid
    r = c1.post("/api/v1/allocation/2023/preissue", {**body, "client_key": "api-2"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "A0301"
    r = c1.post("/api/v1/allocation/2023/preissue", {**body, "unit_type": "NOPE-1"}, content_type="application/json")
    assert r.status_code == 404
    r = c2.post(f"/api/v1/registry/proposals/{pid}/approve", {"otp_token": totp_token(x.bureau2.username)}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "executed"
    assert c1.post("/api/v1/allocation/2023/issuance/confirm", {"market": "beijing"}, content_type="application/json").json() == {
        "preissue_executed": 4, "final_moved": 0}
    got = {r["entity_uscc"]: (r["pre_issued_t"], r["pre_issue_status"]) for r in c1.get(f"/api/v1/allocation/basis?pack_id={PACK}&year=2023").json()}
    assert got == {A: (66_500, "executed"), B: (0, "executed"), C: (21_000, "executed"), E: (56_000, "executed")}
    _determine(world, x)
    allocation_compute(year=2023, pack_id=PACK, actor=x.bureau)
    r = c1.post("/api/v1/allocation/2023/final-issue", {"market": "beijing", "unit_type": "BEA-2023"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["total_t"] == 296_200 - 143_500
    r = c2.post(f"/api/v1/registry/proposals/{r.json()['id']}/approve", {"otp_token": totp_token(x.bureau2.username)}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "executed"
    assert c2.post("/api/v1/allocation/2023/issuance/confirm", {"market": "beijing"}, content_type="application/json").json()["final_moved"] == 4
    got = {r["entity_uscc"]: (r["true_up_t"], r["issued_t"]) for r in c1.get(f"/api/v1/allocation/basis?pack_id={PACK}&year=2023").json()}
    assert got == {A: (21_700, 88_200), B: (120_000, 120_000), C: (19_000, 40_000), E: (-8_000, 48_000)}


def test_cli_preview(world, bj, capsys):
    """``cets allocation preissue``: the same figures as the page and the API, and the pre-issue in force once proposed."""
    import json

    from cets.cli import main

    assert main(["allocation", "preissue", "--pack", PACK, "--year", "2023", "--format", "json"]) == 0
    rows = {r["entity_uscc"]: (r["prev_allocation_t"], r["share"], r["pre_issue_t"], r["status"]) for r in json.loads(capsys.readouterr().out)}
    assert rows == {A: (95_001, "0.70", 66_500, None), B: (80_000, "0.70", 0, None), C: (30_000, "0.70", 21_000, None), E: (80_000, "0.70", 56_000, None)}
    preissue_propose(pack_id=PACK, year=2023, unit_type=bj.bea, actor=bj.bureau, client_key="cli")
    assert main(["allocation", "preissue", "--pack", PACK, "--year", "2023"]) == 0
    out = capsys.readouterr().out
    assert "143,500" in out and "proposed" in out
    assert main(["allocation", "preissue", "--pack", "national/power-2023-2024", "--year", "2023"]) == 2
    assert "A0303" in capsys.readouterr().err
