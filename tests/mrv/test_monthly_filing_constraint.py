"""The database's supply ≤ generation check on monthly filings compares numbers, not text.

ExactDecimalField is a TEXT column on SQLite, where '950.000' > '1000.000' as text: a filing supplying 950 MWh of
1,000 MWh generated was refused there. Both databases must accept it and refuse 1,000.001 MWh of 1,000 MWh.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from cets.mrv.models import MonthlyFiling
from cets.parties.models import GeneratingUnit, Organisation, Role
from cets.parties.services import member_create

pytestmark = pytest.mark.django_db


def _filing(org, user, unit, month: int, supplied: str) -> MonthlyFiling:
    return MonthlyFiling.objects.create(market="national", entity=org, unit=unit, year=2024, month=month, due_on=dt.date(2024, month, 28),
                                        generation_mwh=Decimal("1000"), supplied_mwh=Decimal(supplied), heat_supplied_gj=Decimal("0"),
                                        operating_hours=Decimal("700"), rated_capacity_mw=Decimal("300"), submitted_on=dt.date(2024, month, 10),
                                        submitted_by=user)


def test_supply_below_generation_with_fewer_digits_is_accepted_and_above_refused():
    org = Organisation.objects.create(kind=Organisation.Kind.ENTITY, name="测试电厂", uscc="913700000000000011", province="37", region_code="370100")
    user = member_create(username="e1", organisation=org, role=Role.ENTITY, password="test-password-123")
    unit = GeneratingUnit.objects.create(entity=org, code="1", category="A", rated_capacity_mw=Decimal("300"))
    assert _filing(org, user, unit, 1, "950").supplied_mwh == Decimal("950")
    assert _filing(org, user, unit, 2, "1000").supplied_mwh == Decimal("1000")
    with pytest.raises(IntegrityError), transaction.atomic():
        _filing(org, user, unit, 3, "1000.001")


def test_exact_decimals_read_back_as_decimals_equal_to_what_was_written():
    """ExactDecimalField reads back the Decimal written, by every way a value is read — a model instance, a values
    list, and on PostgreSQL an aggregate — on both databases (on PostgreSQL without a converter: psycopg gives
    ``numeric`` as Decimal)."""
    from django.db.models import Max, Sum

    org = Organisation.objects.create(kind=Organisation.Kind.ENTITY, name="测试电厂", uscc="913700000000000011", province="37", region_code="370100")
    user = member_create(username="e2", organisation=org, role=Role.ENTITY, password="test-password-123")
    unit = GeneratingUnit.objects.create(entity=org, code="1", category="A", rated_capacity_mw=Decimal("300.125"))
    _filing(org, user, unit, 1, "950.125")
    _filing(org, user, unit, 2, "0.001")
    got = [MonthlyFiling.objects.get(month=1).supplied_mwh, *MonthlyFiling.objects.order_by("month").values_list("supplied_mwh", flat=True),
           GeneratingUnit.objects.values_list("rated_capacity_mw", flat=True).get()]
    assert got == [Decimal("950.125"), Decimal("950.125"), Decimal("0.001"), Decimal("300.125")]
    assert all(type(v) is Decimal for v in got)
    if connection.vendor == "postgresql":  # (SQLite sums the TEXT column as a float, which the field refuses)
        agg = MonthlyFiling.objects.aggregate(s=Sum("supplied_mwh"), m=Max("supplied_mwh"))
        assert agg == {"s": Decimal("950.126"), "m": Decimal("950.125")} and type(agg["s"]) is Decimal
