"""A small open market for the exchange's API, pages and browser tests, built with the platform's own
services (no mocks of our database): CEA23 opened on Monday 2024-11-04 at a previous close of 95.00 CNY,
50,000 t of CEA-2023 in the trading positions of the two Shandong entities and 1,000,000.00 CNY each in
their fund accounts; a user for the second entity, an exchange operator and a trader-less authority.

The clock. Order entry checks the trading day and session against ``django.utils.timezone.now`` (the
API has no ``at=``). The fixture ``clock`` replaces that one function with a settable clock (default
2024-11-04 10:00 Asia/Shanghai, in the morning session). This is the robust option: the tests give the
same result whatever the day and hour the suite runs (a weekend, a holiday, at night), where "open
today and skip otherwise" would skip most of the week and never test anything at night. Only the
clock is replaced; every read and write still goes to the real database. ``mock.patch`` replaces the
module attribute, so the live server's thread in the browser test sees the same clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from unittest import mock

import pytest

from tests.conftest import SD_1, SD_2, when

DAY = dt.date(2024, 11, 4)  # a Monday and a trading day
CCER_DAY = dt.date(2025, 6, 9)  # a Monday and a working day: the voluntary market's test day
PASSWORD = "test-password-123"


class Clock:
    """A settable replacement for ``django.utils.timezone.now`` (aware, UTC like the original)."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def set(self, day: str, hour: int, minute: int = 0) -> None:
        self.at = when(day, hour) + dt.timedelta(minutes=minute)

    def __call__(self) -> dt.datetime:
        return self.at.astimezone(dt.UTC)


@pytest.fixture
def clock(settings):
    # The simulated clock jumps hours within one signed-in session; the idle timeout (SESSION_COOKIE_AGE) would end it.
    settings.SESSION_COOKIE_AGE = 7 * 24 * 3600
    c = Clock(when("2024-11-04", 10))
    with mock.patch("django.utils.timezone.now", c):
        yield c


@dataclass
class Exchange:
    w: object
    sd1_user: object
    sd2_user: object
    operator: object


@pytest.fixture
def market(world):
    """The world with CEA23 open on 2024-11-04 (previous close 95.00), 50,000 t in each Shandong entity's
    trading position and 1,000,000.00 CNY in each one's fund account."""
    from cets.registry.models import AccountKind, Position, TransferKind
    from cets.registry.services import Leg, system_account, transfer_post
    from cets.trading import services as ts
    from cets.trading.funds import funds_deposit

    w = world
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    for code in (SD_1, SD_2):
        transfer_post(key=f"iss-{code}", kind=TransferKind.ISSUE, unit_type=w.cea, debit=Leg(total, Position.REGISTRY),
                      credit=Leg(w.accounts[code], Position.TRADING), quantity=50_000)
        funds_deposit(key=f"dep-{code}", holder=w.accounts[code].holder, amount_fen=100_000_000, actor=None)  # 1,000,000.00 CNY
    ts.day_open(market="national", instrument="CEA23", day=DAY, prev_close_fen=9_500)
    return w


@pytest.fixture
def exchange(market, clock) -> Exchange:
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create

    w = market
    exch = Organisation.objects.create(kind=Organisation.Kind.EXCHANGE, name="上海环境能源交易所")
    return Exchange(
        w=w,
        sd1_user=w.entity_sd1_user,
        sd2_user=member_create(username="esd2", organisation=w.sd2, role=Role.ENTITY, password=PASSWORD),
        operator=member_create(username="exop", organisation=exch, role=Role.EXCHANGE_OPERATOR, password=PASSWORD),
    )


@pytest.fixture
def ccer(exchange, clock):
    """A project owner holding 5,000 t of CCER-P-TEST-2025 (issued to its registry position and moved to trading by
    its trader), SD_2 with a CCER account and 1,000,000.00 CNY in its CCER fund account, CCER-P-TEST-2025 opened on
    2025-06-09 at a reference of 90.00 CNY/t."""
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create
    from cets.registry.models import AccountKind, CcerProject, Instrument, Position, TransferKind
    from cets.registry.services import Leg, account_open, position_move, system_account, system_accounts_ensure, transfer_post, vintage_create
    from cets.trading import entry
    from cets.trading.funds import funds_deposit

    x = exchange
    x.clock = clock
    system_accounts_ensure(market="ccer")
    owner = Organisation.objects.create(kind=Organisation.Kind.PROJECT_OWNER, name="测试风电项目业主")
    project = CcerProject.objects.create(code="P-TEST", name="测试海上风电项目", owner=owner, registered_on=dt.date(2025, 3, 1))
    ut = vintage_create(instrument=Instrument.CCER, vintage="2025", cap_t=5_000, key="ccer-cap-test", project=project)
    seller_acc = account_open(holder=owner, kind=AccountKind.CCER_HOLDING, market="ccer")
    transfer_post(key="ccer-iss-test", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(system_account("ccer", AccountKind.NATIONAL_TOTAL), Position.REGISTRY),
                  credit=Leg(seller_acc, Position.REGISTRY), quantity=5_000)
    trader = member_create(username="ccer-owner", organisation=owner, role=Role.TRADER, password=PASSWORD)
    position_move(key="ccer-to-trading", account=seller_acc, unit_type=ut, from_position=Position.REGISTRY, to_position=Position.TRADING,
                  quantity=5_000, actor=trader)
    buyer_acc = account_open(holder=x.w.sd2, kind=AccountKind.CCER_HOLDING, market="ccer")
    funds_deposit(key="ccer-dep-sd2", holder=x.w.sd2, amount_fen=100_000_000, actor=x.operator, market="ccer")
    x.clock.set("2025-06-09", 9)
    entry.day_open(user=x.operator, instrument=ut.code, day=CCER_DAY, prev_close_fen=9_000, market="ccer")
    x.clock.set("2025-06-09", 10)
    x.ccer = ut
    x.ccer_owner, x.ccer_trader, x.ccer_seller_acc, x.ccer_buyer_acc = owner, trader, seller_acc, buyer_acc
    return x
