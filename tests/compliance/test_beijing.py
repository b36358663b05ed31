"""Beijing pilot compliance on the real database: obligations with the pack's offset caps, surrender in the
Beijing market (BEA, 碳普惠 PCER, CCER) with every refusal changing nothing, the automatic collection at the
deadline (one batch proposal, four eyes) and its outcome, and the 3–5× fine from real Beijing market data.

Pack ``beijing/compliance-2023-2024``, from 京环发〔2024〕8号 (seed 004) 三(四): "碳排放配额清缴截止日期为2024年11月15日";
"使用比例不得高于当年核定碳排放量的5%" (no non-local sub-cap); offset applications "截止日期为2024年10月15日"; "逾期未完成的，
管理平台将自动收缴其账户内的配额及抵销产品，用于清缴"."""

import datetime as dt

import pytest

from cets.compliance.models import Obligation, SurrenderApplication
from cets.compliance.selectors import market_price, status_of
from cets.compliance.services import BeijingObligationRow, beijing_obligations_create, collection_propose, penalty_decide, surrender_approve, surrender_submit
from cets.core.errors import CetsError, InputError
from cets.parties.models import Organisation, Role
from cets.parties.services import member_create
from cets.registry.models import AccountKind, CcerProject, Holding, Instrument, Position, Proposal, Transfer, TransferKind
from cets.registry.services import (
    Leg,
    account_open,
    judicial_freeze,
    proposal_approve,
    proposal_reject,
    system_account,
    system_accounts_ensure,
    transfer_post,
    vintage_create,
)
from cets.rules.packs import load_pack
from tests.conftest import DATA, uscc_for, when

PACK = "beijing/compliance-2023-2024"
BJ_CSV = DATA / "cn-pilots-bj-tj-gd-hb" / "beijing_bea_daily.csv"
BJ = [uscc_for(i, prefix="9111000") for i in (1, 2, 3)]


def state():
    return (Transfer.objects.count(), SurrenderApplication.objects.count(), Proposal.objects.count(), Obligation.objects.count(),
            sorted(Holding.objects.values_list("account_id", "unit_type_id", "position", "quantity")))


class BjWorld:
    pass


def _issue(unit_type, acc, quantity, key):
    market = "ccer" if unit_type.instrument == Instrument.CCER else "beijing"
    transfer_post(key=key, kind=TransferKind.ISSUE, unit_type=unit_type, debit=Leg(system_account(market, AccountKind.NATIONAL_TOTAL), Position.REGISTRY),
                  credit=Leg(acc, Position.REGISTRY), quantity=quantity)


@pytest.fixture
def bj(world):
    """Three Beijing entities with Beijing accounts, the bureau (provincial authority, province 11), BEA 2022–2024,
    PCER 2023, a local and a non-local CCER project. Obligations of 2023 created by the bureau, offset cap 5% of the
    determined emissions (三(四) "使用比例不得高于当年核定碳排放量的5%"), no non-local cap:
    BJ1 110,000 t (allocation 100,000 t, irrelevant) → 5,500 t; BJ2 50,000 t → 2,500 t; BJ3 10,000 t → 500 t."""
    system_accounts_ensure(market="beijing", provinces=["11"])
    system_accounts_ensure(market="ccer")
    b = BjWorld()
    b.w = world
    b.orgs = [Organisation.objects.create(uscc=u, name=f"北京测试单位{i}", kind=Organisation.Kind.ENTITY, region_code=u[2:8], province="11")
              for i, u in enumerate(BJ, start=1)]
    b.acc = [account_open(holder=o, market="beijing") for o in b.orgs]
    pw = "test-password-123"
    bureau = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市生态环境局", province="11")
    b.bureau = member_create(username="bjb", organisation=bureau, role=Role.PROVINCIAL_AUTHORITY, province="11", password=pw)
    b.users = [member_create(username=f"bj{i}", organisation=o, role=Role.ENTITY, password=pw) for i, o in enumerate(b.orgs, start=1)]
    b.bea = {v: vintage_create(instrument=Instrument.BEA, vintage=v, cap_t=1_000_000, key=f"bea-{v}") for v in ("2022", "2023", "2024")}
    b.pcer = vintage_create(instrument=Instrument.PCER, vintage="2023", cap_t=100_000, key="pcer-2023")
    owner = Organisation.objects.create(kind=Organisation.Kind.INSTITUTION, name="项目业主", uscc="91110000000000001X")
    D = dt.date.fromisoformat
    local = CcerProject.objects.create(code="BJL1", name="北京光伏", owner=owner, province_name="北京市", registered_on=D("2024-06-03"))
    far = CcerProject.objects.create(code="HBF1", name="河北风电", owner=owner, province_name="河北省", registered_on=D("2024-06-03"))
    b.ccer_local = vintage_create(instrument=Instrument.CCER, vintage="2024", cap_t=100_000, key="ccer-bjl1", project=local)
    b.ccer_far = vintage_create(instrument=Instrument.CCER, vintage="2024", cap_t=100_000, key="ccer-hbf1", project=far)
    n = beijing_obligations_create(year=2023, pack_id=PACK, actor=b.bureau, rows=[
        BeijingObligationRow(BJ[0], 110_000, 100_000), BeijingObligationRow(BJ[1], 50_000, 48_000), BeijingObligationRow(BJ[2], 10_000, 10_000)])
    assert n == 3
    b.ob = [Obligation.objects.get(entity=o, year=2023) for o in b.orgs]
    return b


def _surrender(b, i, code, q, day, key):
    app = surrender_submit(key=key, entity=b.orgs[i], year=2023, unit_type_code=code, quantity=q, actor=b.users[i], at=when(day, 9))
    return surrender_approve(application_id=app.pk, approver=b.bureau, at=when(day, 11))


def test_obligations_carry_the_caps_and_deadline_of_the_notice(bj):
    """三(四): "碳排放配额清缴截止日期为2024年11月15日"; "使用比例不得高于当年核定碳排放量的5%".
    BJ1: 5% × 110,000 = 5,500 t (not 5% × the 100,000 t allocation = 5,000); BJ2: 5% × 50,000 = 2,500 t; no non-local cap."""
    o1, o2, _ = bj.ob
    assert (o1.obligation_t, o1.offset_basis_t, o1.offset_cap_t, o1.nonlocal_ccer_cap_t, o1.deadline) == (110_000, 110_000, 5_500, None, dt.date(2024, 11, 15))
    assert (o2.offset_cap_t, o2.nonlocal_ccer_cap_t) == (2_500, None)
    # idempotent: a second run creates none
    assert beijing_obligations_create(year=2023, pack_id=PACK, actor=bj.bureau, rows=[BeijingObligationRow(BJ[0], 1, 1)]) == 0


def test_obligation_input_refused_whole_and_only_by_the_bureau(bj):
    before = state()
    with pytest.raises(InputError) as e:
        beijing_obligations_create(year=2024, pack_id=PACK, actor=bj.bureau, rows=[
            BeijingObligationRow(BJ[0], 1_000, 900),          # fine, but the batch fails as a whole
            BeijingObligationRow(BJ[1], -1, 900),             # negative
            BeijingObligationRow(BJ[2], 1_000, None),         # no allocation: fine, the basis is the obligation
            BeijingObligationRow(bj.w.sd1.uscc, 1_000, 900),  # a Shandong entity
            BeijingObligationRow(BJ[0], 1_000, 900),          # listed twice
        ])
    assert [(p.row, p.field) for p in e.value.problems] == [(2, "verified_emissions_t"), (4, "entity_uscc"), (5, "entity_uscc")]
    assert state() == before
    for actor, code in ((bj.w.province_sd, "R0502"), (bj.w.registry_a, "R0502")):
        with pytest.raises(CetsError) as e:
            beijing_obligations_create(year=2024, pack_id=PACK, actor=actor, rows=[])
        assert e.value.code == code
    with pytest.raises(CetsError) as e:
        beijing_obligations_create(year=2025, pack_id=PACK, actor=bj.bureau, rows=[])
    assert e.value.code == "C1006"
    with pytest.raises(CetsError) as e:
        beijing_obligations_create(year=2023, pack_id="national/power-2023-2024", actor=bj.bureau, rows=[])
    assert e.value.code == "C1006"


@pytest.fixture
def holdings(bj):
    """BJ1 holds BEA-2023 10,000, BEA-2024 1,000, PCER 3,000, local CCER 3,000 and non-local CCER 3,000."""
    a = bj.acc[0]
    for ut, q in ((bj.bea["2023"], 10_000), (bj.bea["2024"], 1_000), (bj.pcer, 3_000), (bj.ccer_local, 3_000), (bj.ccer_far, 3_000)):
        _issue(ut, a, q, f"h-{ut.code}")
    return bj


def test_caps_golden_and_every_refusal_changes_nothing(holdings):
    """三(四): "使用比例不得高于当年核定碳排放量的5%" — BJ1's cap is 5% × 110,000 = 5,500 t for PCER and CCER together, with no
    sub-cap for CCERs from outside Beijing; offsets are applied for by "2024年10月15日"."""
    b = holdings
    far, near = b.ccer_far.code, b.ccer_local.code

    def refused(code, unit, q, key, day="2024-10-01"):
        before = state()
        with pytest.raises(CetsError) as e:
            surrender_submit(key=key, entity=b.orgs[0], year=2023, unit_type_code=unit, quantity=q, actor=b.users[0], at=when(day))
        assert e.value.code == code
        assert state() == before

    # non-local CCER 3,000 t: above the older rules' 2.5% (2,750 t) and accepted — the notice has no such sub-cap
    _surrender(b, 0, far, 3_000, "2024-10-01", "far")
    # cap 5,500 t: 3,000 used; local CCER 2,000 → 5,000; PCER 501 → 5,501 refused; PCER 500 → 5,500; one tonne more breaks it
    _surrender(b, 0, near, 2_000, "2024-10-02", "near")
    refused("C1001", b.pcer.code, 501, "r3")
    _surrender(b, 0, b.pcer.code, 500, "2024-10-15", "pcer")          # the cut-off day itself is allowed
    refused("C1001", b.pcer.code, 1, "r4")
    refused("C1001", far, 1, "r5")
    # offsets applied for after 2024-10-15 are refused (C1008) even within the cap
    b2 = Obligation.objects.get(entity=b.orgs[0], year=2023)
    assert b2.offset_cap_t == 5_500
    # vintage, instrument, quantity rules
    refused("R0601", "BEA-2024", 100, "r6")                # a later vintage never serves 2023
    refused("C1003", "CEA-2023", 100, "r7")                # national allowances are not Beijing units
    refused("R0604", "BEA-2023", 104_501, "r8")            # 110,000 − 5,500 applied = 104,500 left
    refused("R0302", "BEA-2023", 10_001, "r9")             # 10,000 held
    # what was surrendered: 5,500 t of offsets into the Beijing surrender account (CCERs keep their unit type)
    sink = system_account("beijing", AccountKind.SURRENDER)
    assert sum(Holding.objects.filter(account=sink).values_list("quantity", flat=True)) == 5_500
    assert status_of(obligation=b.ob[0], today=dt.date(2024, 10, 15)).surrendered_t == 5_500


def test_offsets_after_the_application_cut_off_are_refused(holdings):
    """三(四): "拟使用抵销产品完成清缴工作的重点碳排放单位，须通过碳排放管理系统提交申请文件，截止日期为2024年10月15日" — a PCER or
    CCER surrender applied for on 2024-10-16 is refused (C1008) and changes nothing; allowances stay usable until 11-15."""
    b = holdings
    for code, key in ((b.pcer.code, "late-pcer"), (b.ccer_local.code, "late-ccer")):
        before = state()
        with pytest.raises(CetsError) as e:
            surrender_submit(key=key, entity=b.orgs[0], year=2023, unit_type_code=code, quantity=1, actor=b.users[0], at=when("2024-10-16"))
        assert e.value.code == "C1008"
        assert state() == before
    _surrender(b, 0, "BEA-2023", 1_000, "2024-11-15", "bea-on-deadline")
    assert status_of(obligation=b.ob[0], today=dt.date(2024, 11, 15)).surrendered_by_deadline_t == 1_000


def test_rejected_offsets_free_the_cap(holdings):
    b = holdings
    surrender_submit(key="w", entity=b.orgs[0], year=2023, unit_type_code=b.pcer.code, quantity=3_000, actor=b.users[0], at=when("2024-10-01"))
    app = surrender_submit(key="x", entity=b.orgs[0], year=2023, unit_type_code=b.ccer_far.code, quantity=2_500, actor=b.users[0], at=when("2024-10-01"))
    with pytest.raises(CetsError):   # 3,000 + 2,500 + 1 > 5,500
        surrender_submit(key="y", entity=b.orgs[0], year=2023, unit_type_code=b.ccer_far.code, quantity=1, actor=b.users[0], at=when("2024-10-01"))
    from cets.compliance.services import surrender_reject

    surrender_reject(application_id=app.pk, approver=b.bureau, at=when("2024-10-02"))
    surrender_submit(key="y", entity=b.orgs[0], year=2023, unit_type_code=b.ccer_far.code, quantity=2_500, actor=b.users[0], at=when("2024-10-03"))


@pytest.fixture
def collection_world(bj):
    """Before the deadline 2024-11-15:
    BJ1 (owes 110,000 t, offset cap 5,500 t) surrendered 5,000 t of PCER on 10-10; holds BEA-2023 registry 65,000 of
    which 5,000 judicially frozen, BEA-2022 registry 30,000 and trading 20,000, BEA-2024 10,000 (not usable for 2023);
    BJ2 (owes 50,000 t, offset cap 2,500 t) holds BEA-2023 30,000, PCER 1,000 and local CCER 3,000;
    BJ3 (owes 10,000 t) surrendered 10,000 t itself on 11-01."""
    from cets.registry.services import position_move

    a1, a2, a3 = bj.acc
    _issue(bj.pcer, a1, 5_000, "c-pcer")
    _surrender(bj, 0, bj.pcer.code, 5_000, "2024-10-10", "c-s1")
    _issue(bj.bea["2023"], a1, 65_000, "c-1-23")
    judicial_freeze(key="c-frz", account=a1, unit_type=bj.bea["2023"], quantity=5_000, court_ref="(2024)京01执1号", actor=bj.w.registry_a)
    _issue(bj.bea["2022"], a1, 50_000, "c-1-22")
    position_move(key="c-mv", account=a1, unit_type=bj.bea["2022"], from_position=Position.REGISTRY, to_position=Position.TRADING, quantity=20_000,
                  actor=bj.users[0])
    _issue(bj.bea["2024"], a1, 10_000, "c-1-24")
    _issue(bj.bea["2023"], a2, 30_000, "c-2-23")
    _issue(bj.pcer, a2, 1_000, "c-2-pcer")
    _issue(bj.ccer_local, a2, 3_000, "c-2-ccer")
    _issue(bj.bea["2023"], a3, 12_000, "c-3-23")
    _surrender(bj, 2, "BEA-2023", 10_000, "2024-11-01", "c-s3")
    return bj


def test_collection_golden_and_outcomes(collection_world):
    """三(四): "重点碳排放单位应在规定时间内完成配额清缴工作，逾期未完成的，管理平台将自动收缴其账户内的配额及抵销产品，用于清缴。"
    The collection runs on or after the deadline 2024-11-15 (not before), takes allowances and then offset products
    within the 5% cap, and the outcome is "collected", not on time."""
    b = collection_world
    after = when("2024-11-16", 9)
    # not before the deadline day; only by registry operators; a second operator approves
    with pytest.raises(CetsError) as e:
        collection_propose(key="k0", pack_id=PACK, year=2023, actor=b.w.registry_a, effective_at=when("2024-11-14", 16))
    assert e.value.code == "C1005"
    with pytest.raises(CetsError) as e:
        collection_propose(key="k0", pack_id=PACK, year=2023, actor=b.bureau, effective_at=after)
    assert e.value.code == "R0502"
    before = state()
    p = collection_propose(key="bj-collect-2023", pack_id=PACK, year=2023, actor=b.w.registry_a, effective_at=after)
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p.pk, approver=b.w.registry_a)
    assert e.value.code == "R0501"
    assert state()[:2] == before[:2]
    assert state()[4] == before[4]  # the proposal alone moves nothing
    p = proposal_approve(proposal_id=p.pk, approver=b.w.registry_b)
    # BJ1: 110,000 − 5,000 = 105,000 outstanding → BEA-2023 registry 60,000 (the frozen 5,000 stay) → 45,000 left;
    #      BEA-2022 registry 30,000 → 15,000 left; BEA-2022 trading 15,000 of 20,000 → 0. BEA-2024 untouched.
    # BJ2: 50,000 outstanding → BEA-2023 30,000 → 20,000; offsets within 5% × 50,000 = 2,500 t: PCER 1,000 → 19,000,
    #      local CCER 1,500 of 3,000 → 17,500 still outstanding. BJ3: nothing outstanding, nothing taken.
    ccer = b.ccer_local.code
    assert p.result["collected"] == {
        BJ[0]: {"BEA-2023:registry": 60_000, "BEA-2022:registry": 30_000, "BEA-2022:trading": 15_000},
        BJ[1]: {"BEA-2023:registry": 30_000, "PCER-2023:registry": 1_000, f"{ccer}:registry": 1_500},
    }
    assert p.result["outstanding_t"] == {BJ[1]: 17_500}
    a1 = b.acc[0]
    left = dict(((ut, pos), q) for ut, pos, q in Holding.objects.filter(account=a1, quantity__gt=0).values_list("unit_type__code", "position", "quantity"))
    assert left == {("BEA-2023", "frozen"): 5_000, ("BEA-2022", "trading"): 5_000, ("BEA-2024", "registry"): 10_000}
    assert Holding.objects.get(account=b.acc[1], unit_type=b.ccer_local, position="registry").quantity == 1_500
    t = Transfer.objects.get(key=f"bj-collect-2023:{BJ[0]}:BEA-2023:registry")
    assert (t.kind, t.approver_id, t.actor_id, t.beneficiary_id) == (TransferKind.FORCED_SURRENDER, b.w.registry_b.pk, b.w.registry_a.pk, b.orgs[0].pk)
    assert SurrenderApplication.objects.filter(key__startswith="bj-collect-2023:", collected=True).count() == 6
    # after the collection: BJ1 collected (not on time), BJ2 incomplete, BJ3 on time; BJ1 surrendered 5,000 t itself by the deadline
    st = [status_of(obligation=o, today=dt.date(2024, 11, 16)) for o in b.ob]
    assert [s.status for s in st] == ["collected", "incomplete", "on_time"]
    assert (st[0].surrendered_t, st[0].surrendered_by_deadline_t, st[0].collected_t) == (110_000, 5_000, 105_000)
    from cets.compliance.selectors import outcome_counts

    assert outcome_counts(year=2023, market="beijing", today=dt.date(2024, 11, 16)) == {"collected": 1, "incomplete": 1, "on_time": 1}
    # BJ2 buys and surrenders the rest after the deadline: complete, still "collected" (never on time)
    _issue(b.bea["2023"], b.acc[1], 17_500, "late-buy")
    _surrender(b, 1, "BEA-2023", 17_500, "2024-11-20", "late")
    assert status_of(obligation=b.ob[1], today=dt.date(2024, 11, 20)).status == "collected"
    # compliance certificates (履约完成证明) show the outcome
    from cets.compliance.services import compliance_certificate_issue

    c1 = compliance_certificate_issue(obligation_id=b.ob[0].pk, actor=b.w.registry_a, at=when("2024-11-21"))
    c3 = compliance_certificate_issue(obligation_id=b.ob[2].pk, actor=b.w.registry_a, at=when("2024-11-21"))
    assert (c1.outcome, c1.surrendered_t, c3.outcome) == ("collected", 110_000, "on_time")
    # a second approval of the same batch is refused
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p.pk, approver=b.w.registry_a)
    assert e.value.code == "R0503"


def test_collection_may_run_on_the_deadline_day_and_later(collection_world):
    b = collection_world
    p = collection_propose(key="bj-d", pack_id=PACK, year=2023, actor=b.w.registry_a, effective_at=when("2024-11-15", 16))
    assert p.payload["effective_at"].startswith("2024-11-15")
    p = collection_propose(key="bj-l", pack_id=PACK, year=2023, actor=b.w.registry_a, effective_at=when("2025-01-10", 9))
    p = proposal_approve(proposal_id=p.pk, approver=b.w.registry_b)
    assert p.result["outstanding_t"] == {BJ[1]: 17_500}


def test_rejected_collection_changes_nothing(collection_world):
    b = collection_world
    before = state()
    p = collection_propose(key="bj-c", pack_id=PACK, year=2023, actor=b.w.registry_a, effective_at=when("2024-11-16", 9))
    proposal_reject(proposal_id=p.pk, approver=b.w.registry_b, reason="名单待核")
    after = state()
    assert after[:2] == before[:2]
    assert after[3:] == before[3:]  # only the proposal itself was recorded


def test_frozen_account_is_skipped_not_failing_the_batch(collection_world):
    from cets.registry.services import account_status_set

    b = collection_world
    account_status_set(account=b.acc[1], status="frozen", reason="司法冻结", actor=b.w.registry_a)
    p = collection_propose(key="bj-f", pack_id=PACK, year=2023, actor=b.w.registry_a, effective_at=when("2024-11-16", 9))
    p = proposal_approve(proposal_id=p.pk, approver=b.w.registry_b)
    assert p.result["skipped"] == {BJ[1]: "account frozen"}
    assert p.result["outstanding_t"] == {BJ[1]: 50_000}
    assert BJ[0] in p.result["collected"]


def _load_beijing_stats(start: str, end: str) -> int:
    """The Beijing exchange's published daily BEA figures (data/cn-pilots-bj-tj-gd-hb) of ``start``…``end``, read by
    :func:`cets.compliance.tables.read_beijing_daily` (no problem allowed), as DailyStat rows of market "beijing".
    Returns the number of days loaded."""
    from cets.compliance.tables import read_beijing_daily
    from cets.trading.models import DailyStat

    rows, problems = read_beijing_daily(BJ_CSV, dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    assert problems == []
    DailyStat.objects.bulk_create(DailyStat(market="beijing", date=d, instrument=inst, method=m, volume_t=v, amount_fen=a, ytd_volume_t=0,
                                            ytd_amount_fen=0, cum_volume_t=0, cum_amount_fen=0) for d, inst, m, v, a in rows)
    return len(rows)


def test_the_beijing_file_dirt_is_refused_not_guessed():
    # Real deadline 2017-06-15 (reference §7.2 [S]), six months 2016-12-16 … 2017-06-15: one of the 94 days,
    # 2017-04-05, reads 1,100 t × CNY 53 = 58,300 ≠ amount 58,350.00 → refused (no fine from a file that disagrees
    # with itself). 2024-07-01 … 2024-12-31: 2024-08-13 is listed twice, identically → one record, no problem.
    from cets.compliance.tables import read_beijing_daily

    rows, problems = read_beijing_daily(BJ_CSV, dt.date(2016, 12, 16), dt.date(2017, 6, 15))
    assert [(p.row, p.field, p.value) for p in problems] == [(960, "amount_cny", "58350.00")]
    assert len(rows) == 93
    rows, problems = read_beijing_daily(BJ_CSV, dt.date(2024, 7, 1), dt.date(2024, 12, 31))
    assert problems == []
    assert len(rows) == 38
    assert len({r[0] for r in rows}) == 38
    # '.' as a thousands separator (2022-11-07 "1799.431.00") is refused too
    _, problems = read_beijing_daily(BJ_CSV, dt.date(2022, 11, 7), dt.date(2022, 11, 7))
    assert [(p.row, p.value) for p in problems] == [(206, "13266/135.64/1799.431.00")]


@pytest.mark.django_db
def test_market_average_price_before_the_beijing_deadline():
    """The fine's price window ends on the 2023 deadline of 三(四) "碳排放配额清缴截止日期为2024年11月15日": six months
    2024-05-16 … 2024-11-15 hold the file's 57 days (up to 2024-09-03; 2024-08-13 listed twice counts once), Σ volume
    340,452 t, Σ amount CNY 36,906,085.20 = 3,690,608,520 fen → P̄ = 3,690,608,520 / 340,452 = 10,840.32… → 10,840
    fen (CNY 108.40/t). A national row in the window does not count (another market)."""
    from cets.trading.models import DailyStat

    assert _load_beijing_stats("2024-05-16", "2024-11-15") == 57
    DailyStat.objects.create(market="national", date="2024-08-01", instrument="BEA", method="listing", volume_t=10**6, amount_fen=10**12,
                             ytd_volume_t=0, ytd_amount_fen=0, cum_volume_t=0, cum_amount_fen=0)
    p = market_price(pack=load_pack(PACK), deadline=dt.date(2024, 11, 15), market="beijing")
    assert (p.start, p.end, p.volume_t, p.amount_fen, p.days, p.price_fen) == (
        dt.date(2024, 5, 16), dt.date(2024, 11, 15), 340_452, 3_690_608_520, 57, 10_840)


def test_cli_fine_from_the_beijing_file(capsys):
    # the pure command with the Beijing pack and the 2023 deadline 2024-11-15 (三(四)): P̄ 10,840 fen as above;
    # 3 × 20,000 × 10,840 fen = 650,400,000 fen = CNY 6,504,000.00; 5× = CNY 10,840,000.00
    from cets.cli import main

    assert main(["compliance", "fine", "--pack", PACK, "--deadline", "2024-11-15", "--unsurrendered", "20000", "--prices", str(BJ_CSV)]) == 0
    out = capsys.readouterr().out.replace("\n", " ")
    assert "108.40 CNY/t" in out
    assert "6504000.00" in out
    assert "10840000.00" in out
    assert main(["compliance", "fine", "--pack", PACK, "--deadline", "2017-06-15", "--unsurrendered", "20000", "--prices", str(BJ_CSV)]) == 2


def test_beijing_fine_decided_from_beijing_market_data(collection_world):
    b = collection_world
    p = collection_propose(key="bj-p", pack_id=PACK, year=2023, actor=b.w.registry_a, effective_at=when("2024-11-16", 9))
    proposal_approve(proposal_id=p.pk, approver=b.w.registry_b)
    # P̄ = 10,840 fen as in test_market_average_price_before_the_beijing_deadline (window ending 2024-11-15).
    assert _load_beijing_stats("2024-05-16", "2024-11-15") == 57
    # BJ2 owed 50,000 t; the collection took 32,500 t of its own units, so 17,500 t are emissions beyond its
    # allowances: 4 × 17,500 × 10,840 = 758,800,000 fen (CNY 7,588,000); range 3× 569,100,000 … 5× 948,500,000 fen.
    for m in ("2.99", "5.01", "6"):
        with pytest.raises(CetsError) as e:
            penalty_decide(obligation_id=b.ob[1].pk, reference="京环罚〔2025〕1号", reason="r", multiple=m, actor=b.bureau, at=when("2024-11-20"))
        assert e.value.code == "C0802"
    d = penalty_decide(obligation_id=b.ob[1].pk, reference="京环罚〔2025〕1号", reason="首次未足额清缴，按中间倍数", multiple="4", actor=b.bureau,
                       at=when("2024-11-20"))
    assert (d.unsurrendered_t, d.price_fen, d.price_volume_t, d.min_fen, d.max_fen, d.fine_fen) == (
        17_500, 10_840, 340_452, 569_100_000, 948_500_000, 758_800_000)
    # BJ1 was completed by the collection from its own holdings: nothing beyond its allowances, no fine (C0801)
    with pytest.raises(CetsError) as e:
        penalty_decide(obligation_id=b.ob[0].pk, reference="x", reason="x", multiple="3", actor=b.bureau, at=when("2024-11-20"))
    assert e.value.code == "C0801"
    # the Shandong authority has no say over a Beijing entity
    with pytest.raises(CetsError) as e:
        penalty_decide(obligation_id=b.ob[1].pk, reference="x", reason="x", multiple="4", actor=b.w.province_sd, at=when("2024-11-20"))
    assert e.value.code == "R0502"


def test_api_obligations_and_collection(bj):
    from tests.conftest import client_for

    r = client_for(bj.bureau).post("/api/v1/compliance/beijing/obligations", {"year": 2024, "rows": [
        {"entity_uscc": BJ[0], "verified_emissions_t": 90_000, "allocation_t": 80_000},
        {"entity_uscc": BJ[1], "verified_emissions_t": -5, "allocation_t": 1}]}, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "C1007"
    assert r.json()["problems"][0]["row"] == 2
    assert not Obligation.objects.filter(year=2024).exists()
    r = client_for(bj.bureau).post("/api/v1/compliance/beijing/obligations", {"year": 2024, "rows": [
        {"entity_uscc": BJ[0], "verified_emissions_t": 90_000, "allocation_t": 80_000}]}, content_type="application/json")
    assert r.json() == {"created": 1}
    # 5% of the 90,000 t emissions = 4,500 t (the 2024 year carries the 2023 notice's cap [M]); no non-local cap
    assert Obligation.objects.filter(year=2024).values_list("offset_cap_t", "nonlocal_ccer_cap_t").get() == (4_500, None)
    body = {"key": "api-c", "year": 2023}
    r = client_for(bj.w.registry_a).post("/api/v1/compliance/beijing/collection", body, content_type="application/json")
    assert r.status_code == 403
    assert r.json()["code"] == "R0505"  # registry operators need a TOTP-verified session
    r = client_for(bj.w.registry_a, verified=True).post("/api/v1/compliance/beijing/collection", body, content_type="application/json")
    # today (the machine's date, after 2024-11-15) is past the 2023 deadline: the collection may be proposed ("逾期")
    assert r.status_code == 200
    assert (r.json()["kind"], r.json()["status"], r.json()["payload"]["year"]) == ("beijing_collection", "proposed", 2023)
    r = client_for(bj.users[0]).post("/api/v1/compliance/beijing/obligations", {"year": 2024, "rows": []}, content_type="application/json")
    assert r.status_code == 403
    assert r.json()["code"] == "R0502"
