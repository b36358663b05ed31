"""``mechanisms._insert``: the allocation's bulk write of its result rows (issue 19, bench/allocation_national.py).

Each column's values go through the field's own ``get_db_prep_save`` — each distinct value once — so that the exactness
checks of ``ExactDecimalField`` hold on the bulk path: the rows read back are the values given, a value with more
decimal places than its column refuses the whole write, and a float is refused even where a Decimal of the same value
sits in the same column. On both databases (PostgreSQL: one COPY).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from cets.allocation.mechanisms import _insert
from cets.allocation.models import UnitAllocation
from cets.parties.models import GeneratingUnit, Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def units():
    org = Organisation.objects.create(kind=Organisation.Kind.ENTITY, name="测试电厂", uscc="913700000000000011", province="37",
                                      region_code="370100")
    return [GeneratingUnit.objects.create(entity=org, code=str(i), category="I", rated_capacity_mw=Decimal("300")) for i in range(4)]


def row(unit, **over) -> dict:
    r = dict(unit_id=unit.pk, year=2023, pack_id="national/power-2023-2024", category="I", generation_mwh=Decimal("1000.5"),
             heat_supplied_gj=Decimal("0"), load_factor=Decimal("0.75"), electricity_benchmark=Decimal("0.8218"),
             heat_benchmark=Decimal("0.126"), verified_emissions_t=900, prev_verified_emissions_t=880, ff=Decimal("1.0"),
             electricity_allowance_t=822, heat_allowance_t=0, gas_topup_t=0, unit_allowance_t=822, pre_allocation_t=616)
    return {**r, **over}


def test_the_rows_read_back_are_the_values_given(units):
    """Equal Decimals written differently (1.0, 1.00, 1), repeated and distinct values, ints and strings."""
    given = [row(units[0], ff=Decimal("1.0")), row(units[1], ff=Decimal("1.00"), generation_mwh=Decimal("12.125")),
             row(units[2], ff=Decimal("1"), load_factor=Decimal("0.000001")), row(units[3], ff=Decimal("0.987654"), category="II")]
    _insert(UnitAllocation, given)
    got = list(UnitAllocation.objects.order_by("unit_id").values_list("unit_id", "ff", "generation_mwh", "load_factor", "category",
                                                                      "pre_allocation_t"))
    assert got == [(units[0].pk, Decimal(1), Decimal("1000.5"), Decimal("0.75"), "I", 616),
                   (units[1].pk, Decimal(1), Decimal("12.125"), Decimal("0.75"), "I", 616),
                   (units[2].pk, Decimal(1), Decimal("1000.5"), Decimal("0.000001"), "I", 616),
                   (units[3].pk, Decimal("0.987654"), Decimal("1000.5"), Decimal("0.75"), "II", 616)]
    assert all(type(v) is Decimal for r in got for v in r[1:4])


@pytest.mark.parametrize("bad", [
    {"ff": 1.0},  # a float, alone in its column
    {"ff": Decimal("1.0000001")},  # a seventh decimal place in numeric(10, 6)
    {"generation_mwh": Decimal("12345678901234.5")},  # 17 digits in numeric(16, 3)
], ids=["float", "places", "digits"])
def test_a_value_its_column_would_change_refuses_the_whole_write(units, bad):
    with pytest.raises(ValidationError), transaction.atomic():
        _insert(UnitAllocation, [row(units[0]), row(units[1], **bad), row(units[2])])
    assert not UnitAllocation.objects.exists()


def test_a_float_beside_an_equal_decimal_is_refused(units):
    """1.5 == Decimal("1.5") and both hash alike: a column mixing them must not let the float borrow the Decimal's
    preparation."""
    with pytest.raises(ValidationError), transaction.atomic():
        _insert(UnitAllocation, [row(units[0], load_factor=Decimal("0.5")), row(units[1], load_factor=0.5)])
    with pytest.raises(ValidationError), transaction.atomic():
        _insert(UnitAllocation, [row(units[0], load_factor=0.5), row(units[1], load_factor=Decimal("0.5"))])
    assert not UnitAllocation.objects.exists()
