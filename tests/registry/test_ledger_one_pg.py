"""On PostgreSQL a single transfer outside a transaction is one statement, ``cets_ledger_post_one`` (migration registry
0010), which is its own transaction: one round trip to the server, commit included. Retries are answered from that
statement's result (the earlier entry, or R0401), refusals write nothing, the holders' notices are written in it and
mailed after it to the members the statement found, and two requests racing with one key post it once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from cets.core.errors import CetsError
from cets.parties.models import Notification
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, Holding, Position, Transfer, TransferKind
from cets.registry.services import Leg, system_account, transfer_post
from tests.conftest import SD_1, SD_2, ZJ_1

pytestmark = [pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement transfer exists on PostgreSQL only"),
              pytest.mark.django_db(transaction=True)]


def state() -> tuple:
    return (list(Transfer.objects.order_by("seq").values_list("seq", "key", "hash")),
            sorted(Holding.objects.values_list("account_id", "unit_type_id", "position", "quantity")),
            sorted(Notification.objects.values_list("pk", "organisation_id", "title_en")))


def messages_to_server(tmp_path, fn) -> tuple[list[str], object]:
    """The protocol messages the client sends to PostgreSQL while ``fn`` runs (libpq's trace), and ``fn``'s result."""
    connection.ensure_connection()
    path = tmp_path / "trace.txt"
    with open(path, "w") as fh:
        connection.connection.pgconn.trace(fh.fileno())
        try:
            result = fn()
        finally:
            connection.connection.pgconn.untrace()
    sent = [line.split("\t")[3] for line in path.read_text().splitlines() if line.split("\t")[1:2] == ["F"]]
    return sent, result


def test_a_transfer_is_one_round_trip_with_its_commit(world, tmp_path, mailoutbox):
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    sd1, sd2 = world.accounts[SD_1], world.accounts[SD_2]
    world.entity_sd1_user.email = "sd1@example.cn"
    world.entity_sd1_user.save()
    transfer_post(key="o-0", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(sd1, Position.REGISTRY), quantity=500)
    mailoutbox.clear()

    def post():
        return transfer_post(key="o-1", kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(sd1, Position.REGISTRY),
                             credit=Leg(sd2, Position.REGISTRY), quantity=120)

    sent, e = messages_to_server(tmp_path, post)
    # one Bind/Execute/Sync (the prepared call; the first call of a connection also sends its Parse): no BEGIN, no COMMIT;
    # then, because a member of SD_1 has an address, the e-mail is sent and one more statement stamps its notice
    assert sent.count("Sync") == 1 and sent.count("Query") == 1 and sent.index("Sync") < sent.index("Query"), sent
    assert not connection.in_atomic_block and connection.connection.info.transaction_status == 0  # idle: committed
    stored = Transfer.objects.get(key="o-1")
    assert (stored.seq, stored.hash, stored.debit_prev_hash) == (e.seq, e.hash, Transfer.objects.get(key="o-0").hash)
    assert Holding.objects.get(account=sd1, unit_type=world.cea, position=Position.REGISTRY).quantity == 380
    notes = Notification.objects.filter(created_at=e.recorded_at).order_by("pk")
    assert [(n.organisation_id, n.title_en) for n in notes] == [
        (world.sd1.pk, "120 t CEA-2023 out of your account (transfer)"), (world.sd2.pk, "120 t CEA-2023 into your account (transfer)")]
    # the e-mail goes to SD_1's member (the only one with an address), after the statement, and is stamped
    assert [m.to for m in mailoutbox] == [["sd1@example.cn"]] and "120 t CEA-2023 out of your account" in mailoutbox[0].subject
    assert Notification.objects.get(pk=notes[0].pk).emailed_at is not None and Notification.objects.get(pk=notes[1].pk).emailed_at is None
    assert audit_verify().ok

    # holders without members with an address: the call alone
    sent, back = messages_to_server(tmp_path, lambda: transfer_post(
        key="o-back", kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(sd2, Position.REGISTRY), credit=Leg(world.accounts[ZJ_1], Position.REGISTRY),
        quantity=20))
    assert sent.count("Sync") == 1 and "Query" not in sent and "Parse" not in sent, sent  # prepared once per connection
    assert Transfer.objects.get(key="o-back").hash == back.hash and len(mailoutbox) == 1

    # a retry: the same statement answers with the earlier entry; nothing is written, nothing mailed
    before = state()
    sent, again = messages_to_server(tmp_path, post)
    assert sent.count("Sync") == 1 and "Query" not in sent, sent
    assert (again.seq, again.hash, again.recorded_at, again.debit_account_id, again.credit_account_id) == (
        e.seq, e.hash, stored.recorded_at, sd1.pk, sd2.pk)
    assert state() == before and len(mailoutbox) == 1

    # the same key with other content: R0401; an overdraw: R0302 — each one statement, nothing written
    for kwargs, code in ((dict(key="o-1", quantity=121), "R0401"), (dict(key="o-2", quantity=381), "R0302")):
        def refused(kwargs=kwargs):
            with pytest.raises(CetsError) as err:
                transfer_post(kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(sd1, Position.REGISTRY),
                              credit=Leg(sd2, Position.REGISTRY), **kwargs)
            return err.value

        sent, err = messages_to_server(tmp_path, refused)
        assert err.code == code and sent.count("Sync") == 1 and "Query" not in sent, (err, sent)
        assert state() == before
    assert connection.connection.info.transaction_status == 0


def test_a_refusal_inside_the_callers_transaction_leaves_it_usable(world):
    """Inside a caller's transaction the call runs without a savepoint: a refusal wrote nothing and the caller goes on."""
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    sd1, sd2 = world.accounts[SD_1], world.accounts[SD_2]
    with transaction.atomic():
        transfer_post(key="n-0", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                      credit=Leg(sd1, Position.REGISTRY), quantity=10)
        with pytest.raises(CetsError) as err:
            transfer_post(key="n-1", kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(sd1, Position.REGISTRY),
                          credit=Leg(sd2, Position.REGISTRY), quantity=11)
        assert err.value.code == "R0302"
        e = transfer_post(key="n-2", kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(sd1, Position.REGISTRY),
                          credit=Leg(sd2, Position.REGISTRY), quantity=10)
    assert list(Transfer.objects.filter(key__startswith="n-").order_by("seq").values_list("key", flat=True)) == ["n-0", "n-2"]
    assert Transfer.objects.get(key="n-2").hash == e.hash and audit_verify().ok


def test_two_requests_racing_with_one_key_post_it_once(world):
    """The same key from two connections at once, on disjoint accounts (so neither waits for the other's account lock):
    the one that commits first posts; the other's journal insert meets the key, its writes are undone inside the
    statement and it answers R0401 (other content). Repeated, so that the race is met both ways."""
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    sd1, sd2, zj1 = world.accounts[SD_1], world.accounts[SD_2], world.accounts[ZJ_1]
    for acc in (sd1, zj1):
        transfer_post(key=f"seed-{acc.pk}", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                      credit=Leg(acc, Position.REGISTRY), quantity=1_000)
    pairs = [(sd1, sd2), (zj1, sd2)]
    outcomes: list[list] = []
    for round_ in range(12):
        key = f"race-{round_}"
        barrier = threading.Barrier(2)
        got: list = [None, None]

        def client(i: int) -> None:
            try:
                a, b = pairs[i]
                barrier.wait()
                got[i] = transfer_post(key=key, kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(a, Position.REGISTRY),
                                       credit=Leg(b, Position.REGISTRY), quantity=1).hash
            except CetsError as e:
                got[i] = e.code
            except BaseException as e:  # noqa: BLE001 - asserted below
                got[i] = repr(e)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outcomes.append(got)
        posted = Transfer.objects.get(key=key)
        assert sorted(got, key=len) == sorted([posted.hash, "R0401"], key=len), got
    held = dict(Holding.objects.filter(unit_type=world.cea, position=Position.REGISTRY).values_list("account_id", "quantity"))
    assert held[sd1.pk] + held[zj1.pk] == 2_000 - 12 and held[sd2.pk] == 12  # each round moved one tonne, once
    assert audit_verify().ok


def test_a_retry_is_answered_before_a_refusal_the_accounts_would_now_meet(world):
    """The statement reads a key only when it needs to (migration registry 0012): a retry whose debit account no longer
    holds enough, or whose account has been frozen since, is still answered with its entry, not R0302 or R0103 — the
    ledger's precedence — and writes nothing; a new key on the same accounts is refused."""
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    sd1, sd2 = world.accounts[SD_1], world.accounts[SD_2]
    transfer_post(key="p-0", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(sd1, Position.REGISTRY), quantity=100)

    def post(key: str, quantity: int):
        return transfer_post(key=key, kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(sd1, Position.REGISTRY),
                             credit=Leg(sd2, Position.REGISTRY), quantity=quantity)

    first = post("p-1", 100)  # sd1 now holds nothing
    before = state()
    again = post("p-1", 100)
    assert (again.seq, again.hash) == (first.seq, first.hash) and state() == before
    with pytest.raises(CetsError) as err:
        post("p-2", 100)
    assert err.value.code == "R0302" and state() == before
    type(sd1).objects.filter(pk=sd1.pk).update(status="frozen")  # the caller's object still says open: the statement finds it stale
    again = post("p-1", 100)  # and answers the key first
    assert (again.seq, again.hash) == (first.seq, first.hash) and state() == before
    assert audit_verify().ok
