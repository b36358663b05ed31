"""The group commit's append in one statement on PostgreSQL (issue 19): ``order_place_queued`` / ``order_take_queued``
fold the trading-rights checks (the participant's registry account open — T0208 —, of a kind the pack lets trade the
subject — T0501 —, no suspended exchange member — T0502) into the INSERT … SELECT that appends the command. The row
it writes is the row the portable path (the checks as separate reads, then the append) writes for the same command,
and a command either check refuses is refused with the same code by both paths, writing nothing."""

from __future__ import annotations

import pytest
from django.db import connection

from cets.core.errors import CetsError
from cets.trading import services as ts
from cets.trading.models import Order
from cets.trading.services import orders
from tests.conftest import uscc_for, when
from tests.trading.test_group_commit import three  # noqa: F401
from tests.trading.test_participants import PID, members  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement append is PostgreSQL's")]

AT = when("2024-11-04", 10)
SAME = [f.attname for f in Order._meta.concrete_fields if f.attname not in ("seq", "key")]


def _row(o: Order) -> dict:
    return Order.objects.filter(seq=o.seq).values(*SAME).get()


def _portable(monkeypatch):
    """The portable path only: the one-statement append switched off (this module's own functions, no database stand-in)."""
    monkeypatch.setattr(orders, "_append_fast", lambda *a, **kw: None)


def _both_paths(monkeypatch):
    """Runs the loop's body twice: with the one-statement append, then with the portable path only."""
    for portable in (False, True):
        with monkeypatch.context() as m:
            if portable:
                _portable(m)
            yield portable


def _place(participant, key, side="S", quantity_t=40, price_fen=9_500):
    return ts.order_place_queued(key=key, participant=participant, instrument="CEA23", method="listing", side=side, price_fen=price_fen,
                                 quantity_t=quantity_t, actor=None, at=AT)


def _statements(fn, monkeypatch) -> tuple[object, int]:
    """``fn()``'s result and the statements it sent: psycopg's cursor executions, Django's and the prepared ones alike."""
    import psycopg

    sent = []
    real = psycopg.Cursor.execute

    def counted(self, query, params=None, **kw):
        sent.append(query)
        return real(self, query, params, **kw)

    with monkeypatch.context() as m:
        m.setattr(psycopg.Cursor, "execute", counted)
        out = fn()
    return out, len(sent)


def test_one_statement_writes_the_row_the_portable_path_writes(three, monkeypatch):  # noqa: F811
    sd1, sd2 = three["sd1"], three["sd2"]
    fast_quote = _place(sd1, "f-quote")
    fast_take = ts.order_take_queued(key="f-take", participant=sd2, quote_seq=fast_quote.seq, quantity_t=15, actor=None, at=AT)
    with monkeypatch.context() as m:
        _portable(m)
        slow_quote = _place(sd1, "p-quote")
        slow_take = ts.order_take_queued(key="p-take", participant=sd2, quote_seq=slow_quote.seq, quantity_t=15, actor=None, at=AT)
    assert _row(fast_quote) == _row(slow_quote)
    fast, slow = _row(fast_take), _row(slow_take)
    assert (fast.pop("target_id"), slow.pop("target_id")) == (fast_quote.seq, slow_quote.seq)
    assert fast == slow
    assert fast_quote.account_id == slow_quote.account_id and fast_take.account_id == slow_take.account_id != fast_quote.account_id
    # a retry of the same key answers the first command, on both paths
    assert _place(sd1, "f-quote").seq == fast_quote.seq
    assert ts.sequencer_drain(market="national") == 4
    assert set(Order.objects.filter(key__in=["f-take", "p-take"]).values_list("status", "filled_t")) == {(Order.Status.FILLED, 15)}


def test_a_quote_and_a_take_are_one_statement_each(three, monkeypatch):  # noqa: F811
    sd1, sd2 = three["sd1"], three["sd2"]
    _place(sd1, "warm")  # the day's open is read at most once a second; the calendar and the unit type once
    quote, n_place = _statements(lambda: _place(sd1, "one"), monkeypatch)
    _, n_take = _statements(lambda: ts.order_take_queued(key="two", participant=sd2, quote_seq=quote.seq, quantity_t=1, actor=None, at=AT),
                            monkeypatch)
    assert (n_place, n_take) == (1, 1)  # the take reads its quote in its append's statement


def test_a_closed_account_is_refused_t0208_by_both_paths(three, monkeypatch):  # noqa: F811
    from cets.registry.models import Account, AccountStatus

    sd2 = three["sd2"]
    Account.objects.filter(holder=sd2, market="national").update(status=AccountStatus.FROZEN)
    for portable in _both_paths(monkeypatch):
        with pytest.raises(CetsError) as e:
            _place(sd2, f"closed-{portable}")
        assert e.value.code == "T0208"
    assert not Order.objects.filter(key__startswith="closed-").exists()


def test_an_institution_is_refused_t0501_by_both_paths(three, monkeypatch):  # noqa: F811
    from cets.parties.services import holder_create
    from cets.registry.services import account_open

    inst = holder_create(kind="institution", name="某投资机构", uscc=uscc_for(55, "9131000"))
    account_open(holder=inst, kind="institution", market="national")
    quote = _place(three["sd1"], "q")
    for portable in _both_paths(monkeypatch):
        for fn in (lambda: _place(inst, f"inst-{portable}", side="B"),
                   lambda: ts.order_take_queued(key=f"inst-t-{portable}", participant=inst, quote_seq=quote.seq, quantity_t=1, actor=None, at=AT)):
            with pytest.raises(CetsError) as e:
                fn()
            assert e.value.code == "T0501"
    assert not Order.objects.filter(key__startswith="inst-").exists()


def test_a_suspended_members_client_is_refused_t0502_by_both_paths(three, members, monkeypatch):  # noqa: F811
    op = members["op"]
    sd1, sd2 = three["sd1"], three["sd2"]
    m = ts.member_admit(organisation=members["broker"], kind="comprehensive", code="M001", actor=op)
    ts.member_client_add(member=m, participant=sd1, actor=op)
    ts.member_suspend(member=m, reason="Measures Art. 47 (七)", actor=op)
    for portable in _both_paths(monkeypatch):
        with pytest.raises(CetsError) as e:
            _place(sd1, f"susp-{portable}")
        assert e.value.code == "T0502"
        assert _place(sd2, f"other-{portable}", side="B").status == Order.Status.RECEIVED  # another member's client goes on
    assert not Order.objects.filter(key__startswith="susp-").exists()


def test_one_statement_appends_many_commands_each_with_its_own_answer(three, monkeypatch):  # noqa: F811
    """The group commit's statement over several callers' commands (``appends_write``, as :class:`Appender` sends it):
    each command written is the row the portable path writes for it, in the callers' order; a command a check refuses
    (a frozen account), one whose key is in the log, and a second command of the same key are answered None and write
    nothing — their callers then take the portable path, which names the refusal or answers the retry."""
    from cets.registry.models import Account, AccountStatus

    sd1, sd2, zj = three["sd1"], three["sd2"], three["zj1"]
    quote = _place(sd1, "m-quote")
    Account.objects.filter(holder=zj, market="national").update(status=AccountStatus.FROZEN)
    rules = orders.market_rules("national", AT.date())

    def fields(key, participant, side, q, **kw):
        return dict(key=key, kind=Order.Kind.PLACE, trading_day=AT.date(), instrument="CEA23", method="listing", side=side, price_fen=9_500,
                    quantity_t=q, remaining_t=q, participant=participant, actor=None, entered_at=AT, **kw)

    take = dict(fields("m-take", sd2, "B", 5), kind=Order.Kind.TAKE, target_id=quote.seq)
    commands = [fields("m-a", sd1, "S", 10), fields("m-frozen", zj, "S", 10), take, fields("m-quote", sd1, "S", 99),
                fields("m-b", sd2, "B", 20), fields("m-a", sd2, "B", 30)]
    got = ts.appends_write(connection, "national", [(rules, f, "listing,block") if f["kind"] == Order.Kind.TAKE else (rules, f) for f in commands])
    assert [o is not None for o in got] == [True, False, True, False, True, False]
    written = [o for o in got if o is not None]
    assert [o.key for o in written] == ["m-a", "m-take", "m-b"]
    assert [o.seq for o in written] == sorted(o.seq for o in written) and written[0].seq > quote.seq
    assert not Order.objects.filter(key="m-frozen").exists() and Order.objects.get(key="m-a").participant_id == sd1.pk
    with monkeypatch.context() as m:
        _portable(m)
        alone = [_place(sd1, "p-a", quantity_t=10), ts.order_take_queued(key="p-take", participant=sd2, quote_seq=quote.seq, quantity_t=5,
                                                                          actor=None, at=AT), _place(sd2, "p-b", side="B", quantity_t=20)]
    for o, p in zip(written, alone):
        assert _row(o) == _row(p), o.key
        assert (o.account_id, o.status, o.queued) == (p.account_id, Order.Status.RECEIVED, True)


def test_the_returned_order_is_the_row_written_and_a_value_no_column_takes_is_refused_before_sending(three, monkeypatch):  # noqa: F811
    """``appends_write`` sends the commands as one JSON text: the order it returns holds, field by field, what the
    database now holds for it (times with their zone, the day, the JSON terms, the related rows cached as given), each
    command gets its own ``terms`` dict; a value not of its column's type — a float or a string for a price (the
    arrays' ``int()`` made 9500.5 a price of 9500), a bool for a quantity, a time without its zone, a time for a
    day — raises TypeError before anything is sent."""
    import datetime as dt

    sd1 = three["sd1"]
    rules = orders.market_rules("national", AT.date())

    def fields(key, **kw):
        return dict(dict(key=key, kind=Order.Kind.PLACE, trading_day=AT.date(), instrument="CEA23", method="listing", side="S", price_fen=9_500,
                         quantity_t=7, remaining_t=7, participant=sd1, actor=None, entered_at=AT), **kw)

    a, b = ts.appends_write(connection, "national", [(rules, fields("j-a")), (rules, fields("j-b", price_fen=9_600))])
    for o in (a, b):
        db = Order.objects.get(seq=o.seq)
        assert {f.attname: getattr(o, f.attname) for f in Order._meta.concrete_fields} == {f.attname: getattr(db, f.attname)
                                                                                            for f in Order._meta.concrete_fields}
        assert o.entered_at == AT and o.trading_day == AT.date() and o.terms == {} and o.market == "national" and o.queued
    assert a.terms is not b.terms
    _, sent = _statements(lambda: (a.participant, a.account_id), monkeypatch)
    assert a.participant is sd1 and sent == 0
    bad = [dict(price_fen=9_500.5), dict(price_fen=9_500.0), dict(price_fen="9500"), dict(quantity_t=True), dict(side=1),
           dict(entered_at=dt.datetime(2024, 11, 4, 10)), dict(trading_day=AT), dict(target_id="7"), dict(price_fen=object())]
    for n, wrong in enumerate(bad):  # refused before sending: never rounded, parsed or cast into a value of the log
        with pytest.raises(TypeError):
            _, sent = _statements(lambda: ts.appends_write(connection, "national", [(rules, fields(f"j-{n}", **wrong))]), monkeypatch)
    assert not Order.objects.filter(key__startswith="j-").exclude(key__in=["j-a", "j-b"]).exists()


def test_a_take_reads_its_quote_in_its_own_statement_and_is_written_only_if_the_quote_is_takeable(three, monkeypatch):  # noqa: F811
    """A take in ``appends_write`` names its quote by ``target_id``: the statement writes it with the quote's subject,
    method and price and the opposite side (whatever the command itself carried), and only if the quote is a listing
    quote of the market, received or resting, not void, of a method in session (``open_methods``); else None — and
    ``order_take_queued`` then names the refusal on the portable path (T0211, T0205), as before."""
    sd1, sd2 = three["sd1"], three["sd2"]
    rules = orders.market_rules("national", AT.date())
    sell = _place(sd1, "k-sell", side="S", price_fen=9_700)
    buy = _place(sd2, "k-buy", side="B", price_fen=9_300)
    voided = _place(sd1, "k-void")
    Order.objects.filter(seq=voided.seq).update(voided=True)
    taken = ts.order_take_queued(key="k-take0", participant=sd2, quote_seq=sell.seq, quantity_t=1, actor=None, at=AT)

    def take(key, target, participant=sd2):
        return dict(key=key, kind=Order.Kind.TAKE, trading_day=AT.date(), instrument="X", method="block", side="S", price_fen=1, quantity_t=2,
                    remaining_t=2, participant=participant, actor=None, entered_at=AT, target_id=target)

    got = ts.appends_write(connection, "national", [
        (rules, take("k-1", sell.seq), "listing,block"), (rules, take("k-2", buy.seq, sd1), "listing"), (rules, take("k-3", voided.seq), "listing"),
        (rules, take("k-4", taken.seq), "listing"), (rules, take("k-5", sell.seq), "block"), (rules, take("k-6", 10**12), "listing")])
    assert [o is not None for o in got] == [True, True, False, False, False, False]
    assert [(o.instrument, o.method, o.side, o.price_fen, o.target_id) for o in got[:2]] == [
        ("CEA23", "listing", "B", 9_700, sell.seq), ("CEA23", "listing", "S", 9_300, buy.seq)]
    for o in got[:2]:
        assert _row(o) == {f: getattr(o, f) for f in SAME}
    Order.objects.filter(seq=sell.seq).update(status=Order.Status.FILLED)
    for quote, when_at, code in ((sell.seq, AT, "T0211"), (voided.seq, AT, "T0211"), (buy.seq, AT.replace(hour=20), "T0205")):
        with pytest.raises(CetsError) as e:
            ts.order_take_queued(key=f"k-p{quote}", participant=sd2 if quote != buy.seq else sd1, quote_seq=quote, quantity_t=1, actor=None,
                                 at=when_at)
        assert e.value.code == code
    assert not Order.objects.filter(key__in=["k-3", "k-4", "k-5", "k-6"]).exists()
