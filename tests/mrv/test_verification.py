"""Verification: 双随机 assignment under the conflict rule (Regulations Art. 13), outcome, notification
within 7 working days (Art. 12), objection within 7 and decision within 10 (Measures Art. 27), Beijing
spot checks (京环发〔2024〕8号 §四(二)) and the yearly verifier evaluation (环办气候函〔2025〕140号 §二(九))."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cets.core.errors import CetsError
from cets.mrv.verification import BodyScore, SpotCheckRule, VerificationFact, assign_bodies, evaluate_bodies, spot_check_flags
from tests.conftest import SD_1, when


def U(bodies, assignment):
    """The verifier user of the body an assignment drew."""
    return next(b.user for b in bodies if b.pk == assignment.body_id)


BEIJING = SpotCheckRule(abs_t=1000, rel=Decimal("0.10"), rel_inclusive=True)


def test_draw_is_reproducible_and_respects_conflicts():
    ents = [f"E{i:02d}" for i in range(20)]
    bodies = ["B1", "B2", "B3", "B4"]
    conflicts = {"E00": {"B1", "B2", "B3"}, "E05": {"B4"}}
    a = assign_bodies(entities=ents, bodies=bodies, conflicts=conflicts, seed="2023-37-1")
    assert a == assign_bodies(entities=list(reversed(ents)), bodies=list(reversed(bodies)), conflicts=conflicts, seed="2023-37-1")
    assert a["E00"] == "B4"
    assert a["E05"] != "B4"
    # spread: 20 entities over 4 bodies, at most ⌈20/4⌉ = 5 each
    assert sorted(list(a.values()).count(b) for b in bodies) == [5, 5, 5, 5]
    assert a != assign_bodies(entities=ents, bodies=bodies, conflicts=conflicts, seed="2023-37-2")


def test_draw_refuses_when_no_body_is_free_of_conflict():
    with pytest.raises(CetsError) as e:
        assign_bodies(entities=["E1"], bodies=["B1"], conflicts={"E1": {"B1"}}, seed="x")
    assert e.value.code == "V0301"
    with pytest.raises(CetsError) as e:
        assign_bodies(entities=["E1"], bodies=[], conflicts={}, seed="x")
    assert e.value.code == "V0302"


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 30), st.integers(2, 6), st.data())
def test_draw_never_gives_a_conflicted_body(n, k, data):
    ents = [f"E{i}" for i in range(n)]
    bodies = [f"B{j}" for j in range(k)]
    conflicts = {e: set(data.draw(st.lists(st.sampled_from(bodies), max_size=k - 1))) for e in ents}
    a = assign_bodies(entities=ents, bodies=bodies, conflicts=conflicts, seed=data.draw(st.text(max_size=8)))
    assert set(a) == set(ents)
    assert all(a[e] not in conflicts[e] for e in ents)


@pytest.mark.parametrize("verified,spot,flag", [
    (100_000, 101_000, False),   # 1,000 t is not "over 1,000 t"; 1% < 10%
    (100_000, 101_001, True),    # 1,001 t > 1,000 t
    (5_000, 5_500, True),        # 500 t but 500 / 5,000 = 10%: "10%以上" includes 10%
    (5_000, 5_499, False),       # 499 / 5,000 = 9.98%
    (5_000, 4_500, True),        # a lower spot check counts the same
    (0, 1, True), (0, 0, False),
])
def test_beijing_spot_check_rule(verified, spot, flag):
    assert spot_check_flags(verified_t=verified, spot_t=spot, rule=BEIJING) is flag


def test_spot_check_rule_exclusive_reading():
    assert spot_check_flags(verified_t=5_000, spot_t=5_500, rule=SpotCheckRule(1000, Decimal("0.10"), rel_inclusive=False)) is False


def test_evaluation_shares_by_hand():
    facts = [VerificationFact("B1", True, True, True, False), VerificationFact("B1", True, False), VerificationFact("B1", False, None),
             VerificationFact("B2", True, None, True, True)]
    # B1: on time 2/3 = 0.6667; notified in time 1 of 2 known = 0.5; 1 spot check, not flagged → quality 1
    # B2: 1/1 on time; no notification known → None; 1 spot check flagged → quality 0
    assert evaluate_bodies(facts) == [BodyScore("B1", 3, Decimal("0.6667"), Decimal("0.5000"), Decimal("1.0000"), 1, 0),
                                      BodyScore("B2", 1, Decimal("1.0000"), None, Decimal("0.0000"), 1, 1)]


@pytest.fixture
def bodies(world):
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create

    out = []
    for i, code in enumerate(("91110108MA01R1234G", "91110108MA01R5678L", "91110108MA01R9012N")):
        b = Organisation.objects.create(uscc=code, name=f"核查机构{i}", kind=Organisation.Kind.VERIFIER)
        b.user = member_create(username=f"v{i}", organisation=b, role=Role.VERIFIER)
        out.append(b)
    return out


def test_assignment_to_decision_with_working_day_deadlines(world, bodies):
    from cets.mrv.models import VerificationAssignment
    from cets.mrv.selectors import verification_blocks
    from cets.mrv.services import (
        report_preparer_record,
        verification_assign,
        verification_notify,
        verification_objection_decide,
        verification_objection_file,
        verification_outcome_record,
    )

    w = world
    # SD_1's report was prepared with bodies 0 and 1: only body 2 may verify it
    report_preparer_record(entity=w.sd1, year=2023, body=bodies[0], actor=w.entity_sd1_user)
    report_preparer_record(entity=w.sd1, year=2023, body=bodies[1], actor=w.province_sd)
    with pytest.raises(CetsError) as e:
        report_preparer_record(entity=w.sd2, year=2023, body=bodies[0], actor=w.entity_sd1_user)
    assert e.value.code == "R0502"
    with pytest.raises(CetsError) as e:
        verification_assign(year=2023, province="37", entities=[w.sd1, w.zj1], bodies=bodies, seed="s", sector="power", actor=w.province_sd)
    assert e.value.code == "R0502"
    got = verification_assign(year=2023, province="37", entities=[w.sd1, w.sd2], bodies=bodies, seed="2023-37", sector="power", actor=w.province_sd,
                              at=when("2024-03-01"))
    by = {a.entity.uscc: a for a in got}
    assert by[SD_1].body == bodies[2]
    with pytest.raises(CetsError) as e:
        verification_assign(year=2023, province="37", entities=[w.sd1], bodies=bodies, seed="again", sector="power", actor=w.province_sd)
    assert e.value.code == "V0303"

    a = by[SD_1]
    other = next(b for b in bodies if b != a.body)
    with pytest.raises(CetsError) as e:
        verification_outcome_record(assignment_id=a.pk, actor=other.user, verified_emissions_t=1, generation_mwh=None, heat_supplied_gj=None,
                                    conforming=True, completed_on=dt.date(2024, 9, 27))
    assert e.value.code == "R0502"
    # completed Fri 2024-09-27 + 7 working days (09-29 Sun and 10-12 Sat are make-up days; 10-01..07 holiday) = 2024-10-12
    a = verification_outcome_record(assignment_id=a.pk, actor=U(bodies, a), verified_emissions_t=812_345, generation_mwh=Decimal("1000000"),
                                    heat_supplied_gj=Decimal("0"), conforming=False, completed_on=dt.date(2024, 9, 27))
    assert a.notify_by == dt.date(2024, 10, 12)
    assert len(verification_blocks(entity_id=w.sd1.pk, year=2023)) == 1
    with pytest.raises(CetsError) as e:
        verification_objection_file(assignment_id=a.pk, actor=w.entity_sd1_user, on=dt.date(2024, 10, 1), text="x")
    assert e.value.code == "V0306"
    # notified Mon 10-14 (late: after 10-12); objection by 10-14 + 7 working days = 10-23
    a = verification_notify(assignment_id=a.pk, actor=w.province_sd, on=dt.date(2024, 10, 14))
    assert a.objection_by == dt.date(2024, 10, 23)
    with pytest.raises(CetsError) as e:
        verification_objection_file(assignment_id=a.pk, actor=w.entity_sd1_user, on=dt.date(2024, 10, 24), text="late")
    assert e.value.code == "V0305"
    # objection Fri 10-18; decision by 10-18 + 10 working days = 11-01
    a = verification_objection_file(assignment_id=a.pk, actor=w.entity_sd1_user, on=dt.date(2024, 10, 18), text="数据有误")
    assert a.decision_by == dt.date(2024, 11, 1)
    with pytest.raises(CetsError) as e:
        verification_objection_decide(assignment_id=a.pk, actor=w.province_zj, on=dt.date(2024, 10, 30), upheld=True)
    assert e.value.code == "R0502"
    verification_objection_decide(assignment_id=a.pk, actor=w.province_sd, on=dt.date(2024, 10, 30), upheld=True)
    assert verification_blocks(entity_id=w.sd1.pk, year=2023) == []
    assert VerificationAssignment.objects.get(pk=a.pk).objection_upheld is True


def test_spot_check_excludes_first_verifier_and_is_not_flagged_without_a_national_rule(world, bodies):
    from cets.mrv.services import verification_assign, verification_outcome_record

    w = world
    with pytest.raises(CetsError) as e:
        verification_assign(year=2023, province="37", entities=[w.sd2], bodies=bodies, seed="s", sector="power", actor=w.province_sd, kind="spot_check")
    assert e.value.code == "V0308"
    [a] = verification_assign(year=2023, province="37", entities=[w.sd2], bodies=bodies, seed="s", sector="power", actor=w.province_sd)
    verification_outcome_record(assignment_id=a.pk, actor=U(bodies, a), verified_emissions_t=100_000, generation_mwh=None,
                                heat_supplied_gj=None, conforming=True, completed_on=dt.date(2024, 6, 7))
    for seed in ("a", "b", "c", "d"):
        from cets.mrv.models import VerificationAssignment
        VerificationAssignment.objects.filter(kind="spot_check").delete()
        [s] = verification_assign(year=2023, province="37", entities=[w.sd2], bodies=bodies, seed=seed, sector="power", actor=w.province_sd, kind="spot_check")
        assert s.body != a.body
    s = verification_outcome_record(assignment_id=s.pk, actor=U(bodies, s), verified_emissions_t=150_000, generation_mwh=None,
                                    heat_supplied_gj=None, conforming=True, completed_on=dt.date(2024, 6, 7))
    assert s.notify_by == dt.date(2024, 6, 19)  # Fri 06-07 + 7 working days, 06-10 Dragon Boat holiday
    assert s.flagged is None  # the national pack has no spot-check rule


def test_beijing_spot_check_flags_and_evaluation_is_published(world, bodies):
    from cets.mrv.models import VerifierEvaluation
    from cets.mrv.selectors import verifier_evaluations
    from cets.mrv.services import verification_assign, verification_notify, verification_outcome_record, verifier_evaluation_publish
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create

    bj = Organisation.objects.create(uscc="91110105MA00ABCD1G", name="北京测试热电厂", kind=Organisation.Kind.ENTITY, region_code="110105", province="11")
    bj_auth = member_create(username="pbj", role=Role.PROVINCIAL_AUTHORITY, province="11",
                            organisation=Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市生态环境局", province="11"))
    bj_user = member_create(username="bjent", organisation=bj, role=Role.ENTITY)
    from cets.mrv.services import verification_commission

    a = verification_commission(entity=bj, year=2023, body=bodies[0], sector="power", actor=bj_user, market="beijing", at=when("2024-05-20"))
    verification_outcome_record(assignment_id=a.pk, actor=U(bodies, a), verified_emissions_t=5_000, generation_mwh=None, heat_supplied_gj=None,
                                conforming=True, completed_on=dt.date(2024, 6, 7))
    verification_notify(assignment_id=a.pk, actor=bj_auth, on=dt.date(2024, 6, 19))   # on the last day: in time
    [s] = verification_assign(year=2023, province="11", entities=[bj], bodies=bodies, seed="s", sector="power", actor=bj_auth, market="beijing",
            kind="spot_check")
    # 5,500 − 5,000 = 500 t = 10% of 5,000 → flagged ("10%以上")
    s = verification_outcome_record(assignment_id=s.pk, actor=U(bodies, s), verified_emissions_t=5_500, generation_mwh=None, heat_supplied_gj=None,
                                    conforming=True, completed_on=dt.date(2024, 7, 1))
    assert s.flagged is True
    with pytest.raises(CetsError):
        verifier_evaluation_publish(year=2023, province="11", actor=world.province_sd)
    assert verifier_evaluation_publish(year=2023, province="11", actor=bj_auth, at=when("2025-12-30")) == 1
    [ev] = verifier_evaluations(year=2023, province="11")
    assert ev.body == a.body
    assert ev.timeliness == 1
    assert ev.compliance == 1
    assert ev.quality == 0
    assert ev.flagged == 1
    assert VerifierEvaluation.objects.count() == 1
    from tests.conftest import client_for
    [pub] = client_for(world.entity_zj1_user).get("/api/v1/mrv/verifier-evaluations?year=2023").json()
    assert pub["quality"] == "0.0000"
    assert pub["timeliness"] == "1.0000"
    assert pub["body_uscc"] == ev.body.uscc


def test_api_flow(world, bodies):
    from tests.conftest import client_for

    w = world
    sd = client_for(w.province_sd)
    body = {"year": 2023, "province": "37", "sector": "power", "entity_usccs": [SD_1], "body_usccs": [b.uscc for b in bodies], "seed": "api"}
    [a] = sd.post("/api/v1/mrv/assignments", body, content_type="application/json").json()
    v = client_for(next(b.user for b in bodies if b.uscc == a["body_uscc"]))
    out = v.post(f"/api/v1/mrv/assignments/{a['id']}/outcome", {"verified_emissions_t": 812345, "generation_mwh": "1000000.5",
                                                                 "conforming": True, "completed_on": "2024-09-27"}, content_type="application/json")
    assert out.status_code == 200
    assert out.json()["notify_by"] == "2024-10-12"
    # notified Tue 10-08: + 7 working days = 10-09, 10-10, 10-11, 10-12 (Sat, make-up day), 10-14, 10-15, 10-16
    assert sd.post(f"/api/v1/mrv/assignments/{a['id']}/notify", {"on": "2024-10-08"}, content_type="application/json").json()["objection_by"] == "2024-10-16"
    r = client_for(w.entity_zj1_user).post(f"/api/v1/mrv/assignments/{a['id']}/objection", {"on": "2024-10-09"}, content_type="application/json")
    assert r.status_code == 403
    assert r.json()["code"] == "R0502"


def test_beijing_entity_commissions_its_verifier_the_national_market_keeps_the_draw(world, bodies):
    """京环发〔2024〕8号 三(二): "重点碳排放单位自行委托核查机构通过管理平台开展碳排放核查工作" — in Beijing the entity commissions
    its body (the bureau draws no regular verification, V0313); the national market keeps the random draw (双随机), so an
    entity there may not commission (V0312). 四(二): "抽查与核查排放量差异超过1000吨或10%以上的，市生态环境部门将对核查机构予以提醒":
    verified 50,000 t; a spot check of 51,001 t differs by 1,001 t > 1,000 t (2.0%) → the commissioned body is flagged."""
    from cets.mrv.models import VerificationAssignment
    from cets.mrv.services import (
        report_preparer_record,
        verification_assign,
        verification_commission,
        verification_outcome_record,
        verification_selection,
    )
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create

    assert (verification_selection("beijing", "power", 2023), verification_selection("beijing", "services", 2023)) == ("commissioned", "commissioned")
    assert verification_selection("national", "power", 2023) == "random_draw"
    bj = Organisation.objects.create(uscc="91110105MA00ABCD1G", name="北京测试热电厂", kind=Organisation.Kind.ENTITY, region_code="110105", province="11")
    other = Organisation.objects.create(uscc="91110105MA00ABCE2X", name="北京另一单位", kind=Organisation.Kind.ENTITY, region_code="110105", province="11")
    bj_user = member_create(username="bjent", organisation=bj, role=Role.ENTITY)
    bj_auth = member_create(username="pbj", role=Role.PROVINCIAL_AUTHORITY, province="11",
                            organisation=Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市生态环境局", province="11"))

    def refused(code, **kw):
        n = VerificationAssignment.objects.count()
        with pytest.raises(CetsError) as e:
            verification_commission(**{"entity": bj, "year": 2023, "body": bodies[1], "actor": bj_user, "market": "beijing", "sector": "power", **kw})
        assert e.value.code == code
        assert VerificationAssignment.objects.count() == n

    refused("R0502", entity=other)                                    # only for its own report
    refused("R0502", actor=bj_auth)                                   # the bureau does not commission for the entity
    refused("V0312", market="national")                               # the national market draws at random
    refused("V0315", body=other)                                      # an entity is not a verification body
    report_preparer_record(entity=bj, year=2023, body=bodies[2], actor=bj_user)
    refused("V0314", body=bodies[2])                                  # it helped prepare the report (Regulations Art. 13)
    with pytest.raises(CetsError) as e:                               # the bureau draws no regular Beijing verification
        verification_assign(year=2023, province="11", entities=[bj], bodies=bodies, seed="s", sector="power", actor=bj_auth, market="beijing")
    assert e.value.code == "V0313"
    a = verification_commission(entity=bj, year=2023, body=bodies[1], sector="power", actor=bj_user, market="beijing", at=when("2024-05-20"))
    assert (a.kind, a.commissioned_by_id, a.body_id, a.seed, a.province, a.market) == ("regular", bj.pk, bodies[1].pk, "", "11", "beijing")
    refused("V0303", body=bodies[0])                                  # one regular verification a year
    # the national market keeps the draw: commissioned_by stays empty
    [n] = verification_assign(year=2023, province="37", entities=[world.sd1], bodies=bodies, seed="x", sector="power", actor=world.province_sd)
    assert n.commissioned_by_id is None
    assert n.seed == "x"
    # outcome by the commissioned body, then the bureau's spot check (drawn, never the first verifier)
    verification_outcome_record(assignment_id=a.pk, actor=bodies[1].user, verified_emissions_t=50_000, generation_mwh=None, heat_supplied_gj=None,
                                conforming=True, completed_on=dt.date(2024, 7, 1))
    [s] = verification_assign(year=2023, province="11", entities=[bj], bodies=bodies, seed="s", sector="power", actor=bj_auth, market="beijing",
            kind="spot_check")
    assert s.body_id != bodies[1].pk
    s = verification_outcome_record(assignment_id=s.pk, actor=U(bodies, s), verified_emissions_t=51_001, generation_mwh=None, heat_supplied_gj=None,
                                    conforming=True, completed_on=dt.date(2024, 8, 1))
    assert s.flagged is True


@pytest.mark.parametrize(("verified", "spot", "flag"), [
    (50_000, 51_000, False),   # 1,000 t is not "超过1000吨"; 2% < 10%
    (50_000, 51_001, True),    # 1,001 t > 1,000 t
    (5_000, 5_499, False),     # 499 t, 9.98%
    (5_000, 5_500, True),      # 500 t = 10%: "10%以上" read as inclusive (pack note [M])
])
def test_beijing_spot_check_rule_from_the_pack(verified, spot, flag):
    """京环发〔2024〕8号 四(二): "抽查与核查排放量差异超过1000吨或10%以上的，市生态环境部门将对核查机构予以提醒"."""
    from cets.rules.packs import load_pack

    p = load_pack("beijing/power-2023")
    rule = SpotCheckRule(abs_t=int(p.decimal("verification.spot_check_abs_t")), rel=p.decimal("verification.spot_check_rel"),
                         rel_inclusive=p.flag("verification.spot_check_rel_inclusive"))
    assert spot_check_flags(verified_t=verified, spot_t=spot, rule=rule) is flag
