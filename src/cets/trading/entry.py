"""Order entry as the API and the pages call it: who the participant is, the client's idempotency key,
and a retry check, in front of ``trading.services`` (which do every write and every business check).

- The participant is the caller's own organisation (an entity or trader user, Measures Art. 21); every
  other role is refused T0209 before anything is written (Regulations Art. 7: regulators, the registry,
  the exchange and verification bodies do not trade).
- The client's key is kept per user (``<channel>-<user id>-<key>``), so two users' keys never meet and
  one user cannot read another's order by guessing its key. A retry with the same key returns the first
  order; the same key with other content is refused T0203 (nothing is written).
- Cancel is checked here against the caller's own orders (T0110 before anything is written), so a
  participant cannot even log a command against another participant's order.
"""

from __future__ import annotations

import re

from django.db import IntegrityError

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Organisation, Role
from cets.rules.markets import PRIMARY_MARKET
from cets.rules.packs import PackError

from . import services
from .checks import T0110, T0111, T0113, T0203, T0205, T0206, T0209, T0402, T0403
from .models import Order
from .selectors import day_state, instruments_listed, participant_of

_KEY = re.compile(r"[A-Za-z0-9._:-]{1,80}")

# Methods a participant enters through the API and the pages: the national market's listing and block
# agreements (reference §3.1). One-way auctions have their own announcement and bidding flow; the
# continuous method is for pilot markets and is not offered until a pack says a market uses it.
ORDER_METHODS = ("listing", "block")


def stored_key(*, user, key: str, channel: str = "api") -> str:
    """The command-log key for ``key`` sent by ``user`` (T0402 if malformed)."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise CetsError(T0402, repr(key)[:90])
    return f"{channel}-{user.pk}-{key}"


def _participant(user) -> Organisation:
    org = participant_of(user)
    if org is None:
        raise CetsError(T0209, getattr(user, "username", ""))
    return org


def _retry(key: str, **same) -> Order | None:
    """The order already logged under ``key``, if its content equals ``same``; T0203 if it differs."""
    o = Order.objects.filter(key=key).first()
    if o is None:
        return None
    if any(getattr(o, f) != v for f, v in same.items()):
        raise CetsError(T0203, key)
    return o


def _once(key: str, fn, **same) -> Order:
    """Run ``fn`` unless ``key`` is logged already; a concurrent duplicate that loses the race on the
    unique key gets the winner's order."""
    if (o := _retry(key, **same)) is not None:
        return o
    try:
        return fn()
    except IntegrityError:
        if (o := _retry(key, **same)) is not None:
            return o
        raise


def _client(user, client_account: str) -> Organisation:
    """The holder of registry account ``client_account``, for a member entering an order for its client; whether the
    caller's member acts for it is ``services``' check (T0209). T0403 if no such account."""
    from cets.registry.models import Account

    acc = Account.objects.filter(number=client_account.strip(), holder__isnull=False).select_related("holder").first()
    if acc is None:
        raise CetsError(T0403, client_account[:40])
    return acc.holder


def place(*, user, key: str, instrument: str, method: str, side: str, price_fen: int, quantity_t: int, counterparty: str = "",
          channel: str = "api", market: str = PRIMARY_MARKET, client_account: str = "") -> Order:
    """Enter an order for the caller's organisation (``services.order_place``): ``price_fen`` fen per
    tonne (int), ``quantity_t`` tonnes (int), ``counterparty`` the USCC of a directed block order's
    counterparty (T0403 if unknown); ``client_account`` the registry account of the client an exchange member
    enters the order for (draft Measures Art. 19; T0209 unless the caller's member acts for it). Raises T0113 (a
    method other than listing / block), T0209 (not a trader), T0402, T0203 and every check of
    ``order_place``. Returns the order as the sequencer left it (resting, filled or rejected)."""
    org = _client(user, client_account) if client_account else _participant(user)
    k = stored_key(user=user, key=key, channel=channel)
    if method not in ORDER_METHODS:
        raise CetsError(T0113, repr(method)[:40])
    cp = None
    if counterparty:
        cp = Organisation.objects.filter(uscc=counterparty.strip().upper()).first()
        if cp is None:
            raise CetsError(T0403, counterparty[:40])
    return _once(k, lambda: services.order_place(key=k, participant=org, instrument=instrument, method=method, side=side, price_fen=price_fen,
                                                 quantity_t=quantity_t, counterparty=cp, actor=user, market=market),
                 kind=Order.Kind.PLACE, participant_id=org.pk, instrument=instrument, method=method, side=side, price_fen=price_fen,
                 quantity_t=quantity_t, counterparty_id=cp.pk if cp else None)


def take(*, user, key: str, quote: int, quantity_t: int, channel: str = "api", market: str = PRIMARY_MARKET) -> Order:
    """Take ``quantity_t`` tonnes of resting quote ``quote`` (seq) for the caller's organisation
    (``services.order_take``). Raises T0209, T0402, T0203, T0211 and the book's T0106–T0112 show as a
    rejected take order."""
    org = _participant(user)
    k = stored_key(user=user, key=key, channel=channel)
    return _once(k, lambda: services.order_take(key=k, participant=org, quote_seq=quote, quantity_t=quantity_t, actor=user, market=market),
                 kind=Order.Kind.TAKE, participant_id=org.pk, target_id=quote, quantity_t=quantity_t)


def cancel(*, user, key: str, order: int, channel: str = "api", market: str = PRIMARY_MARKET) -> Order:
    """Cancel the caller's organisation's resting order ``order`` (seq) (``services.order_cancel``).
    T0110 before anything is written if the order is not the caller's or not resting."""
    org = _participant(user)
    k = stored_key(user=user, key=key, channel=channel)
    if (o := _retry(k, kind=Order.Kind.CANCEL, participant_id=org.pk, target_id=order)) is not None:
        return o
    if not Order.objects.filter(seq=order, market=market, participant=org, kind=Order.Kind.PLACE, status=Order.Status.RESTING).exists():
        raise CetsError(T0110, f"#{order}")
    return _once(k, lambda: services.order_cancel(key=k, participant=org, order_seq=order, actor=user, market=market),
                 kind=Order.Kind.CANCEL, participant_id=org.pk, target_id=order)


def day_open(*, user, instrument: str, day, prev_close_fen: int | None = None, market: str = PRIMARY_MARKET) -> Order:
    """The exchange operator opens ``day`` for ``instrument`` (开市, ``services.day_open``). R0502 unless
    ``user`` is an exchange operator; T0206 an instrument the market's trading pack does not list (nor a
    registry unit type of one of its ``[instrument_families]``) and that was never opened; T0205 a year no
    trading pack covers; then every check of ``day_open`` (T0205 not a trading day, T0210 the previous day
    not closed, T0111 no reference price)."""
    require_role(user, Role.EXCHANGE_OPERATOR)
    try:
        rules = services.market_rules(market, day)
    except PackError:
        raise CetsError(T0205, f"{day}: no trading rules") from None
    if instrument not in services.tradeable_subjects(market=market, day=day, rules=rules) and instrument not in instruments_listed(market=market):
        raise CetsError(T0206, repr(instrument)[:40])
    if prev_close_fen is not None and (isinstance(prev_close_fen, bool) or not isinstance(prev_close_fen, int) or prev_close_fen <= 0):
        raise CetsError(T0111, repr(prev_close_fen)[:40])
    return services.day_open(market=market, instrument=instrument, day=day, prev_close_fen=prev_close_fen)


def day_close(*, user, instrument: str, day, market: str = PRIMARY_MARKET):
    """The exchange operator closes ``day`` for ``instrument`` (闭市, ``services.day_close``): resting
    orders expire and the day's statistics and quote are written. R0502 unless ``user`` is an exchange
    operator; T0205 unless ``day`` is the instrument's open day (nothing is written then: the service
    would log a close for a day that was never opened)."""
    require_role(user, Role.EXCHANGE_OPERATOR)
    if day_state(market=market, instrument=instrument, today=day).open_day != day:
        raise CetsError(T0205, f"{instrument} {day} not open")
    return services.day_close(market=market, instrument=instrument, day=day)
