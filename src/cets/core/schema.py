"""Input types for the JSON API schemas (pydantic, used by every context's ``api.py``).

Quantities and money are strict integers: JSON strings, booleans and floats are refused (422), never
coerced. Bounds keep every value inside a 64-bit column: ``0 < q < 10**15``.

- ``Tonnes``: a positive quantity, tonnes CO2e (int).
- ``SignedTonnes``: a signed quantity in tonnes CO2e (issuance claw-back; rows a service checks itself), ``|q| < 10**15``.
- ``Fen``: a positive amount of money in fen (1 CNY = 100 fen).
- ``Year``: a compliance or vintage year, 2005–2100 (strict in bodies; ``PathYear`` in paths and queries).
- ``ObjectId``: a database id, 1 … 2**63 − 1 (strict in bodies; ``PathId`` in paths and queries).
- ``Limit``, ``Offset``: bounded paging, 1–1000 and 0–10**9.
- ``DecimalText``: a non-negative decimal as text (``"1234.5"``), at most 15 digits before the point and 6 after.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_QUANTITY = 10**15
MAX_ID = 2**63 - 1

Tonnes = Annotated[int, Field(strict=True, gt=0, lt=MAX_QUANTITY)]
SignedTonnes = Annotated[int, Field(strict=True, gt=-MAX_QUANTITY, lt=MAX_QUANTITY)]
Fen = Annotated[int, Field(strict=True, gt=0, lt=MAX_QUANTITY)]
Year = Annotated[int, Field(strict=True, ge=2005, le=2100)]
ObjectId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
PathYear = Annotated[int, Field(ge=2005, le=2100)]
PathId = Annotated[int, Field(ge=1, le=MAX_ID)]
Limit = Annotated[int, Field(ge=1, le=1000)]
Offset = Annotated[int, Field(ge=0, le=10**9)]
# A decimal quantity sent as text (MWh, GJ, a penalty multiple): plain digits with an optional point, no sign,
# exponent or separators, so ``Decimal(text)`` never fails and never meets a float.
DecimalText = Annotated[str, Field(pattern=r"^[0-9]{1,15}(\.[0-9]{1,6})?$", max_length=22)]
