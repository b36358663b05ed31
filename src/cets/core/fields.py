"""Model fields for exact numbers.

SQLite stores Django's ``DecimalField`` with NUMERIC affinity, which may turn values into binary
floats. :class:`ExactDecimalField` stores the canonical decimal string in a TEXT column on SQLite
and uses ``numeric(p, s)`` on PostgreSQL, so the value read back is the value written, exactly.
It is for rates and activity data (MWh, GJ, load factors); tonnes and fen are integers.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models


class ExactDecimalField(models.Field):
    description = "Exact decimal (text on SQLite, numeric on PostgreSQL)"

    def __init__(self, *args, max_digits: int = 24, decimal_places: int = 6, **kwargs):
        self.max_digits = max_digits
        self.decimal_places = decimal_places
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["max_digits"] = self.max_digits
        kwargs["decimal_places"] = self.decimal_places
        return name, path, args, kwargs

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return f"numeric({self.max_digits},{self.decimal_places})"
        return "text"

    def _to_decimal(self, value):
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, float):
            raise ValidationError("float is not allowed; use a decimal string")
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise ValidationError(f"{value!r} is not a decimal number") from None

    def to_python(self, value):
        return self._to_decimal(value)

    def from_db_value(self, value, expression, connection):
        return self._to_decimal(value)

    def get_db_converters(self, connection):
        """No converter on PostgreSQL: psycopg reads ``numeric`` as ``Decimal`` already, and a converter per value is
        Django's loop over every row read (132,000 values of a national allocation's verified data, issue 19)."""
        if connection.vendor == "postgresql":
            return []
        return super().get_db_converters(connection)

    def _exact(self, value) -> Decimal | None:
        """``value`` as a Decimal of at most ``decimal_places`` places and ``max_digits`` digits (quantized to the
        places), or None; ValidationError for a float, a non-number or a value the column would round or refuse."""
        value = self._to_decimal(value)
        if value is None:
            return None
        q = value.quantize(Decimal(1).scaleb(-self.decimal_places))
        if q != value:
            raise ValidationError(f"{value} has more than {self.decimal_places} decimal places")
        if len(q.as_tuple().digits) > self.max_digits:
            raise ValidationError(f"{value} has more than {self.max_digits} digits")
        return q

    def get_prep_value(self, value):
        q = self._exact(value)
        if q is None:
            return None
        return str(q.normalize()) if q == q.to_integral_value() else format(q.normalize(), "f")

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor == "postgresql" and not prepared:
            return self._exact(value)  # numeric(p, s) takes the checked Decimal as it is: no round trip through text (issue 19)
        value = self.get_prep_value(value) if not prepared else value
        if value is None:
            return None
        return Decimal(value) if connection.vendor == "postgresql" else value
