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
