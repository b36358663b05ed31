"""A trade's fund entries posted set-based (``funds.post_batch``) write exactly what posting them one by one with
``funds.post`` writes — the same ``FundEntry`` rows in the same order and the same balances — or refuse alike (T0201,
nothing written), from any balances and for any sequence of entries (property, hypothesis). The sequencer's
settlement uses the batch (``services.orders._settle``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cets.core.errors import CetsError
from cets.parties.models import Organisation
from cets.trading.funds import AVAILABLE, FROZEN, fund_account_of, post, system_fund_account
from cets.trading.models import FundAccount, FundEntry
from cets.trading.services.funds import FundPost, post_batch
from tests.conftest import uscc_for

AT = dt.datetime(2024, 11, 4, 2, 0, tzinfo=dt.UTC)
NAMES = ["buyer", "seller", "other", "fees", "bank"]


@pytest.fixture
def accounts(db):
    out = {}
    for i, name in enumerate(("buyer", "seller", "other")):
        org = Organisation.objects.create(uscc=uscc_for(700 + i), name=f"资金{i}", kind=Organisation.Kind.ENTITY, province="37", region_code="370000")
        out[name] = fund_account_of(holder=org, create=True)
    out["fees"] = system_fund_account("national", "fees")
    out["bank"] = system_fund_account("national", "bank")
    return out


def state(accounts) -> tuple:
    entries = list(FundEntry.objects.order_by("seq").values_list("key", "kind", "debit_account_id", "debit_bucket", "credit_account_id",
                                                                 "credit_bucket", "amount_fen", "reference", "trade_id", "order_id", "recorded_at"))
    balances = sorted(FundAccount.objects.values_list("pk", "available_fen", "frozen_fen"))
    return entries, balances


def run(fn, accounts, balances, entries) -> tuple:
    """From ``balances``, post ``entries`` with ``fn`` in one transaction; what it wrote or the refusal; rolled back."""
    with transaction.atomic():
        for name, (avail, frozen) in zip(NAMES, balances):
            FundAccount.objects.filter(pk=accounts[name].pk).update(available_fen=avail, frozen_fen=frozen)
        try:
            with transaction.atomic():
                fn([FundPost(key=k, kind=kind, debit=(accounts[d], db_), credit=(accounts[c], cb), amount_fen=a, reference=ref)
                    for k, kind, d, db_, c, cb, a, ref in entries])
            out = ("posted", state(accounts))
        except CetsError as e:
            out = ("refused", e.code, state(accounts))
        transaction.set_rollback(True)
    return out


def one_by_one(posts) -> None:
    for p in posts:
        post(key=p.key, kind=p.kind, debit=p.debit, credit=p.credit, amount_fen=p.amount_fen, reference=p.reference, at=AT, savepoint=False)


def entry_strategy():
    bucket = st.sampled_from([AVAILABLE, FROZEN])
    return st.tuples(st.sampled_from(NAMES), bucket, st.sampled_from(NAMES), bucket, st.integers(1, 1_200),
                     st.sampled_from(["settle", "fee", "release"]), st.sampled_from(["", "成交 trade #7"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(balances=st.lists(st.tuples(st.integers(0, 4_000), st.integers(0, 4_000)), min_size=5, max_size=5),
       raw=st.lists(entry_strategy(), min_size=1, max_size=6), rows=st.booleans())
def test_batch_equals_one_by_one(accounts, balances, raw, rows):
    """Property: from any balances, any entries (same account on both legs, the bank below zero, a bucket running
    short part-way) — the batch writes the rows and balances the one-by-one path writes, or both refuse T0201 and
    nothing is written; returning the rows or writing them from plain tuples (``rows=False``, the group commit's)."""
    entries = [(f"k{i}", kind, d, db_, c, cb, a, ref) for i, (d, db_, c, cb, a, kind, ref) in enumerate(raw) if (d, db_) != (c, cb)]
    if not entries:
        return
    a = run(one_by_one, accounts, balances, entries)
    b = run(lambda posts: post_batch(posts, at=AT, rows=rows), accounts, balances, entries)
    assert a[0] == b[0]
    assert a[-1] == b[-1]
    if a[0] == "refused":
        assert a[1] == b[1] == "T0201"
    event(a[0])


def test_a_trade_settles_in_one_batch(accounts):
    """Golden case: 200 t at 96.00 CNY with 0.1 % fees each side — buyer's frozen pays 1,920,000 fen to the seller and
    1,920 fen of fee, the seller pays 1,920 fen of fee from the proceeds: three entries, in that order."""
    b, s, fees = accounts["buyer"], accounts["seller"], accounts["fees"]
    FundAccount.objects.filter(pk=b.pk).update(frozen_fen=1_921_920)
    rows = post_batch([FundPost(key="t1-funds", kind="settle", debit=(b, FROZEN), credit=(s, AVAILABLE), amount_fen=1_920_000),
                       FundPost(key="t1-fee-buyer", kind="fee", debit=(b, FROZEN), credit=(fees, AVAILABLE), amount_fen=1_920),
                       FundPost(key="t1-fee-seller", kind="fee", debit=(s, AVAILABLE), credit=(fees, AVAILABLE), amount_fen=1_920)], at=AT)
    assert [r.key for r in FundEntry.objects.order_by("seq")] == ["t1-funds", "t1-fee-buyer", "t1-fee-seller"] == [r.key for r in rows]
    got = {a.pk: (a.available_fen, a.frozen_fen) for a in FundAccount.objects.all()}
    assert got[b.pk] == (0, 0) and got[s.pk] == (1_918_080, 0) and got[fees.pk] == (3_840, 0)
