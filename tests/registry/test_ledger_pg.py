"""On PostgreSQL the ledger writes a transfer with one call of ``cets_ledger_post_one`` (migration registry 0010: the
retry answer, the holders' notices and their e-mail recipients in the same call); the portable path (the one SQLite
runs) must write exactly the same — journal rows, hashes, holdings, heads and notices — and answer alike: a retry the
same earlier entry, a refusal the same code and detail, having written nothing. A random sequence of transfers — valid ones,
overdraws, retries with the same and with other content, refused account kinds and statuses, accounts whose status
changed after the caller loaded them, beneficiaries and related entries — runs through both paths from the same
state (savepoints rolled back between them) under the same clock; both must answer alike (the same entry hashes, or
the same refusal code and detail) and leave the same journal rows, holdings and heads."""

from __future__ import annotations

import datetime as dt
from unittest.mock import patch

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from psycopg import Cursor

from cets.core.errors import CetsError
from cets.registry.audit import audit_verify
from cets.registry.models import Account, AccountKind, AccountStatus, Holding, Instrument, Position, Transfer, TransferKind
from cets.registry.services import Leg, account_open, ledger, system_account, transfer_post, vintage_create
from tests.conftest import SD_1, SD_2, ZJ_1, uscc_for

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the ledger's PostgreSQL paths (function, COPY, arrays) exist on PostgreSQL only")

T0 = dt.datetime(2025, 3, 2, 2, 0, tzinfo=dt.timezone.utc)


class FixedClock:
    """``timezone.now`` for the test: the time the test sets before each operation, however often it is read."""

    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> dt.datetime:
        return self.t


def snapshot(prefix: str) -> dict:
    fields = ("key", "kind", "unit_type_id", "debit_account_id", "debit_position", "credit_account_id", "credit_position", "quantity",
              "reference", "beneficiary_id", "related__key", "actor_id", "approver_id", "effective_at", "recorded_at", "debit_prev_hash",
              "credit_prev_hash", "hash")
    journal = list(Transfer.objects.filter(key__startswith=prefix).order_by("seq").values_list(*fields))
    key_at = dict(Transfer.objects.values_list("seq", "key"))
    heads = {a.pk: (a.head_hash, key_at.get(a.head_seq)) for a in Account.objects.all()}
    holdings = set(Holding.objects.values_list("account_id", "unit_type_id", "position", "quantity"))
    from cets.parties.models import Notification

    notices = sorted(Notification.objects.filter(body_en__contains=f"entry {prefix}").values_list(
        "organisation_id", "user_id", "kind", "title_zh", "title_en", "body_zh", "body_en", "link", "created_at", "read_at", "emailed_at"))
    return {"journal": journal, "heads": heads, "holdings": holdings, "notices": notices}


KINDS = [TransferKind.TRANSFER] * 6 + [TransferKind.ISSUE] * 2 + [TransferKind.POSITION_MOVE, TransferKind.SURRENDER, TransferKind.CLAWBACK,
                                                                  TransferKind.CREATE]
ENTITIES = ["sd1", "sd2", "zj1"]
NAMES = ENTITIES * 4 + ["total", "surrender", "frozen", "closed", "stale_frozen", "stale_open", "pv37"]
POSITIONS = [Position.REGISTRY] * 4 + [Position.TRADING]


def op_strategy():
    rest = (st.sampled_from(["new"] * 6 + ["again", "other"]), st.sampled_from(["", "参考 ref", "x\x1fy"]), st.booleans(), st.booleans(),
            st.booleans())
    quantity = st.one_of(st.integers(1, 300), st.integers(1, 300), st.integers(250, 2_000))
    reg = st.just(Position.REGISTRY)
    entity = st.sampled_from(ENTITIES)
    anything = st.tuples(st.sampled_from(KINDS), st.sampled_from(NAMES), st.sampled_from(POSITIONS), st.sampled_from(NAMES),
                         st.sampled_from(POSITIONS), quantity, *rest)
    transfer = st.tuples(st.just(TransferKind.TRANSFER), entity, reg, entity, reg, quantity, *rest)
    issue = st.tuples(st.just(TransferKind.ISSUE), st.just("total"), reg, st.sampled_from(ENTITIES + ["stale_open", "stale_frozen"]), reg,
                      quantity, *rest)
    move = st.tuples(st.just(TransferKind.POSITION_MOVE), entity, st.sampled_from(POSITIONS), entity, st.sampled_from(POSITIONS),
                     quantity, *rest)
    return st.one_of(transfer, transfer, transfer, issue, move, anything)


@pytest.fixture
def pool(world):
    from cets.parties.models import Organisation

    def org(i: int, name: str):
        return Organisation.objects.create(uscc=uscc_for(i), name=name, kind=Organisation.Kind.ENTITY, region_code="370000", province="37")

    frozen, closed = account_open(holder=org(911, "冻结")), account_open(holder=org(912, "关闭"))
    stale_frozen, stale_open = account_open(holder=org(913, "刚冻结")), account_open(holder=org(914, "刚解冻"))
    Account.objects.filter(pk=frozen.pk).update(status=AccountStatus.FROZEN)
    Account.objects.filter(pk=closed.pk).update(status=AccountStatus.CLOSED)
    Account.objects.filter(pk=stale_open.pk).update(status=AccountStatus.FROZEN)
    stale_open.refresh_from_db()
    # the callers' objects are older than the rows: one was frozen, the other unfrozen after it was loaded
    Account.objects.filter(pk=stale_frozen.pk).update(status=AccountStatus.FROZEN)
    Account.objects.filter(pk=stale_open.pk).update(status=AccountStatus.OPEN)
    return {"sd1": world.accounts[SD_1], "sd2": world.accounts[SD_2], "zj1": world.accounts[ZJ_1],
            "total": system_account("national", AccountKind.NATIONAL_TOTAL), "surrender": system_account("national", AccountKind.SURRENDER),
            "pv37": system_account("national", AccountKind.PROVINCIAL, "37"), "frozen": Account.objects.get(pk=frozen.pk),
            "closed": Account.objects.get(pk=closed.pk), "stale_frozen": stale_frozen, "stale_open": stale_open}


def run(ops, *, pool, ut, world, use_function: bool) -> tuple:
    """The operations from the current state through one path; answers and snapshot; rolled back."""
    clock = FixedClock()
    answers: list = []
    with transaction.atomic(), patch.object(ledger, "PG_FUNCTION", use_function), patch.object(timezone, "now", clock):
        last = None  # (key, arguments) of the previous operation
        last_entry = None
        for i, (kind, d, dpos, c, cpos, q, keymode, ref, ben, rel, approve) in enumerate(ops):
            clock.t = T0 + dt.timedelta(seconds=i)
            debit = None if kind == TransferKind.CREATE else Leg(pool[d], dpos)
            args = dict(kind=kind, unit_type=ut, debit=debit, credit=Leg(pool[c], cpos), quantity=q, reference=ref,
                        beneficiary=world.sd1 if ben else None, related=last_entry if rel else None, actor=world.registry_a,
                        approver=world.registry_b if approve else None)
            key = f"p-{i}"
            if keymode == "again" and last is not None:
                key, args = last
            elif keymode == "other" and last is not None:
                key = last[0]
            try:
                e = transfer_post(key=key, **args)
                answers.append(("ok", e.key, e.hash, e.debit_prev_hash, e.credit_prev_hash, e.recorded_at, e.effective_at, e.kind, e.quantity,
                                e.reference, e.debit_account_id, e.credit_account_id, e.debit_position, e.credit_position, e.unit_type_id,
                                e.beneficiary_id, e.related.key if e.related_id else None, e.actor_id, e.approver_id))
                last_entry = e
            except CetsError as err:
                answers.append(("refused", err.code, err.detail))
            last = (key, args)
        shot = snapshot("p-")
        ok = audit_verify().ok
        transaction.set_rollback(True)
    return answers, shot, ok


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(op_strategy(), min_size=1, max_size=14), start=st.lists(st.integers(0, 600), min_size=3, max_size=3))
def test_function_writes_what_the_portable_path_writes(world, pool, ops, start):
    """Property: from any state, any sequence of transfers: the same answers, journal rows, hashes, holdings, heads."""
    with transaction.atomic():
        ut = vintage_create(instrument=Instrument.CEA, vintage="2031", cap_t=sum(start) + 1_000, key="cap-pg-prop")
        for name, q in zip(ENTITIES, start):
            if q:
                transfer_post(key=f"pre-{name}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(pool["total"], Position.REGISTRY),
                              credit=Leg(pool[name], Position.REGISTRY), quantity=q)
        fresh = {k: Account.objects.get(pk=v.pk) if k in ENTITIES + ["total", "surrender", "pv37"] else v for k, v in pool.items()}
        portable = run(ops, pool=fresh, ut=ut, world=world, use_function=False)
        function = run(ops, pool=fresh, ut=ut, world=world, use_function=True)
        assert function == portable
        assert function[2], "the audit must prove the ledger the function wrote"
        for a in function[0]:
            event(a[0] if a[0] == "ok" else f"refused {a[1]}")
        transaction.set_rollback(True)


def test_a_transfer_is_one_statement_on_postgresql(world):
    """Inside a caller's transaction the function path sends one statement and nothing else (no savepoint, no notices'
    insert, no member lookup) for lock, checks, debit, credit, journal, heads and notices; its entry continues the chain
    and the audit proves it. (Outside a transaction: tests/registry/test_ledger_one_pg.py.)"""
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    sd1, sd2 = world.accounts[SD_1], world.accounts[SD_2]
    transfer_post(key="one-0", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(sd1, Position.REGISTRY), quantity=500)
    before = Transfer.objects.get(key="one-0")
    sent: list[str] = []
    real = Cursor.execute

    def spy(self, query, params=None, **kw):  # records what the ledger sends to PostgreSQL, then sends it
        sent.append(str(query))
        return real(self, query, params, **kw)

    with patch.object(Cursor, "execute", spy):
        e = transfer_post(key="one-1", kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(sd1, Position.REGISTRY),
                          credit=Leg(sd2, Position.REGISTRY), quantity=120)
    assert len(sent) == 1 and "cets_ledger_post_one(" in sent[0], sent
    assert e.debit_prev_hash == before.hash
    stored = Transfer.objects.get(key="one-1")
    assert (stored.hash, stored.seq) == (e.hash, e.seq)
    sd1.refresh_from_db()
    assert (sd1.head_hash, sd1.head_seq) == (e.hash, e.seq)
    assert Holding.objects.get(account=sd1, unit_type=world.cea, position=Position.REGISTRY).quantity == 380
    assert audit_verify().ok


def test_refusals_keep_their_codes_and_write_nothing(world):
    """R0302 from the function (short), R0103 from the portable path after the function saw a stale account, R0401 for
    a key with other content: each writes nothing."""
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    sd1, sd2 = world.accounts[SD_1], world.accounts[SD_2]
    transfer_post(key="r-0", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(sd1, Position.REGISTRY), quantity=50)
    before = snapshot("")
    with pytest.raises(CetsError) as e:
        transfer_post(key="r-1", kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(sd1, Position.REGISTRY),
                      credit=Leg(sd2, Position.REGISTRY), quantity=51)
    assert (e.value.code, e.value.detail) == ("R0302", f"{sd1.number} CEA-2023 registry: 50 < 51")
    with pytest.raises(CetsError) as e:
        transfer_post(key="r-0", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                      credit=Leg(sd1, Position.REGISTRY), quantity=51)
    assert e.value.code == "R0401"
    Account.objects.filter(pk=sd2.pk).update(status=AccountStatus.CLOSED)  # sd2 (the object) still says open
    with pytest.raises(CetsError) as e:
        transfer_post(key="r-2", kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(sd1, Position.REGISTRY),
                      credit=Leg(sd2, Position.REGISTRY), quantity=5)
    assert (e.value.code, e.value.detail) == ("R0102", sd2.number)
    assert snapshot("") == before


def test_batch_on_postgresql_writes_what_line_by_line_writes_with_its_notices(world):
    """60 lines (issues and claw-backs over three holders): the PostgreSQL batch (journal by COPY, holdings and heads by
    arrays, notices by COPY) writes the same journal rows, holdings, heads and notices as posting the lines one by one."""
    from cets.parties.models import Notification
    from cets.registry.services import IssuanceLine, issuance_batch_post, issuance_lines_post

    nums = [world.accounts[c].number for c in (SD_1, SD_2, ZJ_1)]
    lines = [IssuanceLine(nums[i % 3], 100 + i) for i in range(54)] + [IssuanceLine(nums[i % 3], -(i + 1)) for i in range(6)]
    fields = ("organisation_id", "user_id", "kind", "title_zh", "title_en", "body_zh", "body_en", "link", "created_at")

    def one(post) -> tuple:
        clock = FixedClock()
        with transaction.atomic(), patch.object(timezone, "now", clock):
            first = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            post(key="bpg", unit_type=world.cea, lines=lines, actor=world.registry_a, approver=world.registry_b)
            notes = sorted(Notification.objects.filter(pk__gt=first).values_list(*fields))
            shot, ok = snapshot("bpg"), audit_verify().ok
            transaction.set_rollback(True)
        return shot, notes, ok

    batch, by_line = one(issuance_batch_post), one(issuance_lines_post)
    assert batch == by_line
    assert batch[2] and len(batch[0]["journal"]) == 60 and len(batch[1]) == 60


def test_batch_mails_the_members_it_read_with_its_notices(world, mailoutbox, django_capture_on_commit_callbacks):
    """The batch reads the notified organisations' members with an address in its own transaction (one statement, an
    array) and mails them after the commit — the same messages the line-by-line path sends after reading them then —
    and stamps those notices; an organisation without such a member gets no mail."""
    from cets.parties.models import Notification
    from cets.registry.services import IssuanceLine, issuance_batch_post, issuance_lines_post

    world.entity_sd1_user.email = "sd1@example.cn"
    world.entity_sd1_user.save()
    nums = [world.accounts[c].number for c in (SD_1, SD_2)]
    sent = {}
    for name, post in (("batch", issuance_batch_post), ("lines", issuance_lines_post)):
        mailoutbox.clear()
        first = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with django_capture_on_commit_callbacks(execute=True):
            post(key=f"m-{name}", unit_type=world.cea, lines=[IssuanceLine(nums[i % 2], 10 + i) for i in range(60)], actor=world.registry_a,
                 approver=world.registry_b)
        mine = Notification.objects.filter(pk__gt=first)
        assert mine.count() == 60
        assert set(mine.filter(emailed_at__isnull=False).values_list("organisation_id", flat=True)) == {world.sd1.pk}
        sent[name] = sorted((tuple(m.to), m.subject.replace(f"m-{name}", "m")) for m in mailoutbox)
    assert len(sent["batch"]) == 30 and sent["batch"] == sent["lines"]


@pytest.mark.django_db
def test_the_journal_and_the_allocation_rows_keep_only_the_indexes_their_reads_use():
    """Every row written maintains every index of its table (issue 19): the journal has its sequence, its unique key
    (no second, pattern-ops index for LIKE: registry migration 0014) and the two account journals; the allocation
    rows have no single-column index on the unit, facility or entity their unique constraint starts with (allocation
    migration 0010). The key stays unique."""
    def indexes(table: str) -> set[str]:
        with connection.cursor() as cur:
            cur.execute("SELECT regexp_replace(indexdef, '^.* USING ', '') FROM pg_indexes WHERE tablename = %s", [table])
            return {r[0] for r in cur.fetchall()}

    assert indexes("registry_transfer") == {"btree (seq)", "btree (key)", "btree (debit_account_id, seq)", "btree (credit_account_id, seq)"}
    assert indexes("allocation_unitallocation") == {"btree (id)", "btree (unit_id, year)"}
    assert indexes("allocation_facilityallocation") == {"btree (id)", "btree (facility_id, year)"}
    assert indexes("allocation_entityallocation") == {"btree (id)", "btree (market, sector, year)", "btree (entity_id, market, sector, year)"}
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'registry_transfer' AND indexdef LIKE '%%(key)'")
        assert cur.fetchone()[0].startswith("CREATE UNIQUE INDEX transfer_key_unique ")
