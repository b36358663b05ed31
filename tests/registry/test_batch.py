"""Batch issuance (issuance_batch_post) against the line-by-line path (issuance_lines_post).

The batch path must write exactly what posting the lines one by one writes: the same journal rows
(key, kind, accounts, quantities, references, times, previous hashes, hash) in the same seq order,
the same holdings and the same account heads; refuse with the same code at the same line; write
nothing when it refuses; and change nothing when a proposal is posted twice. Each comparison runs
both paths from the same starting state (savepoints rolled back between them) under the same ticking
clock, so that ``recorded_at`` — part of the hash — is the same in both.
"""

from __future__ import annotations

import datetime as dt
from unittest.mock import patch

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cets.core.errors import CetsError
from cets.registry.audit import audit_verify
from cets.registry.models import Account, AccountKind, AccountStatus, Holding, Instrument, Position, Proposal, Transfer, TransferKind
from cets.registry.services import (
    BATCH_MIN_LINES,
    IssuanceLine,
    Leg,
    issuance_batch_post,
    issuance_lines_post,
    issuance_propose,
    proposal_approve,
    system_account,
    transfer_post,
    vintage_create,
)
from tests.conftest import SD_1, SD_2, ZJ_1, uscc_for

T0 = dt.datetime(2025, 3, 2, 2, 0, tzinfo=dt.timezone.utc)


class Clock:
    """A clock that advances 1 ms a call: every entry gets its own, reproducible recorded_at."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> dt.datetime:
        self.n += 1
        return T0 + dt.timedelta(milliseconds=self.n)


def snapshot(prefix: str) -> dict:
    """What the two paths must agree on: the proposal's journal rows in seq order, every holding, every head."""
    fields = ("key", "kind", "unit_type_id", "debit_account_id", "debit_position", "credit_account_id", "credit_position", "quantity",
              "reference", "beneficiary_id", "related_id", "actor_id", "approver_id", "effective_at", "recorded_at", "debit_prev_hash",
              "credit_prev_hash", "hash")
    journal = list(Transfer.objects.filter(key__startswith=prefix).order_by("seq").values_list(*fields))
    key_at = dict(Transfer.objects.values_list("seq", "key"))
    heads = {a.pk: (a.head_hash, key_at.get(a.head_seq)) for a in Account.objects.all()}
    holdings = set(Holding.objects.values_list("account_id", "unit_type_id", "position", "quantity"))
    return {"journal": journal, "heads": heads, "holdings": holdings, "count": Transfer.objects.count()}


def run(post, *, key, unit_type, lines, actor, approver, effective_at=None) -> tuple:
    """Post with ``post`` from the current state, under a fresh ticking clock; report; roll back."""
    with transaction.atomic():
        before = snapshot(key)
        try:
            with patch.object(timezone, "now", Clock()):
                result = post(key=key, unit_type=unit_type, lines=lines, actor=actor, approver=approver, effective_at=effective_at)
            out = ("posted", result, snapshot(key))
        except CetsError as e:
            after = snapshot(key)
            assert after == before, "a refused batch wrote something"
            out = ("refused", e.code, e.detail)
        transaction.set_rollback(True)
    return out


# An account pool: three entity accounts, a provincial account (beneficiary lines), and accounts the
# checks refuse: the national total itself (R0105), the surrender account (R0106), a closed account
# (R0102), a frozen one (R0103), and a number that does not exist (R0101).
POOL = ["sd1", "sd2", "zj1", "pv37", "closed", "frozen", "total", "surrender", "missing"]
REGULAR = st.sampled_from(["sd1", "sd2", "zj1", "pv37"])
ANY = st.sampled_from(POOL)


def line_strategy():
    account = st.one_of(*[REGULAR] * 24, ANY)  # mostly regular accounts; now and then one the checks refuse
    quantity = st.one_of(*[st.integers(1, 400)] * 6, *[st.integers(-300, -1)] * 3, st.just(0))  # 0: R0301
    return st.tuples(account, quantity, st.sampled_from(["", "2023 预分配 pre-allocation", "调整 adj"]))


@pytest.fixture
def pool(world):
    from cets.parties.models import Organisation
    from cets.registry.services import account_open

    closed_org = Organisation.objects.create(uscc=uscc_for(901), name="已关闭", kind=Organisation.Kind.ENTITY, region_code="370000",
                                             province="37")
    frozen_org = Organisation.objects.create(uscc=uscc_for(902), name="冻结", kind=Organisation.Kind.ENTITY, region_code="370000",
                                             province="37")
    closed, frozen = account_open(holder=closed_org), account_open(holder=frozen_org)
    Account.objects.filter(pk=closed.pk).update(status=AccountStatus.CLOSED)
    Account.objects.filter(pk=frozen.pk).update(status=AccountStatus.FROZEN)
    return {"sd1": world.accounts[SD_1].number, "sd2": world.accounts[SD_2].number, "zj1": world.accounts[ZJ_1].number,
            "pv37": system_account("national", AccountKind.PROVINCIAL, "37").number, "closed": closed.number, "frozen": frozen.number,
            "total": system_account("national", AccountKind.NATIONAL_TOTAL).number,
            "surrender": system_account("national", AccountKind.SURRENDER).number, "missing": "NATIONAL-KE-000000000000000000"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cap=st.integers(0, 3_000), start=st.lists(st.integers(0, 300), min_size=3, max_size=3),
       raw=st.lists(line_strategy(), min_size=1, max_size=25), with_eff=st.booleans())
def test_batch_equals_line_by_line(world, pool, cap, start, raw, with_eff):
    """Property: from any state, for any lines, batch and line-by-line write the same rows or refuse alike."""
    w = world
    with transaction.atomic():
        # a fresh unit type with a small cap (so the national total can run short: R0302) and earlier
        # entries on the entity accounts (their chains do not start at genesis; claw-backs can succeed)
        ut = vintage_create(instrument=Instrument.CEA, vintage="2031", cap_t=cap + sum(start) + 1, key="cap-prop")
        total = system_account("national", AccountKind.NATIONAL_TOTAL)
        for code, q in zip((SD_1, SD_2, ZJ_1), start):
            if q:
                transfer_post(key=f"pre-{code}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                              credit=Leg(w.accounts[code], Position.REGISTRY), quantity=q)
        lines = [IssuanceLine(account=pool[a], quantity=q, reference=ref, beneficiary=SD_1 if a == "pv37" else "") for a, q, ref in raw]
        eff = T0 - dt.timedelta(days=3) if with_eff else None
        args = dict(key="prop", unit_type=ut, lines=lines, actor=w.registry_a, approver=w.registry_b, effective_at=eff)
        one_by_one = run(issuance_lines_post, **args)
        batch = run(issuance_batch_post, **args)
        assert batch == one_by_one
        event(batch[0] if batch[0] == "posted" else f"refused {batch[1]}")
        if batch[0] == "posted":
            assert len(batch[2]["journal"]) == len(lines)
        transaction.set_rollback(True)


def test_batch_seq_order_follows_lines_and_audit_proves_it(world):
    """40 lines (issues and claw-backs, an account twice): seq ascends in line order, the national
    total's chain runs through every line, the audit passes, and the next transfer continues the chains."""
    w = world
    a, b, c = (w.accounts[x].number for x in (SD_1, SD_2, ZJ_1))
    lines = [IssuanceLine(a, 1_000), IssuanceLine(b, 2_000), IssuanceLine(c, 3_000)] * 12 + [IssuanceLine(a, -500)] * 4
    result = issuance_batch_post(key="big", unit_type=w.cea, lines=lines, actor=w.registry_a, approver=w.registry_b)
    # issued 12 × (1,000 + 2,000 + 3,000) = 72,000 t; clawed back 4 × 500 = 2,000 t
    assert result == {"issued_t": 72_000, "clawed_back_t": 2_000, "lines": 40}
    rows = list(Transfer.objects.filter(key__startswith="big:").order_by("seq"))
    assert [t.key for t in rows] == [f"big:{i}" for i in range(40)]
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    prev = Transfer.objects.get(key="cap-test-2023").hash  # the cap entry is the total's head before the batch
    for t in rows:
        mine = t.debit_prev_hash if t.debit_account_id == total.pk else t.credit_prev_hash
        assert mine == prev
        prev = t.hash
    total.refresh_from_db()
    assert (total.head_hash, total.head_seq) == (rows[-1].hash, rows[-1].seq)
    held = {h.account_id: h.quantity for h in Holding.objects.filter(unit_type=w.cea, position=Position.REGISTRY)}
    # SD_1: 12 × 1,000 − 4 × 500 = 10,000; total: 10,000,000 − 72,000 + 2,000 = 9,930,000
    assert held[w.accounts[SD_1].pk] == 10_000
    assert held[w.accounts[SD_2].pk] == 24_000
    assert held[w.accounts[ZJ_1].pk] == 36_000
    assert held[total.pk] == 9_930_000
    assert audit_verify().ok
    nxt = transfer_post(key="after", kind=TransferKind.ISSUE, unit_type=w.cea, debit=Leg(total, Position.REGISTRY),
                        credit=Leg(w.accounts[SD_1], Position.REGISTRY), quantity=1)
    assert nxt.seq > rows[-1].seq
    assert nxt.debit_prev_hash == rows[-1].hash
    assert audit_verify().ok


def test_audit_fails_after_a_batch_row_is_tampered(world):
    w = world
    lines = [IssuanceLine(w.accounts[SD_1].number, 100 + i) for i in range(12)]
    issuance_batch_post(key="tam", unit_type=w.cea, lines=lines, actor=w.registry_a, approver=w.registry_b)
    assert audit_verify().ok
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {Transfer._meta.db_table} SET reference = %s WHERE key = %s", ["tampered", "tam:5"])
    report = audit_verify()
    assert not report.ok
    assert any("tam:5" in p and "altered" in p for p in report.problems)


def test_a_failing_line_writes_nothing(world):
    """Line 30 of 40 claws back more than ZJ_1 holds (it received 30 t): R0302, and no line is written."""
    w = world
    before = snapshot("fail")
    lines = [IssuanceLine(w.accounts[ZJ_1].number, 1)] * 30 + [IssuanceLine(w.accounts[ZJ_1].number, -31)] + \
            [IssuanceLine(w.accounts[SD_1].number, 5)] * 9
    with pytest.raises(CetsError) as e:
        issuance_batch_post(key="fail", unit_type=w.cea, lines=lines, actor=w.registry_a, approver=w.registry_b)
    assert e.value.code == "R0302"
    assert e.value.detail == f"{w.accounts[ZJ_1].number} CEA-2023 registry: 30 < 31"
    assert snapshot("fail") == before


def test_a_line_refused_after_hundreds_were_streamed_writes_nothing_and_the_batch_then_posts(world):
    """The journal rows go to the database as the lines are checked (one COPY on PostgreSQL, sent in buffers of 32 KB:
    600 rows are on the server before line 600 is refused). The refusal is the line's own (R0302, not a cancelled
    COPY), nothing stays — journal, holdings, heads — and the same connection then posts the batch without that
    line, its entries in line order with ascending seq and the audit proven."""
    w = world
    before = snapshot("stream")
    good = [IssuanceLine(w.accounts[(SD_1, SD_2)[i % 2]].number, 1 + i % 7, reference=f"流式 streamed line {i:04d} " + "x" * 40)
            for i in range(600)]
    bad = IssuanceLine(w.accounts[ZJ_1].number, -10**9)
    with pytest.raises(CetsError) as e:
        issuance_batch_post(key="stream", unit_type=w.cea, lines=[*good, bad, *good[:5]], actor=w.registry_a, approver=w.registry_b)
    assert e.value.code == "R0302" and e.value.detail.endswith(f"< {10**9}")
    assert snapshot("stream") == before
    result = issuance_batch_post(key="stream", unit_type=w.cea, lines=good, actor=w.registry_a, approver=w.registry_b)
    assert result == {"issued_t": sum(ln.quantity for ln in good), "clawed_back_t": 0, "lines": 600}
    keys = list(Transfer.objects.filter(key__startswith="stream:").order_by("seq").values_list("key", flat=True))
    assert keys == [f"stream:{i}" for i in range(600)]
    assert audit_verify().ok


def test_proposal_of_many_lines_goes_through_the_batch_and_refuses_atomically(world):
    w = world
    n = BATCH_MIN_LINES + 32
    good = [IssuanceLine(w.accounts[(SD_1, SD_2, ZJ_1)[i % 3]].number, 10 + i) for i in range(n)]
    p = issuance_propose(key="alloc-40", unit_type=w.cea, lines=good, actor=w.registry_a)
    with CaptureQueriesContext(connection) as q:
        proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    # set-based: a bounded number of statements, not six a line (6 × 40 = 240)
    assert len(q.captured_queries) < 40
    # Σ (10 + i) for i in 0..39 = 400 + 780 = 1,180 t
    assert Proposal.objects.get(pk=p.pk).result == {"issued_t": 1_180, "clawed_back_t": 0, "lines": n}
    assert audit_verify().ok
    bad = good[:-1] + [IssuanceLine("NATIONAL-KE-000000000000000000", 1)]
    p2 = issuance_propose(key="alloc-40-bad", unit_type=w.cea, lines=bad, actor=w.registry_a)
    count = Transfer.objects.count()
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p2.pk, approver=w.registry_b)
    assert e.value.code == "R0101"
    assert Transfer.objects.count() == count
    assert Proposal.objects.get(pk=p2.pk).status == Proposal.Status.PROPOSED


def test_batch_is_idempotent_and_completes_a_partly_posted_proposal(world):
    w = world
    lines = [IssuanceLine(w.accounts[(SD_1, SD_2, ZJ_1)[i % 3]].number, 7 * (i + 1)) for i in range(15)]
    args = dict(key="idem", unit_type=w.cea, lines=lines, actor=w.registry_a, approver=w.registry_b)
    with transaction.atomic():
        with patch.object(timezone, "now", Clock()):
            issuance_lines_post(**args)
        whole = snapshot("idem")
        transaction.set_rollback(True)
    with patch.object(timezone, "now", Clock()):
        issuance_lines_post(**{**args, "lines": lines[:6]})  # the first six lines were posted before (keys idem:0 … idem:5)
        first = issuance_batch_post(**args)
    assert snapshot("idem") == whole
    again = issuance_batch_post(**args)  # posted twice: nothing changes
    assert again == first == {"issued_t": 7 * 120, "clawed_back_t": 0, "lines": 15}  # 7 × (1 + … + 15) = 840
    assert snapshot("idem") == whole
    changed = lines[:3] + [IssuanceLine(lines[3].account, 999)] + lines[4:]
    with pytest.raises(CetsError) as e:
        issuance_batch_post(**{**args, "lines": changed})
    assert (e.value.code, e.value.detail) == ("R0401", "idem:3")
    assert snapshot("idem") == whole
    assert audit_verify().ok
