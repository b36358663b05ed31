"""The registry's batch of transfers (:func:`cets.registry.services.transfer_batch_post`, issue 19) writes exactly what
``transfer_post`` writes posting the same lines one by one under the same clock: the same journal rows and hashes,
holdings, heads and notices — or, when a line is refused, the same code and detail as that line would get one by one,
its index, and nothing written. A random list of lines (transfers, position moves, issues; overdraws, frozen and
closed accounts, refused kinds, keys already posted or twice in the batch) runs both ways from the same state
(savepoints rolled back between them). SQLite and PostgreSQL (``CETS_DATABASE_URL``)."""

from __future__ import annotations

import datetime as dt
from unittest.mock import patch

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cets.core.errors import CetsError
from cets.parties.models import Notification, Organisation
from cets.registry.audit import audit_verify
from cets.registry.models import Account, AccountKind, AccountStatus, Holding, Instrument, Position, Transfer, TransferKind
from cets.registry.services import BatchRefused, Leg, TransferLine, account_open, system_account, transfer_batch_post, transfer_post, vintage_create
from tests.conftest import SD_1, SD_2, ZJ_1, uscc_for

T0 = dt.datetime(2025, 3, 2, 2, 0, tzinfo=dt.timezone.utc)
ENTITIES = ["sd1", "sd2", "zj1"]
NAMES = ENTITIES * 4 + ["total", "frozen", "closed"]
POSITIONS = [Position.REGISTRY, Position.TRADING, Position.PENDING]


def snapshot() -> dict:
    fields = ("key", "kind", "unit_type_id", "debit_account_id", "debit_position", "credit_account_id", "credit_position", "quantity",
              "reference", "effective_at", "recorded_at", "debit_prev_hash", "credit_prev_hash", "hash")
    journal = list(Transfer.objects.filter(key__startswith="b-").order_by("seq").values_list(*fields))
    key_at = dict(Transfer.objects.values_list("seq", "key"))
    heads = {a.pk: (a.head_hash, key_at.get(a.head_seq)) for a in Account.objects.all()}
    holdings = set(Holding.objects.values_list("account_id", "unit_type_id", "position", "quantity"))
    notices = list(Notification.objects.order_by("pk").values_list("organisation_id", "user_id", "kind", "title_zh", "title_en", "body_zh", "body_en",
                                                                   "link", "created_at"))
    return {"journal": journal, "heads": heads, "holdings": holdings, "notices": notices}


def line_strategy():
    quantity = st.one_of(st.integers(1, 300), st.integers(1, 300), st.integers(250, 2_000))
    entity = st.sampled_from(ENTITIES)
    ref = st.sampled_from(["", "成交 trade", "x\x1fy"])
    key = st.sampled_from(["new"] * 8 + ["again", "posted"])
    transfer = st.tuples(st.just(TransferKind.TRANSFER), entity, st.sampled_from(POSITIONS), entity, st.sampled_from(POSITIONS), quantity, ref, key)
    move = st.tuples(st.just(TransferKind.POSITION_MOVE), entity, st.sampled_from(POSITIONS), entity, st.sampled_from(POSITIONS), quantity, ref, key)
    issue = st.tuples(st.just(TransferKind.ISSUE), st.just("total"), st.just(Position.REGISTRY), entity, st.just(Position.REGISTRY), quantity, ref,
                      key)
    anything = st.tuples(st.sampled_from([TransferKind.TRANSFER, TransferKind.POSITION_MOVE, TransferKind.ISSUE]), st.sampled_from(NAMES),
                         st.sampled_from(POSITIONS), st.sampled_from(NAMES), st.sampled_from(POSITIONS), quantity, ref, key)
    return st.one_of(transfer, transfer, move, move, issue, anything)


@pytest.fixture
def pool(world):
    def org(i: int, name: str):
        return Organisation.objects.create(uscc=uscc_for(i), name=name, kind=Organisation.Kind.ENTITY, region_code="370000", province="37")

    frozen, closed = account_open(holder=org(921, "冻结")), account_open(holder=org(922, "关闭"))
    Account.objects.filter(pk=frozen.pk).update(status=AccountStatus.FROZEN)
    Account.objects.filter(pk=closed.pk).update(status=AccountStatus.CLOSED)
    return {"sd1": world.accounts[SD_1], "sd2": world.accounts[SD_2], "zj1": world.accounts[ZJ_1],
            "total": system_account("national", AccountKind.NATIONAL_TOTAL), "frozen": Account.objects.get(pk=frozen.pk),
            "closed": Account.objects.get(pk=closed.pk)}


def make_lines(ops, pool, ut) -> list[TransferLine]:
    out = []
    for i, (kind, d, dpos, c, cpos, q, ref, keymode) in enumerate(ops):
        key = f"b-{i}"
        if keymode == "again" and i:
            key = f"b-{i - 1}"
        elif keymode == "posted":
            key = "pre-sd1"
        out.append(TransferLine(key=key, kind=kind, unit_type=ut, debit=Leg(pool[d], dpos), credit=Leg(pool[c], cpos), quantity=q,
                                reference=ref, effective_at=T0 - dt.timedelta(hours=i), via_exchange=bool(i % 2)))
    return out


def one_by_one(lines) -> tuple:
    with transaction.atomic(), patch.object(timezone, "now", lambda: T0):
        answer = ("ok",)
        for i, ln in enumerate(lines):
            try:
                if Transfer.objects.filter(key=ln.key).exists() or ln.key in {x.key for x in lines[:i]}:  # "pre-sd1" only when start posted it
                    # a key posted before: transfer_post answers a retry; the batch refuses it (R0401 / L0601)
                    answer = ("refused", "key", i)
                    break
                transfer_post(key=ln.key, kind=ln.kind, unit_type=ln.unit_type, debit=ln.debit, credit=ln.credit, quantity=ln.quantity,
                              reference=ln.reference, effective_at=ln.effective_at, via_exchange=ln.via_exchange)
            except CetsError as e:
                answer = ("refused", e.code, e.detail, i)
                break
        shot = snapshot() if answer == ("ok",) else None
        ok = audit_verify().ok
        transaction.set_rollback(True)
    return answer, shot, ok


def batched(lines, plain: bool = False) -> tuple:
    """``plain``: as the exchange's group commit calls it (``result=False, savepoint=False``: rows from plain tuples)."""
    with transaction.atomic(), patch.object(timezone, "now", lambda: T0):
        before = snapshot()
        try:
            with transaction.atomic():
                out = transfer_batch_post(lines=lines, result=not plain, savepoint=not plain)
            assert [t.key for t in out] == ([] if plain else [ln.key for ln in lines])
            answer = ("ok",)
        except BatchRefused as e:
            key_refusal = e.code in ("R0401", "L0601")
            answer = ("refused", "key", e.line) if key_refusal else ("refused", e.code, e.detail, e.line)
            assert snapshot() == before, "a refused batch writes nothing"
        shot = snapshot() if answer == ("ok",) else None
        ok = audit_verify().ok
        transaction.set_rollback(True)
    return answer, shot, ok


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(line_strategy(), min_size=1, max_size=16), start=st.lists(st.integers(0, 900), min_size=3, max_size=3), plain=st.booleans())
def test_batch_writes_what_one_by_one_writes(world, pool, ops, start, plain):
    """Property: from any state, any list of lines: the same answer (or the same refusal of the same line), and the same
    journal rows, hashes, holdings, heads and notices — returning the entries or not (``plain``, the group commit's call)."""
    with transaction.atomic():
        ut = vintage_create(instrument=Instrument.CEA, vintage="2032", cap_t=3 * sum(start) + 1_000, key="cap-batch-prop")
        for name, q in zip(ENTITIES, start):
            for pos in (Position.REGISTRY, Position.TRADING):
                if q:
                    transfer_post(key=f"pre-{name}" if pos == Position.REGISTRY else f"pre-{name}-t", kind=TransferKind.ISSUE, unit_type=ut,
                                  debit=Leg(pool["total"], Position.REGISTRY), credit=Leg(pool[name], Position.REGISTRY), quantity=q)
                    if pos == Position.TRADING:
                        transfer_post(key=f"pre-{name}-m", kind=TransferKind.POSITION_MOVE, unit_type=ut, debit=Leg(pool[name], Position.REGISTRY),
                                      credit=Leg(pool[name], Position.TRADING), quantity=q)
        fresh = {k: Account.objects.get(pk=v.pk) for k, v in pool.items()}
        lines = make_lines(ops, fresh, ut)
        expected = one_by_one(lines)
        got = batched(lines, plain)
        assert got == expected
        assert got[2], "the audit must prove the ledger either way"
        event(got[0][0] if got[0][0] == "ok" else f"refused {got[0][1]}")
        transaction.set_rollback(True)


def test_a_batch_posts_in_few_statements(world, pool, django_assert_max_num_queries):
    """Forty deliveries between three accounts: a bounded number of statements (not six a line), and the audit proves
    the chain the batch wrote."""
    ut = vintage_create(instrument=Instrument.CEA, vintage="2033", cap_t=10_000, key="cap-batch-few")
    for name in ENTITIES:
        transfer_post(key=f"seed-{name}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(pool["total"], Position.REGISTRY),
                      credit=Leg(pool[name], Position.REGISTRY), quantity=1_000)
    lines = [TransferLine(key=f"b-few-{i}", kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(pool[ENTITIES[i % 3]], Position.REGISTRY),
                          credit=Leg(pool[ENTITIES[(i + 1) % 3]], Position.REGISTRY), quantity=1 + i) for i in range(40)]
    with django_assert_max_num_queries(14):
        out = transfer_batch_post(lines=lines)
    assert [t.key for t in out] == [ln.key for ln in lines]
    assert Holding.objects.get(account=pool["sd1"], unit_type=ut, position=Position.REGISTRY).quantity == 1_000 + sum(
        1 + i for i in range(40) if i % 3 == 2) - sum(1 + i for i in range(40) if i % 3 == 0)
    assert audit_verify().ok


def test_refused_line_is_named_and_nothing_is_written(world, pool):
    """The third line overdraws: R0302 with that line's index and the running balance in the detail; nothing written."""
    ut = vintage_create(instrument=Instrument.CEA, vintage="2034", cap_t=10_000, key="cap-batch-ref")
    transfer_post(key="seed-r", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(pool["total"], Position.REGISTRY),
                  credit=Leg(pool["sd1"], Position.REGISTRY), quantity=100)
    n = Transfer.objects.count()
    lines = [TransferLine(key=f"b-r-{i}", kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(pool["sd1"], Position.REGISTRY),
                          credit=Leg(pool["sd2"], Position.REGISTRY), quantity=q) for i, q in enumerate((60, 30, 20))]
    with pytest.raises(BatchRefused) as e:
        transfer_batch_post(lines=lines)
    assert (e.value.code, e.value.line) == ("R0302", 2)
    assert e.value.detail.endswith(": 10 < 20")
    assert Transfer.objects.count() == n
    assert Holding.objects.get(account=pool["sd1"], unit_type=ut, position=Position.REGISTRY).quantity == 100
