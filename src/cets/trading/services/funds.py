"""The fund ledger (资金账户)'s writes: double entry in fen, like the registry's journal for units.

Writes: ``post`` (one entry), ``post_batch`` (a trade's entries, set-based), ``funds_deposit``, ``funds_withdraw``, ``system_fund_account`` and
``fund_account_of(create=True)`` (accounts created on first use). The ledger's proof is
:func:`cets.trading.audit.funds_verify`.

Every change is one ``FundEntry`` (debit bucket → credit bucket, ``amount_fen`` > 0) written in the
same transaction as the two balance updates. A debit is a conditional update (``… WHERE balance ≥
amount``), so a balance can never go below zero even under concurrent requests; the ``bank`` mirror
account is the only one allowed below zero (it is minus what participants hold). Idempotent on
``key``: the same key with the same content returns the first entry, with other content T0203.

Settlement rules: 《碳排放权结算管理规则（试行）》 (公告2021年第21号), reference §3.2 — funds held in a
dedicated settlement account, trade-by-trade gross settlement, delivery versus payment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cets.core.db import pg_array
from cets.core.errors import CetsError
from cets.core.schema import MAX_QUANTITY
from cets.parties.access import require_role
from cets.parties.models import Organisation, Role
from cets.rules.markets import PRIMARY_MARKET

from ..checks import T0201, T0202, T0203, T0204, T0801, T0802, T0803, T0804, T0805, T0806
from ..models import FundAccount, FundEntry

AVAILABLE = "available"
FROZEN = "frozen"
BUCKET_FIELDS = {AVAILABLE: "available_fen", FROZEN: "frozen_fen"}


def system_fund_account(market: str, kind: str) -> FundAccount:
    """The market's ``bank`` / ``fees`` / ``treasury`` account, created on first use."""
    acc, _ = FundAccount.objects.get_or_create(number=f"{market.upper()}-FUND-{kind.upper()}", defaults={"market": market, "kind": kind})
    return acc


def fund_account_of(*, holder: Organisation, market: str = PRIMARY_MARKET, create: bool = False) -> FundAccount:
    """The participant fund account of ``holder`` (T0204 if none and not ``create``)."""
    acc = FundAccount.objects.filter(market=market, holder=holder).first()
    if acc is None:
        if not create:
            raise CetsError(T0204, holder.uscc or holder.name)
        acc = FundAccount.objects.create(market=market, holder=holder, kind=FundAccount.Kind.PARTICIPANT,
                                         number=f"{market.upper()}-FUND-{holder.uscc or holder.pk}")
    return acc


def check_amount(amount_fen: object) -> int:
    """``amount_fen`` as a fund entry's amount: an int (not a bool), 0 < amount < :data:`cets.core.schema.MAX_QUANTITY`
    fen (CNY 10 trillion; the database column is a 64-bit integer, and a product of a large quantity and price must be
    a refusal, not an overflow). T0202 otherwise."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or not 0 < amount_fen < MAX_QUANTITY:
        raise CetsError(T0202, repr(amount_fen)[:40])
    return amount_fen


def post(*, key: str, kind: str, debit: tuple[FundAccount, str], credit: tuple[FundAccount, str], amount_fen: int, reference: str = "",
         trade=None, order=None, at: dt.datetime | None = None, savepoint: bool = True) -> FundEntry:
    """Post one double entry. Raises T0202 (amount), T0201 (the debit bucket holds less), T0203 (key
    reused with other content). Atomic; a refusal changes nothing. ``savepoint=False`` is for callers
    whose own transaction must fail as a whole on any refusal (the sequencer's settlement)."""
    check_amount(amount_fen)
    (dacc, dbucket), (cacc, cbucket) = debit, credit
    try:
        with transaction.atomic(savepoint=savepoint):
            field = BUCKET_FIELDS[dbucket]
            qs = FundAccount.objects.filter(pk=dacc.pk)
            if dacc.kind != FundAccount.Kind.BANK:
                qs = qs.filter(**{f"{field}__gte": amount_fen})
            cfield = BUCKET_FIELDS[cbucket]
            # one account's two buckets (a freeze, a release): one UPDATE moves both
            change = {field: F(field) - amount_fen, cfield: F(cfield) + amount_fen} if dacc.pk == cacc.pk and field != cfield else {
                field: F(field) - amount_fen}
            if qs.update(**change) != 1:
                held = FundAccount.objects.values_list(field, flat=True).get(pk=dacc.pk)
                raise CetsError(T0201, f"{dacc.number} {dbucket} {held} < {amount_fen} fen")
            if len(change) == 1:
                FundAccount.objects.filter(pk=cacc.pk).update(**{cfield: F(cfield) + amount_fen})
            return FundEntry.objects.create(key=key, kind=kind, debit_account=dacc, debit_bucket=dbucket, credit_account=cacc,
                                            credit_bucket=cbucket, amount_fen=amount_fen, reference=reference, trade=trade, order=order,
                                            recorded_at=at or timezone.now())
    except IntegrityError:
        first = FundEntry.objects.filter(key=key).first()
        if first is None:
            raise
        same = (first.kind, first.debit_account_id, first.debit_bucket, first.credit_account_id, first.credit_bucket, first.amount_fen) == (
            kind, dacc.pk, dbucket, cacc.pk, cbucket, amount_fen)
        if not same:
            raise CetsError(T0203, key) from None
        return first


def _exists(key: str) -> FundEntry | None:
    return FundEntry.objects.filter(key=key).first()


def _deposit(*, key: str, market: str, account: FundAccount, amount_fen: int, reference: str, at=None) -> FundEntry:
    """入金 into ``account``'s available funds from the market's bank mirror (the callers return an entry of ``key`` that
    exists already)."""
    return post(key=key, kind=FundEntry.Kind.DEPOSIT, debit=(system_fund_account(market, "bank"), AVAILABLE), credit=(account, AVAILABLE),
                amount_fen=amount_fen, reference=reference[:200], at=at)


@transaction.atomic
def funds_deposit(*, key: str, holder: Organisation, amount_fen: int, actor, market: str = PRIMARY_MARKET, at=None) -> FundEntry:
    """入金: the settlement bank confirms ``amount_fen`` fen (int) received for ``holder``; recorded by an
    exchange operator (R0502 otherwise; ``actor=None`` only for system jobs such as the replay).
    Idempotent on ``key``."""
    if actor is not None:
        require_role(actor, Role.EXCHANGE_OPERATOR)
    first = _exists(key)
    if first is not None:
        return first
    return _deposit(key=key, market=market, account=fund_account_of(holder=holder, market=market, create=True), amount_fen=amount_fen,
                    reference="入金 deposit", at=at)


@transaction.atomic
def funds_withdraw(*, key: str, holder: Organisation, amount_fen: int, actor, market: str = PRIMARY_MARKET, at=None) -> FundEntry:
    """出金: pay ``amount_fen`` fen (int) of available funds back to ``holder``'s bank account. The holder
    itself or an exchange operator (R0502); T0201 if more than available."""
    from cets.parties.access import membership_of

    m = membership_of(actor)
    if m is None or (m.role != Role.EXCHANGE_OPERATOR and m.organisation_id != holder.pk):
        require_role(actor, Role.EXCHANGE_OPERATOR)
    acc = fund_account_of(holder=holder, market=market)
    return post(key=key, kind=FundEntry.Kind.WITHDRAWAL, debit=(acc, AVAILABLE), credit=(system_fund_account(market, "bank"), AVAILABLE),
                amount_fen=amount_fen, reference="出金 withdrawal", at=at)


def _payment_account(party: str, market: str, *, payer: bool) -> FundAccount:
    """The fund account of a payment's party: the market's treasury, or the participant fund account of the holder of
    registry account ``party`` (T0804 not a holder's account of the market, T0803 no fund account)."""
    from cets.registry.kinds import HOLDER_KINDS
    from cets.registry.models import Account
    from cets.registry.payments import TREASURY

    if party == TREASURY:
        return system_fund_account(market, FundAccount.Kind.TREASURY)
    acc = Account.objects.filter(number=party).select_related("holder").first()
    if acc is None or acc.market != market or acc.kind not in HOLDER_KINDS or acc.holder is None:
        raise CetsError(T0804, party[:40])
    fund = FundAccount.objects.filter(market=market, holder=acc.holder).first()
    if fund is None:
        if payer:
            raise CetsError(T0803, acc.holder.identifier or acc.holder.name)
        fund = fund_account_of(holder=acc.holder, market=market, create=True)  # a seller is paid even without one yet
    return fund


def registry_payments(phase: str, payments) -> None:
    """The fund ledger's settler for :mod:`cets.registry.payments` (registered by ``TradingConfig.ready``): post each
    payment of ``phase`` as one fund entry in the caller's transaction — ``hold`` payer available → frozen (kind
    ``freeze``), ``settle`` payer frozen → payee available (``settle``), ``release`` payer frozen → available
    (``release``). No fee (收支两条线: the proceeds go whole to the treasury fund account). Refusals: T0801 a bidder's
    funds, T0802 the treasury's funds, T0803, T0804, T0203 (key reused). A refusal raises, so the caller's transaction
    (the units' movement included) changes nothing."""
    from cets.registry.payments import TREASURY

    kinds = {"hold": FundEntry.Kind.FREEZE, "settle": FundEntry.Kind.SETTLE, "release": FundEntry.Kind.RELEASE}
    for pay in payments:
        src = _payment_account(pay.payer, pay.market, payer=True)
        if phase == "hold":
            debit, credit = (src, AVAILABLE), (src, FROZEN)
        elif phase == "settle":
            debit, credit = (src, FROZEN), (_payment_account(pay.payee, pay.market, payer=False), AVAILABLE)
        else:
            debit, credit = (src, FROZEN), (src, AVAILABLE)
        try:
            post(key=f"{pay.key}:{phase}", kind=kinds[phase], debit=debit, credit=credit, amount_fen=pay.amount_fen, reference=pay.reference)
        except CetsError as e:
            if e.code != T0201.code:
                raise
            raise CetsError(T0802 if pay.payer == TREASURY else T0801, f"{src.number}: {e.detail}") from None


@transaction.atomic
def treasury_deposit(*, key: str, market: str, amount_fen: int, reference: str, actor) -> FundEntry:
    """入金 to an authority's treasury fund account of ``market`` (e.g. a budget appropriation that pays a reserve
    buy-back): the settlement bank confirms ``amount_fen`` (fen, int) received, recorded by an exchange operator (R0502).
    T0202 amount; idempotent on ``key``."""
    require_role(actor, Role.EXCHANGE_OPERATOR)
    first = _exists(key)
    if first is not None:
        return first
    return _deposit(key=key, market=market, account=system_fund_account(market, FundAccount.Kind.TREASURY), amount_fen=amount_fen,
                    reference=f"国库资金入金 treasury deposit {reference}")


@transaction.atomic
def funds_deposit_record(*, market: str, participant: str, amount_fen: int, bank_reference: str, actor) -> FundEntry:
    """An exchange operator records a deposit the settlement bank confirmed (the page ``/trading/funds/`` and
    ``POST /api/v1/trading/funds/deposits``): ``participant`` a holder's unified social credit code, or ``treasury`` for the
    authority's treasury fund account of ``market`` (budget money that pays a reserve buy-back); ``amount_fen`` fen (int,
    0 < amount < 10^15, T0202); ``bank_reference`` the bank's reference (1–60 characters), which makes it idempotent: the
    same reference again returns the first deposit, with another amount it is refused (T0806). R0502 not an exchange
    operator; L0201 without a TOTP-verified session (money moves); T0805 an unknown participant or market."""
    from cets.parties.access import require_second_factor
    from cets.registry.payments import TREASURY
    from cets.rules.markets import market_ids

    require_role(actor, Role.EXCHANGE_OPERATOR)
    require_second_factor(actor)
    ref = (bank_reference or "").strip()
    if not 0 < len(ref) <= 60:
        raise CetsError(T0806, ref[:20])
    check_amount(amount_fen)
    who = (participant or "").strip().upper()[:18]
    if market not in market_ids():
        raise CetsError(T0805, str(market)[:16])
    key = f"deposit:{market}:{who}:{ref}"
    first = _exists(key)
    if first is not None:
        if first.amount_fen != amount_fen:
            raise CetsError(T0806, f"{ref}: {first.amount_fen} ≠ {amount_fen} fen")
        return first
    if who == TREASURY.upper():
        return treasury_deposit(key=key, market=market, amount_fen=amount_fen, reference=ref, actor=actor)
    holder = Organisation.objects.filter(uscc=who).first() if who else None
    if holder is None:
        raise CetsError(T0805, who)
    return funds_deposit(key=key, holder=holder, amount_fen=amount_fen, actor=actor, market=market)


@dataclass(frozen=True)
class FundPost:
    """One entry of :func:`post_batch`: the arguments of :func:`post` (amount in fen, int)."""

    key: str
    kind: str
    debit: tuple[FundAccount, str]
    credit: tuple[FundAccount, str]
    amount_fen: int
    reference: str = ""
    trade: object = None
    order: object = None
    at: dt.datetime | None = None  # its ``recorded_at`` when not the batch's (the sequencer's group commit: each entry's own time)


def post_batch(entries: Sequence[FundPost], *, at: dt.datetime | None = None, rows: bool = True) -> list[FundEntry]:
    """Post ``entries`` in order as :func:`post` would one by one with ``savepoint=False`` — the same
    ``FundEntry`` rows (same keys, kinds, buckets, amounts, references, order of ``seq``) and the same final balances —
    set-based: one conditional UPDATE per account (its buckets' net change) and one INSERT for all rows. Each debit
    bucket (except the ``bank`` mirror) must hold, at every step of the sequence, what the entries before it leave:
    checked as balance ≥ the most negative running change of that bucket. Raises T0202 (an amount not a positive int)
    and T0201 (a bucket short) — the caller's transaction must then fail as a whole (the sequencer's settlement of a
    trade: buyer's payment and both fees). For new keys only (the sequencer's trade keys): no retry handling.
    ``rows=False`` (the group commit's batch): the rows are written from plain tuples (``COPY`` on PostgreSQL, one
    ``executemany`` elsewhere; ``FundPost.trade`` / ``order`` need only a ``pk``) and nothing is returned."""
    if not entries:
        return []
    running: dict[tuple[int, str], int] = {}
    lowest: dict[tuple[int, str], int] = {}
    accounts: dict[int, FundAccount] = {}
    for e in entries:
        check_amount(e.amount_fen)
        (dacc, dbucket), (cacc, cbucket) = e.debit, e.credit
        accounts[dacc.pk], accounts[cacc.pk] = dacc, cacc
        d, c = (dacc.pk, BUCKET_FIELDS[dbucket]), (cacc.pk, BUCKET_FIELDS[cbucket])
        running[d] = running.get(d, 0) - e.amount_fen
        lowest[d] = min(lowest.get(d, 0), running[d])
        running[c] = running.get(c, 0) + e.amount_fen
    if transaction.get_connection().vendor == "postgresql" and len(accounts) > 2:
        _accounts_move(accounts, running, lowest)
    else:
        _accounts_move_each(accounts, running, lowest)
    when = at or timezone.now()
    if not rows:
        _entries_write(entries, when)
        return []
    return FundEntry.objects.bulk_create([
        FundEntry(key=e.key, kind=e.kind, debit_account=e.debit[0], debit_bucket=e.debit[1], credit_account=e.credit[0], credit_bucket=e.credit[1],
                  amount_fen=e.amount_fen, reference=e.reference, trade=e.trade, order=e.order, recorded_at=e.at or when) for e in entries])


_E_COLS = ("key", "kind", "debit_account_id", "debit_bucket", "credit_account_id", "credit_bucket", "amount_fen", "reference", "trade_id", "order_id",
           "recorded_at")


def _entries_write(entries: Sequence[FundPost], when: dt.datetime) -> None:
    """The rows ``bulk_create`` writes for ``entries``, in order (``seq`` from the table's default, ascending), without
    building model instances: one ``COPY`` on PostgreSQL, one ``executemany`` elsewhere."""
    conn = transaction.get_connection()
    table = FundEntry._meta.db_table
    pg = conn.vendor == "postgresql"
    adapt = conn.ops.adapt_datetimefield_value
    data = [(e.key, e.kind, e.debit[0].pk, e.debit[1], e.credit[0].pk, e.credit[1], e.amount_fen, e.reference,
             e.trade.pk if e.trade is not None else None, e.order.pk if e.order is not None else None,
             (e.at or when) if pg else adapt(e.at or when)) for e in entries]
    if pg:
        with conn.connection.cursor() as raw, raw.copy(f"COPY {table} ({', '.join(_E_COLS)}) FROM STDIN") as copy:
            for r in data:
                copy.write_row(r)
        return
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} ({', '.join(_E_COLS)}) VALUES ({', '.join(['%s'] * len(_E_COLS))})", data)


def _accounts_move(accounts: dict, running: dict, lowest: dict) -> None:
    """PostgreSQL, a batch over many accounts (the sequencer's group commit): every account's change in ONE conditional
    ``UPDATE … FROM unnest(arrays)`` (rows locked in id order); an account whose bucket would go below what the batch
    needs (not the bank mirror) is not updated, and the batch is refused T0201 naming the first such account."""
    fa, ff = BUCKET_FIELDS[AVAILABLE], BUCKET_FIELDS[FROZEN]
    ids = sorted(pk for pk in accounts if running.get((pk, fa), 0) or running.get((pk, ff), 0))  # as one by one: no change, no check
    if not ids:
        return
    cols = [ids, [running.get((pk, fa), 0) for pk in ids], [running.get((pk, ff), 0) for pk in ids],
            [0 if accounts[pk].kind == FundAccount.Kind.BANK else -lowest.get((pk, fa), 0) for pk in ids],
            [0 if accounts[pk].kind == FundAccount.Kind.BANK else -lowest.get((pk, ff), 0) for pk in ids]]
    t = FundAccount._meta.db_table
    sql = (f"WITH v AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) AS v(id, da, df, na, nf)), "
           f"locked AS (SELECT a.id FROM {t} a JOIN v ON a.id = v.id WHERE a.kind = 'bank' OR (a.{fa} >= v.na AND a.{ff} >= v.nf) "
           f"ORDER BY a.id FOR NO KEY UPDATE OF a) "
           f"UPDATE {t} a SET {fa} = a.{fa} + v.da, {ff} = a.{ff} + v.df FROM v WHERE a.id = v.id AND a.id IN (SELECT id FROM locked) RETURNING a.id")
    with transaction.get_connection().cursor() as cur:
        cur.execute(sql, [pg_array(c) for c in cols])
        done = {r[0] for r in cur.fetchall()}
    if len(done) != len(ids):
        pk = next(pk for pk in ids if pk not in done)
        held = FundAccount.objects.values_list(*BUCKET_FIELDS.values()).get(pk=pk)
        raise CetsError(T0201, f"{accounts[pk].number} available/frozen {held[0]}/{held[1]} fen short")


def _accounts_move_each(accounts: dict, running: dict, lowest: dict) -> None:
    for pk in sorted(accounts):  # in id order, as every writer of several accounts should
        acc = accounts[pk]
        qs = FundAccount.objects.filter(pk=pk)
        change = {}
        for field in BUCKET_FIELDS.values():
            if (pk, field) in running:
                if running[(pk, field)]:
                    change[field] = F(field) + running[(pk, field)]
                if lowest.get((pk, field), 0) < 0 and acc.kind != FundAccount.Kind.BANK:
                    qs = qs.filter(**{f"{field}__gte": -lowest[(pk, field)]})
        if change and qs.update(**change) != 1:
            held = FundAccount.objects.values_list(*BUCKET_FIELDS.values()).get(pk=pk)
            raise CetsError(T0201, f"{acc.number} available/frozen {held[0]}/{held[1]} fen short")
