"""Registry reports: daily reconciliation and account statements (data, XLSX, PDF, API).

The ledger is built with the real services over several Shanghai calendar days. Business time is
passed as ``effective_at``; booking time (``recorded_at``) is whatever ``django.utils.timezone.now``
answers while the service runs, so :func:`booked` pins it to a chosen moment (the entries stay
properly hash-chained: the services themselves write them).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from ninja.testing import TestClient
from openpyxl import load_workbook

from cets.core.errors import CetsError
from cets.registry import reports
from cets.registry.api_reports import router
from cets.registry.audit import audit_verify
from cets.registry.models import Account, AccountKind, Holding, Instrument, Position, Transfer, TransferKind, UnitType
from cets.registry.services import (
    IssuanceLine,
    Leg,
    cancellation_propose,
    deduction_propose,
    holding_transfer,
    issuance_propose,
    position_move,
    proposal_approve,
    reversal_propose,
    system_account,
    transfer_post,
    vintage_create,
)
from tests.conftest import SD_1, SD_2, ZJ_1, when

D = dt.date.fromisoformat


@contextmanager
def booked(day: str, hour: int = 10, minute: int = 0):
    """Book whatever the services write inside the block at ``day hour:minute`` Asia/Shanghai."""
    at = when(day, hour) + dt.timedelta(minutes=minute)
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield at


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The world's users need passwords, not Argon2's cost (most of each test's setup time)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Ledger:
    w: object
    ut: UnitType
    sd1: Account
    sd2: Account
    zj1: Account


@pytest.fixture
def ledger(world) -> Ledger:
    """CEA-2024 over 2025-03-01 … 2025-03-10 (see the comments for what each day books)."""
    w = world
    sd1, sd2, zj1 = w.accounts[SD_1], w.accounts[SD_2], w.accounts[ZJ_1]
    surrender = system_account("national", AccountKind.SURRENDER)
    cancellation = system_account("national", AccountKind.CANCELLATION)
    with booked("2025-03-01", 9) as at:  # cap
        ut = vintage_create(instrument=Instrument.CEA, vintage="2024", cap_t=1_000_000, key="cap-2024", effective_at=at)
    assert Transfer.objects.get(key="cap-2024").recorded_at == at, "booking time is no longer taken from django.utils.timezone.now"
    with booked("2025-03-02", 10, 5):  # issuance, four eyes
        p = issuance_propose(key="iss-2024", unit_type=ut, actor=w.registry_a, effective_at=when("2025-03-02", 10), lines=[
            IssuanceLine(sd1.number, 10_000), IssuanceLine(sd2.number, 5_000), IssuanceLine(zj1.number, 8_000)])
        proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    # effective late on 03-02, booked just after midnight: 03-02 by effective time, 03-03 by booking time
    with booked("2025-03-03", 0, 10):
        holding_transfer(key="t-sd1-sd2", from_account=sd1, to_account=sd2, unit_type=ut, quantity=1_500, actor=w.entity_sd1_user,
                         reference="协议转让 bilateral", effective_at=when("2025-03-02", 23) + dt.timedelta(minutes=30))
    with booked("2025-03-03", 11) as at:
        position_move(key="pm-sd1", account=sd1, unit_type=ut, from_position=Position.REGISTRY, to_position=Position.TRADING, quantity=2_000,
                      actor=w.entity_sd1_user, effective_at=at)
    with booked("2025-03-04", 10) as at:
        transfer_post(key="sr-sd1", kind=TransferKind.SURRENDER, unit_type=ut, debit=Leg(sd1, Position.REGISTRY),
                      credit=Leg(surrender, Position.REGISTRY), quantity=3_000, reference="2024 清缴 surrender", effective_at=at)
    with booked("2025-03-05", 15):  # voluntary cancellation: held, then retired on approval
        p = cancellation_propose(key="cx-zj1", account=zj1, unit_type=ut, quantity=500, purpose="大型活动碳中和", actor=w.entity_zj1_user,
                                 effective_at=when("2025-03-05", 10))
        proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    with booked("2025-03-06", 15):  # deduction
        p = deduction_propose(key="dd-sd2", account=sd2, unit_type=ut, quantity=700, decision_ref="鲁环罚〔2025〕1号", actor=w.registry_a,
                              effective_at=when("2025-03-06", 10))
        proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    with booked("2025-03-07", 15):  # claw-back (多退少补)
        p = issuance_propose(key="claw-2024", unit_type=ut, actor=w.registry_a, effective_at=when("2025-03-07", 10),
                             lines=[IssuanceLine(sd2.number, -200)])
        proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    with booked("2025-03-08", 10):  # forced surrender, effective back on 03-04
        transfer_post(key="fsr-zj1", kind=TransferKind.FORCED_SURRENDER, unit_type=ut, debit=Leg(zj1, Position.REGISTRY),
                      credit=Leg(surrender, Position.REGISTRY), quantity=1_000, reference="强制履约 forced", effective_at=when("2025-03-04", 18))
    with booked("2025-03-09", 10) as at:  # carry-over of the old vintage
        transfer_post(key="co-sd1", kind=TransferKind.CARRY_OVER, unit_type=ut, debit=Leg(sd1, Position.REGISTRY),
                      credit=Leg(cancellation, Position.REGISTRY), quantity=400, reference="结转 carry-over", effective_at=at)
    with booked("2025-03-10", 10):  # reversal of the 03-04 surrender (effective when booked)
        p = reversal_propose(key="rv-sr", transfer_key="sr-sd1", reason="误操作 booked in error", actor=w.registry_a)
        proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    with booked("2025-03-10", 12):  # a transfer effective on 03-04, booked on 03-10
        transfer_post(key="t-sd2-zj1", kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(sd2, Position.REGISTRY),
                      credit=Leg(zj1, Position.REGISTRY), quantity=600, reference="法院划转 court-ordered", actor=w.registry_a,
                      effective_at=when("2025-03-04", 12))
    return Ledger(w=w, ut=ut, sd1=sd1, sd2=sd2, zj1=zj1)


def rows_by_code(rows):
    return {r.unit_type: r for r in rows}


def holding_sums() -> dict[str, dict[str, int]]:
    """Per unit type, the Holding table summed by the reconciliation's balance categories."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for code, akind, q in Holding.objects.values_list("unit_type__code", "account__kind").annotate(q=Sum("quantity")):
        out[code][reports.BALANCE_OF_KIND.get(akind, "circulating")] += q
    return out


def nz(d: dict) -> dict:
    return {k: v for k, v in d.items() if v}


def held(account, ut, position=Position.REGISTRY) -> int:
    h = Holding.objects.filter(account=account, unit_type=ut, position=position).first()
    return h.quantity if h else 0


def _sql(statement, params=()):
    with connection.cursor() as c:
        c.execute(statement, params)


# ---------------------------------------------------------------- the scenario itself

def test_scenario_holdings_and_audit(ledger):
    L = ledger
    assert (held(L.sd1, L.ut), held(L.sd1, L.ut, Position.TRADING), held(L.sd2, L.ut), held(L.zj1, L.ut)) == (6_100, 2_000, 5_000, 7_100)
    assert held(L.sd2, L.ut, Position.PENDING) == held(L.zj1, L.ut, Position.PENDING) == 0
    assert audit_verify().ok


# ---------------------------------------------------------------- reconciliation

def test_reconciliation_now_is_balanced_with_the_expected_figures(ledger):
    r = rows_by_code(reports.reconciliation())["CEA-2024"]
    assert r.source == "holdings" and r.balanced, r.problems
    assert (r.created_t, r.issued_t, r.surrendered_t, r.cancelled_t, r.deducted_t, r.carried_over_t) == (1_000_000, 22_800, 1_000, 500, 700, 400)
    assert (r.national_total_t, r.circulating_t) == (977_200, 20_200)
    assert (r.surrender_account_t, r.cancellation_account_t, r.deduction_account_t) == (1_000, 900, 700)
    # the identities the report states
    assert r.created_t == r.national_total_t + r.issued_t
    assert r.issued_t - r.surrendered_t - r.cancelled_t - r.deducted_t - r.carried_over_t == r.circulating_t
    # the world's own vintage: created, never issued
    r23 = rows_by_code(reports.reconciliation())["CEA-2023"]
    assert r23.balanced
    assert (r23.created_t, r23.national_total_t, r23.issued_t, r23.circulating_t) == (10_000_000, 10_000_000, 0, 0)


def test_journal_replay_as_of_now_agrees_with_the_holding_table(ledger):
    rows = reports.reconciliation(timezone.now(), source="journal")
    table = holding_sums()
    assert {r.unit_type for r in rows} == set(table) == {"CEA-2023", "CEA-2024"}
    for r in rows:
        assert r.source == "journal" and r.balanced, r.problems
        t = table[r.unit_type]
        assert (r.national_total_t, r.circulating_t, r.surrender_account_t, r.cancellation_account_t, r.deduction_account_t) == (
            t["national_total"], t["circulating"], t["surrender_account"], t["cancellation_account"], t["deduction_account"])
    assert [r.as_dict() for r in rows] == [dict(r.as_dict(), source="journal") for r in reports.reconciliation(source="holdings")]


def test_reconciliation_in_the_past_by_booking_and_by_effective_time(ledger):
    # up to the end of 03-04: the forced surrender is effective 03-04 but booked 03-08
    rec = rows_by_code(reports.reconciliation(D("2025-03-04")))
    eff = rows_by_code(reports.reconciliation(D("2025-03-04"), by="effective"))
    assert set(rec) == set(eff) == {"CEA-2024"}  # CEA-2023 was created (booked) today
    r, e = rec["CEA-2024"], eff["CEA-2024"]
    assert r.balanced
    assert e.balanced
    assert (r.issued_t, r.surrendered_t, r.circulating_t, r.surrender_account_t) == (23_000, 3_000, 20_000, 3_000)
    assert (e.issued_t, e.surrendered_t, e.circulating_t, e.surrender_account_t) == (23_000, 4_000, 19_000, 4_000)
    # a datetime is inclusive: the surrender booked at 03-04 10:00 is in at 10:00, out a second before
    at = when("2025-03-04", 10)
    assert rows_by_code(reports.reconciliation(at))["CEA-2024"].surrendered_t == 3_000
    assert rows_by_code(reports.reconciliation(at - dt.timedelta(seconds=1)))["CEA-2024"].surrendered_t == 0
    # naive datetimes are Asia/Shanghai
    assert reports.reconciliation(dt.datetime(2025, 3, 4, 10)) == reports.reconciliation(at)
    # before anything was booked: nothing to reconcile
    assert reports.reconciliation(D("2025-02-28")) == []
    # every day of the period balances
    for day in range(1, 11):
        for by in reports.BASES:
            assert all(x.balanced for x in reports.reconciliation(D(f"2025-03-{day:02d}"), by=by))


def test_a_holding_altered_behind_the_ledgers_back_unbalances_the_live_reconciliation(ledger):
    L = ledger
    _sql("update registry_holding set quantity = quantity + 5 where account_id = %s and unit_type_id = %s and position = %s",
         [L.sd2.pk, L.ut.pk, Position.REGISTRY])
    live = rows_by_code(reports.reconciliation())
    assert not live["CEA-2024"].balanced
    assert live["CEA-2023"].balanced
    assert live["CEA-2024"].circulating_t == 20_205
    assert any("= 20200 ≠ Σ circulating holdings 20205" in p for p in live["CEA-2024"].problems)
    # the journal itself is intact: replayed to now it still balances
    assert all(r.balanced for r in reports.reconciliation(timezone.now()))


def test_units_moved_out_of_the_surrender_account_behind_the_ledgers_back_are_caught(ledger):
    # Σ holdings of the unit type is unchanged (so a plain conservation check passes); the flows are not
    L = ledger
    surrender = system_account("national", AccountKind.SURRENDER)
    _sql("update registry_holding set quantity = quantity - 5 where account_id = %s and unit_type_id = %s", [surrender.pk, L.ut.pk])
    _sql("update registry_holding set quantity = quantity + 5 where account_id = %s and unit_type_id = %s and position = %s",
         [L.sd1.pk, L.ut.pk, Position.REGISTRY])
    r = rows_by_code(reports.reconciliation())["CEA-2024"]
    assert not r.balanced
    assert len(r.problems) == 2
    assert any("surrender account balance 995 ≠ flows 1000" in p for p in r.problems)


def test_reconciliation_parameters_are_checked():
    with pytest.raises(CetsError) as e:
        reports.reconciliation(by="posted")
    assert e.value.code == "R0702"
    with pytest.raises(CetsError) as e:
        reports.reconciliation(source="ledger")
    assert e.value.code == "R0702"
    assert reports.parse_as_of(None) is None
    assert reports.parse_as_of(" ") is None
    assert reports.parse_as_of("2025-03-04") == D("2025-03-04")
    assert reports.parse_as_of("2025-03-04T10:00:00") == when("2025-03-04", 10)
    assert reports.parse_as_of("2025-03-04T02:00:00Z") == when("2025-03-04", 10)
    assert reports.parse_as_of("2025-03-04T10:00:00 08:00") == when("2025-03-04", 10)  # '+' decoded to a space
    with pytest.raises(CetsError) as e:
        reports.parse_as_of("yesterday")
    assert e.value.code == "R0702"
    assert "invalid report parameters" in e.value.en
    assert "报表参数无效" in e.value.zh


# ---------------------------------------------------------------- statements

def assert_adds_up(s: reports.Statement) -> None:
    """opening + Σ credits − Σ debits = closing, from the lines; running balances end at closing."""
    moved: dict = defaultdict(int)
    last: dict = {}
    for ln in s.lines:
        k = (ln.unit_type, ln.position)
        moved[k] += ln.credit_t - ln.debit_t
        last[k] = ln.balance_t
        assert (ln.debit_t == 0) != (ln.credit_t == 0)
        assert ln.debit_t >= 0
        assert ln.credit_t >= 0
    for b in s.balances:
        k = (b.unit_type, b.position)
        assert b.opening_t + moved[k] == b.closing_t, k
        assert b.opening_t + b.credit_t - b.debit_t == b.closing_t, k
        assert last.get(k, b.opening_t) == b.closing_t, k
    assert set(moved) <= {(b.unit_type, b.position) for b in s.balances}
    assert s.balanced


def test_statement_by_effective_time(ledger):
    L = ledger
    s = reports.account_statement(L.sd1, D("2025-03-03"), D("2025-03-04"), by="effective")
    assert_adds_up(s)
    assert nz(s.opening) == {("CEA-2024", "registry"): 8_500}  # 10,000 issued, 1,500 out late on 03-02
    assert s.closing == {("CEA-2024", "registry"): 3_500, ("CEA-2024", "trading"): 2_000}
    assert [(ln.kind, ln.position, ln.debit_t, ln.credit_t, ln.balance_t) for ln in s.lines] == [
        ("position_move", "registry", 2_000, 0, 6_500),
        ("position_move", "trading", 0, 2_000, 2_000),
        ("surrender", "registry", 3_000, 0, 3_500),
    ]
    pm, _, sr = s.lines
    assert pm.counterparty == L.sd1.number
    assert pm.counterparty_position == "trading"
    assert sr.counterparty == system_account("national", AccountKind.SURRENDER).number
    t = Transfer.objects.get(key="sr-sd1")
    assert (sr.seq, sr.key, sr.reference, sr.hash_prefix) == (t.seq, "sr-sd1", "2024 清缴 surrender", t.hash[:12])
    assert sr.effective_at == sr.recorded_at == when("2025-03-04", 10)
    assert sr.effective_at.utcoffset() == dt.timedelta(hours=8)
    assert (s.period_start, s.period_end) == (when("2025-03-03", 0), when("2025-03-05", 0))


def test_statement_by_booking_time_differs_where_it_should(ledger):
    L = ledger
    s = reports.account_statement(L.sd1, D("2025-03-03"), D("2025-03-04"))  # by="recorded"
    assert_adds_up(s)
    assert nz(s.opening) == {("CEA-2024", "registry"): 10_000}  # the 1,500 out was booked 00:10 on 03-03
    assert s.closing == {("CEA-2024", "registry"): 3_500, ("CEA-2024", "trading"): 2_000}
    assert [ln.key for ln in s.lines] == ["t-sd1-sd2", "pm-sd1", "pm-sd1", "sr-sd1"]
    first = s.lines[0]
    assert first.effective_at == when("2025-03-02", 23) + dt.timedelta(minutes=30)
    assert first.recorded_at == when("2025-03-03", 0) + dt.timedelta(minutes=10)
    # the same entry is on 03-02 by effective time and on 03-03 by booking time (Shanghai days, not UTC days)
    assert [ln.key for ln in reports.account_statement(L.sd2, D("2025-03-02"), D("2025-03-02"), by="effective").lines] == ["iss-2024:1", "t-sd1-sd2"]
    assert [ln.key for ln in reports.account_statement(L.sd2, D("2025-03-02"), D("2025-03-02")).lines] == ["iss-2024:1"]
    # a transfer effective 03-04, booked 03-10
    assert "t-sd2-zj1" in [ln.key for ln in reports.account_statement(L.zj1, D("2025-03-04"), D("2025-03-04"), by="effective").lines]
    assert "t-sd2-zj1" not in [ln.key for ln in reports.account_statement(L.zj1, D("2025-03-04"), D("2025-03-04")).lines]
    assert "t-sd2-zj1" in [ln.key for ln in reports.account_statement(L.zj1, D("2025-03-10"), D("2025-03-10")).lines]


def test_statements_close_on_the_holding_table_for_every_account(ledger):
    today = timezone.localdate(timezone.now(), reports.SHANGHAI)
    for acc in Account.objects.all():
        for by in reports.BASES:
            s = reports.account_statement(acc, D("2025-03-01"), today, by=by)
            assert_adds_up(s)
            table = {(h.unit_type.code, h.position): h.quantity for h in Holding.objects.filter(account=acc).select_related("unit_type")}
            assert nz(s.closing) == nz(table), acc.number
    # the national total account's statement shows the cap as a credit without a counterparty
    nt = reports.account_statement(system_account("national", AccountKind.NATIONAL_TOTAL), D("2025-03-01"), D("2025-03-01"))
    assert [(ln.kind, ln.counterparty, ln.credit_t) for ln in nt.lines] == [("create", "", 1_000_000)]


def test_statement_pending_position_nets_out_and_daily_statements_chain(ledger):
    L = ledger
    # deduction on 03-06: held (registry → pending) then retired (pending → deduction account)
    s = reports.account_statement(L.sd2, D("2025-03-06"), D("2025-03-06"), by="effective")
    assert_adds_up(s)
    pending = [b for b in s.balances if b.position == "pending"]
    assert [(b.opening_t, b.debit_t, b.credit_t, b.closing_t) for b in pending] == [(0, 700, 700, 0)]
    # each day's closing is the next day's opening
    prev = None
    for day in range(1, 11):
        s = reports.account_statement(L.sd2, D(f"2025-03-{day:02d}"), D(f"2025-03-{day:02d}"), by="effective")
        assert_adds_up(s)
        if prev is not None:
            assert nz(s.opening) == nz(prev.closing)
        prev = s
    # an empty range is a statement too
    empty = reports.account_statement(L.sd2, D("2024-01-01"), D("2024-01-31"))
    assert (empty.balances, empty.lines, empty.balanced) == ([], [], True)


def test_statement_parameters_are_checked(ledger):
    for args, kw in (((D("2025-03-05"), D("2025-03-04")), {}), ((D("2025-03-01"), D("2025-03-04")), {"by": "booked"}),
                     ((when("2025-03-01"), D("2025-03-04")), {})):
        with pytest.raises(CetsError) as e:
            reports.account_statement(ledger.sd1, *args, **kw)
        assert e.value.code == "R0702"


# ---------------------------------------------------------------- XLSX

def test_reconciliation_xlsx(ledger):
    rows = reports.reconciliation(D("2025-03-04"), by="effective")
    wb = load_workbook(io.BytesIO(reports.reconciliation_xlsx(rows, as_of=D("2025-03-04"), by="effective")))
    ws = wb.active
    assert "日对账表" in ws["A1"].value
    assert "2025-03-04" in ws["A1"].value
    assert "按生效时间 by effective time" in ws["A1"].value
    assert ws.freeze_panes == "A4"
    header = [c.value for c in ws[3]]
    assert header[:3] == ["品种 / Unit type", "创设量 / Created (t)", "发放量（扣除收回） / Issued net of claw-back (t)"]
    assert header == [h for _, h in reports.RECON_COLUMNS]
    data = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    assert len(data) == 1
    got = dict(zip([name for name, _ in reports.RECON_COLUMNS], data[0], strict=True))
    assert got["unit_type"] == "CEA-2024"
    assert got["balanced"] == "是 yes"
    assert not got["problems"]
    assert (got["created_t"], got["issued_t"], got["surrendered_t"], got["circulating_t"], got["national_total_t"]) == (
        1_000_000, 23_000, 4_000, 19_000, 977_000)
    assert all(type(got[name]) is int for name, _ in reports.RECON_COLUMNS[1:12])


def test_reconciliation_xlsx_marks_an_unbalanced_row(ledger):
    _sql("update registry_holding set quantity = quantity + 5 where account_id = %s and unit_type_id = %s and position = %s",
         [ledger.sd2.pk, ledger.ut.pk, Position.REGISTRY])
    ws = load_workbook(io.BytesIO(reports.reconciliation_xlsx(reports.reconciliation()))).active
    by_code = {row[0].value: row for row in ws.iter_rows(min_row=4)}
    assert by_code["CEA-2024"][12].value == "否 NO"
    assert "20205" in by_code["CEA-2024"][13].value
    assert by_code["CEA-2023"][12].value == "是 yes"


def test_statement_xlsx(ledger):
    L = ledger
    s = reports.account_statement(L.sd1, D("2025-03-03"), D("2025-03-04"), by="effective")
    wb = load_workbook(io.BytesIO(reports.statement_xlsx(s)))
    assert wb.sheetnames == ["流水 Entries", "余额 Balances"]
    ws = wb["流水 Entries"]
    title = ws["A1"].value
    assert L.sd1.number in title
    assert "山东测试一电厂" in title
    assert "2025-03-03 至 to 2025-03-04" in title
    assert "按生效时间" in ws["A2"].value
    assert ws.freeze_panes == "A4"
    assert [c.value for c in ws[3]] == reports.STATEMENT_COLUMNS
    data = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    assert [(r[0], r[8], r[9], r[10]) for r in data] == [
        (s.lines[0].seq, 2_000, None, 6_500), (s.lines[1].seq, None, 2_000, 2_000), (s.lines[2].seq, 3_000, None, 3_500)]
    assert all(type(r[0]) is int and type(r[10]) is int for r in data)
    assert data[2][1] == dt.datetime(2025, 3, 4, 10)
    assert data[2][12] == s.lines[2].hash_prefix  # Shanghai wall time
    assert data[2][3] == "清缴 surrender"
    assert data[2][5] == "登记持仓 registry position"
    bs = wb["余额 Balances"]
    assert bs.freeze_panes == "A4"
    assert [c.value for c in bs[3]] == reports.BALANCE_COLUMNS
    assert [[c.value for c in row] for row in bs.iter_rows(min_row=4)] == [
        ["CEA-2024", "登记持仓 registry position", 8_500, 5_000, 0, 3_500],
        ["CEA-2024", "交易持仓 trading position", 0, 0, 2_000, 2_000],
    ]


def test_statement_xlsx_keeps_free_text_as_text(ledger):
    L = ledger
    holding_transfer(key="t-formula", from_account=L.zj1, to_account=L.sd2, unit_type=L.ut, quantity=1, actor=L.w.entity_zj1_user,
                     reference='=HYPERLINK("http://example.invalid","x")\x07')
    today = timezone.localdate(timezone.now(), reports.SHANGHAI)
    ws = load_workbook(io.BytesIO(reports.statement_xlsx(reports.account_statement(L.zj1, today, today))))["流水 Entries"]
    cell = ws.cell(row=4, column=12)
    assert cell.value == '=HYPERLINK("http://example.invalid","x")'
    assert cell.data_type == "s"


# ---------------------------------------------------------------- PDF

def _pdf_or_skip() -> None:
    if not reports.pdf_available() and os.environ.get("CETS_TEST_PDF") != "required":
        pytest.skip("WeasyPrint or its system libraries are missing (pip: weasyprint; Debian: libpango-1.0-0 libpangoft2-1.0-0 "
                    "libharfbuzz-subset0 fonts-noto-cjk); set CETS_TEST_PDF=required to fail instead")


def test_statement_html_is_bilingual_and_has_the_figures(ledger):
    s = reports.account_statement(ledger.sd1, D("2025-03-03"), D("2025-03-04"), by="effective")
    html = reports.statement_html(s)
    for text in ("账户对账单", "Account statement", ledger.sd1.number, "山东测试一电厂", "期初余额", "Opening", "8,500", "3,500",
                 "清缴 surrender", "2025-03-04 10:00:00", s.lines[2].hash_prefix, "平衡 balanced", "2025-03-03 至 to 2025-03-04"):
        assert text in html, text


def test_statement_pdf(ledger):
    _pdf_or_skip()
    s = reports.account_statement(ledger.sd1, D("2025-03-01"), D("2025-03-10"), by="effective")
    pdf = reports.statement_pdf(s)
    assert pdf.startswith(b"%PDF")
    assert pdf.rstrip().endswith(b"%%EOF")
    # the Chinese text is set in an embedded CJK font (visible in an uncompressed rendering)
    from weasyprint import HTML

    assert b"Noto-Sans-CJK-SC" in HTML(string=reports.statement_html(s)).write_pdf(uncompressed_pdf=True)


def test_statement_pdf_refuses_too_many_lines(ledger):
    s = reports.account_statement(ledger.sd1, D("2025-03-01"), D("2025-03-10"), by="effective")
    assert len(s.lines) == 7
    with pytest.raises(CetsError) as e:
        reports.statement_pdf(s, max_lines=6)
    assert e.value.code == "R0703"
    assert "7 > 6" in e.value.en
    assert "XLSX" in e.value.zh


def test_statement_pdf_without_weasyprint_is_a_clear_refusal(ledger, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as when the package is missing
    assert not reports.pdf_available()
    with pytest.raises(CetsError) as e:
        reports.statement_pdf(reports.account_statement(ledger.sd1, D("2025-03-01"), D("2025-03-10")))
    assert e.value.code == "R0701"
    assert "WeasyPrint" in e.value.en
    assert "PDF 生成组件不可用" in e.value.zh


# ---------------------------------------------------------------- API (the router on its own)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_api_reconciliation(ledger):
    c = TestClient(router)
    w = ledger.w
    r = c.get("/reconciliation", user=w.registry_a)
    assert r.status_code == 200
    rows = {x["unit_type"]: x for x in r.json()}
    assert rows["CEA-2024"]["balanced"] is True
    assert rows["CEA-2024"]["circulating_t"] == 20_200
    assert rows["CEA-2024"]["source"] == "holdings"
    r = c.get("/reconciliation?as_of=2025-03-04T23:59:59+08:00&by=effective", user=w.mee)
    assert r.status_code == 200
    assert [(x["unit_type"], x["surrendered_t"]) for x in r.json()] == [("CEA-2024", 4_000)]
    r = c.get("/reconciliation.xlsx?as_of=2025-03-04", user=w.registry_b)
    assert r.status_code == 200
    assert r["Content-Type"] == XLSX
    assert r["Content-Disposition"] == 'attachment; filename="reconciliation-2025-03-04.xlsx"'
    assert load_workbook(io.BytesIO(r.content)).active.cell(row=4, column=1).value == "CEA-2024"
    for user in (w.entity_sd1_user, w.province_sd):
        with pytest.raises(CetsError) as e:  # the main API answers R0502 with 403
            c.get("/reconciliation", user=user)
        assert e.value.code == "R0502"
    with pytest.raises(CetsError) as e:
        c.get("/reconciliation?as_of=last-tuesday", user=w.registry_a)
    assert e.value.code == "R0702"
    assert c.get("/reconciliation?by=posted", user=w.registry_a).status_code == 422


def test_api_statement_json_and_xlsx(ledger):
    c = TestClient(router)
    L, w = ledger, ledger.w
    url = f"/accounts/{L.sd1.number}/statement?date_from=2025-03-03&date_to=2025-03-04&by=effective"
    r = c.get(url, user=w.entity_sd1_user)
    assert r.status_code == 200
    body = r.json()
    assert body["balanced"] is True
    assert body["account"] == L.sd1.number
    assert body["holder_uscc"] == SD_1
    assert [(b["position"], b["opening_t"], b["closing_t"]) for b in body["balances"]] == [("registry", 8_500, 3_500), ("trading", 0, 2_000)]
    assert [ln["key"] for ln in body["lines"]] == ["pm-sd1", "pm-sd1", "sr-sd1"]
    assert body["lines"][2]["effective_at"].startswith("2025-03-04T10:00:00")
    assert body["lines"][2]["effective_at"].endswith("+08:00")
    r = c.get(url.replace("/statement?", "/statement.xlsx?"), user=w.province_sd)
    assert r.status_code == 200
    assert r["Content-Type"] == XLSX
    assert r["Content-Disposition"] == f'attachment; filename="statement-{L.sd1.number}-2025-03-03-2025-03-04.xlsx"'
    assert load_workbook(io.BytesIO(r.content))["余额 Balances"]["C4"].value == 8_500
    # not visible: another entity, another province (existence not revealed)
    assert c.get(f"/accounts/{L.zj1.number}/statement", user=w.entity_sd1_user).status_code == 404
    assert c.get(f"/accounts/{L.sd1.number}/statement.xlsx", user=w.province_zj).status_code == 404
    assert c.get("/accounts/NO-SUCH/statement", user=w.registry_a).status_code == 404
    # default range: this month up to today (Shanghai)
    body = c.get(f"/accounts/{L.sd1.number}/statement", user=w.registry_a).json()
    today = timezone.localdate(timezone.now(), reports.SHANGHAI)
    assert (body["date_from"], body["date_to"]) == (today.replace(day=1).isoformat(), today.isoformat())
    with pytest.raises(CetsError) as e:
        c.get(f"/accounts/{L.sd1.number}/statement?date_from=2025-03-05&date_to=2025-03-04", user=w.registry_a)
    assert e.value.code == "R0702"


def test_api_statement_pdf(ledger):
    _pdf_or_skip()
    r = TestClient(router).get(f"/accounts/{ledger.sd1.number}/statement.pdf?date_from=2025-03-01&date_to=2025-03-10",
                               user=ledger.w.entity_sd1_user)
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert r["Content-Disposition"] == f'attachment; filename="statement-{ledger.sd1.number}-2025-03-01-2025-03-10.pdf"'


def test_api_statement_pdf_answers_503_without_weasyprint(ledger, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    r = TestClient(router).get(f"/accounts/{ledger.sd1.number}/statement.pdf", user=ledger.w.entity_sd1_user)
    assert r.status_code == 503
    assert r.json()["code"] == "R0701"
    assert "WeasyPrint" in r.json()["message_en"]
