"""Reading the exchange's published daily figures by trade method (``cea_daily_by_trade_method.csv``,
data/cea-national-official) for the fine's price basis outside the database (``cets compliance fine``), and
the Beijing exchange's daily BEA figures (``beijing_bea_daily.csv``, data/cn-pilots-bj-tj-gd-hb) for the
Beijing pilot's fine (:func:`read_beijing_daily`; chosen by the file's header).

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
    COMCEA left out), and the problems found in those rows (bad date, method, volume or amount). A file
    with the Beijing header (``trade_date, volume_t, avg_price_cny, amount_cny, …``) is read by
    :func:`read_beijing_daily`."""
    rows, problems = [], []
    name = path.name
    with path.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh), [])
    if "avg_price_cny" in header and "subject_code" not in header:
        return read_beijing_daily(path, start, end)
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


BEIJING_SUBJECT = "BEA"


def read_beijing_daily(path: Path, start: dt.date, end: dt.date) -> tuple[list[tuple[dt.date, str, str, int, int]], list[InputProblem]]:
    """The Beijing exchange's published daily BEA figures (one line per trading day, all vintages together, 线上公开
    交易) as rows ``(date, "BEA", "listing", volume_t, amount_fen)`` with start ≤ date ≤ end, and the problems of
    those rows. The file's dirt is refused, never guessed at (data/cn-pilots-bj-tj-gd-hb/README.md): an amount
    that is not a number (e.g. ``1799.431.00``, a '.' used as a thousands separator), a negative figure,
    volume × average price ≠ amount beyond the average's own rounding (|v × p − a| > 0.005 × v + 0.01 CNY), and
    two different lines for the same day. A line repeated identically (2024-08-13) is one record, read once."""
    from decimal import Decimal, InvalidOperation

    rows, problems, seen = [], [], {}
    name = path.name
    with path.open(encoding="utf-8", newline="") as fh:
        for i, r in enumerate(csv.DictReader(fh), start=2):
            try:
                day = dt.date.fromisoformat(r.get("trade_date") or "")
            except ValueError:
                problems.append(InputProblem(name, i, "trade_date", r.get("trade_date") or "", "日期无效", "invalid date"))
                continue
            if not start <= day <= end:
                continue
            line = (r.get("volume_t"), r.get("avg_price_cny"), r.get("amount_cny"))
            if day in seen:
                if seen[day] != line:
                    problems.append(InputProblem(name, i, "trade_date", str(day), "同一交易日有两行不同数据", "two different lines for the same day"))
                continue
            seen[day] = line
            try:
                vol, price, amount = int(line[0]), Decimal(line[1]), Decimal(line[2])
                amt = yuan_to_fen(line[2])
            except (TypeError, ValueError, InvalidOperation):
                problems.append(InputProblem(name, i, "volume_t/avg_price_cny/amount_cny", "/".join(str(x) for x in line), "成交量、均价或成交额无效",
                                             "invalid volume, average price or amount"))
                continue
            if vol < 0 or amt < 0:
                problems.append(InputProblem(name, i, "volume_t", str(vol), "成交量或成交额为负", "negative volume or amount"))
                continue
            if abs(vol * price - amount) > Decimal("0.005") * vol + Decimal("0.01"):
                problems.append(InputProblem(name, i, "amount_cny", str(amount), f"成交量×均价（{vol * price}）与成交额不符",
                                             f"volume × average price ({vol * price}) differs from the amount"))
                continue
            rows.append((day, BEIJING_SUBJECT, "listing", vol, amt))
    return rows, problems
