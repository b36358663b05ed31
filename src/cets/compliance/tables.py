"""Reading the exchange's published daily figures by trade method (``cea_daily_by_trade_method.csv``,
data/cea-national-official) for the fine's price basis outside the database (``cets compliance fine``).

Every bad row is reported as an :class:`~cets.core.errors.InputProblem`; any problem refuses the file.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from cets.core.errors import InputProblem
from cets.core.quantities import yuan_to_fen

METHODS = {"10": "listing", "20": "block", "21": "auction"}
COMPOSITE = "COMCEA"  # the exchange's composite row: the sum of the subjects, never counted


def read_daily_by_method(path: Path, start: dt.date, end: dt.date) -> tuple[list[tuple[dt.date, str, str, int, int]], list[InputProblem]]:
    """Rows ``(date, subject, method, volume_t, amount_fen)`` with start ≤ date ≤ end (the composite
    COMCEA left out), and the problems found in those rows (bad date, method, volume or amount)."""
    rows, problems = [], []
    name = path.name
    with path.open(encoding="utf-8", newline="") as fh:
        for i, r in enumerate(csv.DictReader(fh), start=2):
            try:
                day = dt.date.fromisoformat(r.get("trade_date") or "")
            except ValueError:
                problems.append(InputProblem(name, i, "trade_date", r.get("trade_date") or "", "日期无效", "invalid date"))
                continue
            if not start <= day <= end or r.get("subject_code") == COMPOSITE:
                continue
            method = METHODS.get(r.get("trade_method_code") or "")
            if method is None:
                problems.append(InputProblem(name, i, "trade_method_code", r.get("trade_method_code") or "", "交易方式代码无效", "unknown trade method"))
                continue
            try:
                vol = int(r["volume_t"])
                amt = yuan_to_fen(r["amount_cny"])
            except (KeyError, ValueError, TypeError):
                problems.append(InputProblem(name, i, "volume_t/amount_cny", f"{r.get('volume_t')}/{r.get('amount_cny')}", "成交量或成交额无效",
                                             "invalid volume or amount"))
                continue
            if vol < 0 or amt < 0:
                problems.append(InputProblem(name, i, "volume_t", str(vol), "成交量或成交额为负", "negative volume or amount"))
                continue
            rows.append((day, r["subject_code"], method, vol, amt))
    return rows, problems
