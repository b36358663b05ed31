"""The national market's published daily figures, read into exact integers (pure; reads only the files given).

Source: 全国碳排放权交易信息发布 of the Shanghai Environment and Energy Exchange, as cached in
``data/cea-national-official/`` (its README explains every column). Two files:

* ``cea_daily_by_trade_method.csv`` — per trading day × subject × trade method (10 挂牌协议 listing,
  20 大宗协议 block, 21 单向竞价 auction): volume (t), amount (CNY with fen), year-to-date and
  cumulative counters. Its amounts are exact to the fen.
* ``cea_daily_quotes.csv`` — per trading day × subject: open/high/low/close/prev_close (CNY/t) and the
  listing volume and amount (amounts until 2023-08-22 truncated to the yuan).

Everything becomes ``int``: tonnes for quantities, fen for money and for prices (fen per tonne). A
decimal text is turned into fen through :class:`~decimal.Decimal`; no float is ever involved.

Public API:

* :func:`load_official` ``(by_method_path, quotes_path) -> OfficialData`` — read both files.
* :func:`parse_official` ``(by_method_text, quotes_text, *, by_method_name, quotes_name) -> OfficialData``.
* :func:`check_published` ``(data) -> list[Finding]`` — the published figures checked against the
  published rules (close = VWAP, bands, counters …), see that function.

Malformed rows are all collected as :class:`~cets.core.errors.InputProblem` (file, line, field, value,
reason) and raised together as :class:`~cets.core.errors.InputError`; nothing is returned then.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from cets.core.errors import InputError, InputProblem
from cets.rules.packs import load_pack

from .book import Limits, price_band, vwap_fen

#: Trade method codes of the exchange → the platform's ``trading.models.Method`` values.
METHOD_CODES: dict[str, str] = {"10": "listing", "20": "block", "21": "auction"}
METHODS: tuple[str, ...] = ("listing", "block", "auction")
#: The composite price subject (全国碳市场综合价格行情): published, never tradeable.
COMPOSITE = "COMCEA"

BY_METHOD_COLUMNS = ("trade_date", "subject_code", "subject_name", "trade_method_code", "trade_method",
                     "volume_t", "amount_cny", "ytd_volume_t", "ytd_amount_cny", "cum_volume_t", "cum_amount_cny")
QUOTE_COLUMNS = ("trade_date", "subject_code", "subject_name", "open", "high", "low", "close", "prev_close",
                 "change", "change_pct", "volume_t", "amount_cny")

_SUBJECT = re.compile(r"^(COMCEA|CEA|CEA\d{2})$")
_INT = re.compile(r"^\d+$")
_MONEY = re.compile(r"^\d+(\.\d{1,2})?$")

# Finding kinds.
CONTRADICTION = "contradiction"    # the published figures contradict the published rule
UNREPRODUCIBLE = "unreproducible"  # the figures are consistent but no valid plan reproduces them exactly
NOTE = "note"                      # worth knowing, changes no figure (e.g. amounts rounded to the yuan)


@dataclass(frozen=True)
class Finding:
    """One thing the published figures (or a plan for them) do not do as the rule says.

    ``field`` names the figure (``close``, ``listing.amount`` …); ``published`` is the exchange's
    value and ``implied`` what the rule implies, both as text in the unit of the field (fen, t);
    ``reason`` a stable code (``close_not_vwap``, ``amount_rounded_to_yuan``, ``counter_mismatch`` …);
    ``kind`` one of ``contradiction``, ``unreproducible``, ``note``.
    """

    date: dt.date
    subject: str
    field: str
    published: str
    implied: str
    reason: str
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class MethodFigures:
    """One method's published figures on one day: ``volume_t`` t (int), ``amount_fen`` fen (int) and the
    exchange's year-to-date and cumulative counters (t, fen). ``line`` is the row's line in the file."""

    volume_t: int
    amount_fen: int
    ytd_volume_t: int
    ytd_amount_fen: int
    cum_volume_t: int
    cum_amount_fen: int
    line: int = 0


@dataclass(frozen=True)
class Quote:
    """The published quote of one subject on one day, prices fen per tonne (int). On a day without
    listing trades the exchange publishes ``high_fen = low_fen = 0`` and ``open_fen = close_fen =
    prev_close_fen``. ``prev_close_fen`` is None on a subject's first day. ``volume_t``/``amount_fen`` are the
    listing figures as the quote file carries them (amounts until 2023-08-22 truncated to the yuan)."""

    open_fen: int
    high_fen: int
    low_fen: int
    close_fen: int
    prev_close_fen: int | None
    volume_t: int
    amount_fen: int
    line: int = 0


@dataclass(frozen=True)
class SubjectDay:
    """Everything published about one subject on one trading day.

    ``methods`` maps ``listing``/``block``/``auction`` to :class:`MethodFigures` (a method is absent when
    the exchange published no row for it, e.g. auctions before 2024); ``quote`` is None when the quote
    file has no row (COMCEA on 2025-10-13).
    """

    date: dt.date
    subject: str
    name: str
    methods: dict[str, MethodFigures]
    quote: Quote | None

    @property
    def tradeable(self) -> bool:
        """False for the composite COMCEA, True for CEA, CEA21 … (vintage allowances)."""
        return self.subject != COMPOSITE

    def volume_t(self, method: str) -> int:
        """Published volume of ``method`` in tonnes (0 if no row)."""
        f = self.methods.get(method)
        return f.volume_t if f else 0

    def amount_fen(self, method: str) -> int:
        """Published amount of ``method`` in fen (0 if no row)."""
        f = self.methods.get(method)
        return f.amount_fen if f else 0

    @property
    def reference_fen(self) -> int | None:
        """The price the day's bands are taken from (fen/t): the previous close; on a subject's first day
        (no previous close published) the published open, which is the listing reference price the exchange
        set (48.00 on 2021-07-16; the composite's last close for a new vintage, e.g. CEA25 74.63 on
        2026-01-05). None without a quote."""
        if self.quote is None:
            return None
        return self.quote.prev_close_fen if self.quote.prev_close_fen is not None else self.quote.open_fen


@dataclass
class OfficialData:
    """The parsed files: ``days[(date, subject)]`` in file order of dates; ``by_method_name`` and
    ``quotes_name`` are the file names used in findings and problems."""

    days: dict[tuple[dt.date, str], SubjectDay] = field(default_factory=dict)
    by_method_name: str = "cea_daily_by_trade_method.csv"
    quotes_name: str = "cea_daily_quotes.csv"

    def dates(self) -> list[dt.date]:
        return sorted({d for d, _ in self.days})

    def subjects_on(self, date: dt.date) -> list[SubjectDay]:
        """The subject-days of ``date``, sorted by subject code (CEA, CEA21 …, COMCEA)."""
        index = self.__dict__.get("_by_date")
        if index is None or index[0] != len(self.days):  # built once (and again if days were added): the replay asks per day
            by_date: dict[dt.date, list[SubjectDay]] = {}
            for (d, _), sd in self.days.items():
                by_date.setdefault(d, []).append(sd)
            index = (len(self.days), {d: sorted(v, key=lambda s: s.subject) for d, v in by_date.items()})
            self.__dict__["_by_date"] = index
        return list(index[1].get(date, ()))

    def tradeable_days(self) -> list[SubjectDay]:
        """Every tradeable subject-day, by date then subject."""
        return sorted((sd for sd in self.days.values() if sd.tradeable), key=lambda s: (s.date, s.subject))


def yuan_to_fen(text: str) -> int:
    """``"210230053.25"`` → ``21023005325`` (fen, int), exactly through Decimal. Raises ``ValueError`` for
    anything that is not a non-negative decimal with at most two places (no sign, exponent or float)."""
    if not _MONEY.match(text):
        raise ValueError(text)
    return int(Decimal(text) * 100)


def fen_text(fen: int | None) -> str:
    """``5123`` → ``"51.23"`` (CNY with two places); None → ``""``."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


# --------------------------------------------------------------------------------------------- parsing


def _rows(text: str, name: str, columns: tuple[str, ...], problems: list[InputProblem]) -> Iterable[tuple[int, dict]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        problems.append(InputProblem(name, 1, "header", "", "文件为空", "file is empty"))
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in columns if c not in header]
    if missing:
        problems.append(InputProblem(name, 1, "header", ",".join(missing), "缺少列", "missing columns"))
        return
    for line, values in enumerate(reader, start=2):
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(InputProblem(name, line, "row", str(len(values)), "列数不符",
                                         f"expected {len(header)} fields"))
            continue
        yield line, dict(zip(header, (v.strip() for v in values)))


class _Row:
    """Field readers that record a problem instead of raising."""

    def __init__(self, name: str, line: int, row: dict, problems: list[InputProblem]) -> None:
        self.name, self.line, self.row, self.problems, self.ok = name, line, row, problems, True

    def bad(self, fld: str, zh: str, en: str) -> None:
        self.ok = False
        self.problems.append(InputProblem(self.name, self.line, fld, self.row.get(fld, ""), zh, en))

    def date(self, fld: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(self.row[fld])
        except ValueError:
            self.bad(fld, "日期格式应为 YYYY-MM-DD", "date must be YYYY-MM-DD")
            return None

    def tonnes(self, fld: str) -> int:
        v = self.row[fld]
        if not _INT.match(v):
            self.bad(fld, "数量应为非负整数（吨）", "quantity must be a non-negative integer (t)")
            return 0
        return int(v)

    def fen(self, fld: str, *, optional: bool = False) -> int | None:
        v = self.row[fld]
        if optional and v == "":
            return None
        try:
            return yuan_to_fen(v)
        except ValueError:
            self.bad(fld, "金额/价格应为最多两位小数的非负数", "amount/price must be a non-negative number with at most 2 decimals")
            return 0

    def subject(self) -> str:
        v = self.row["subject_code"]
        if not _SUBJECT.match(v):
            self.bad("subject_code", "未知的交易标的", "unknown subject code")
        return v


def parse_official(by_method_text: str, quotes_text: str, *, by_method_name: str = "cea_daily_by_trade_method.csv",
                   quotes_name: str = "cea_daily_quotes.csv") -> OfficialData:
    """Parse the two files' text into :class:`OfficialData`.

    Lines are numbered as in the file (header = line 1). Raises :class:`InputError` listing every
    malformed row (bad date, subject, method code, a non-integer volume, an amount with more than two
    decimals, a duplicate day × subject (× method), a negative or float-like number); returns nothing
    then.
    """
    problems: list[InputProblem] = []
    methods: dict[tuple[dt.date, str], dict[str, MethodFigures]] = defaultdict(dict)
    names: dict[tuple[dt.date, str], str] = {}
    for line, row in _rows(by_method_text, by_method_name, BY_METHOD_COLUMNS, problems):
        r = _Row(by_method_name, line, row, problems)
        date, subject = r.date("trade_date"), r.subject()
        code = row["trade_method_code"]
        if code not in METHOD_CODES:
            r.bad("trade_method_code", "未知的交易方式代码", "unknown trade method code (10, 20, 21)")
        fig = MethodFigures(r.tonnes("volume_t"), r.fen("amount_cny") or 0, r.tonnes("ytd_volume_t"),
                            r.fen("ytd_amount_cny") or 0, r.tonnes("cum_volume_t"), r.fen("cum_amount_cny") or 0, line)
        if not r.ok or date is None:
            continue
        method = METHOD_CODES[code]
        if method in methods[(date, subject)]:
            r.bad("trade_method_code", "同一日期、标的、交易方式重复", "duplicate date × subject × method")
            continue
        methods[(date, subject)][method] = fig
        names[(date, subject)] = row["subject_name"]
    quotes: dict[tuple[dt.date, str], Quote] = {}
    for line, row in _rows(quotes_text, quotes_name, QUOTE_COLUMNS, problems):
        r = _Row(quotes_name, line, row, problems)
        date, subject = r.date("trade_date"), r.subject()
        q = Quote(r.fen("open") or 0, r.fen("high") or 0, r.fen("low") or 0, r.fen("close") or 0,
                  r.fen("prev_close", optional=True), r.tonnes("volume_t"), r.fen("amount_cny") or 0, line)
        if not r.ok or date is None:
            continue
        if (date, subject) in quotes:
            r.bad("subject_code", "同一日期、标的重复", "duplicate date × subject")
            continue
        quotes[(date, subject)] = q
        names.setdefault((date, subject), row["subject_name"])
    if problems:
        raise InputError(problems)
    data = OfficialData(by_method_name=by_method_name, quotes_name=quotes_name)
    for key in sorted(set(methods) | set(quotes)):
        data.days[key] = SubjectDay(key[0], key[1], names.get(key, ""), dict(methods.get(key, {})), quotes.get(key))
    return data


def load_official(by_method_path: str | Path, quotes_path: str | Path) -> OfficialData:
    """Read the two CSV files (UTF-8) and parse them with :func:`parse_official`; file names in problems
    and findings are the paths' base names. Raises :class:`InputError` (malformed rows), ``OSError``."""
    bm, qt = Path(by_method_path), Path(quotes_path)
    return parse_official(bm.read_text(encoding="utf-8-sig"), qt.read_text(encoding="utf-8-sig"),
                          by_method_name=bm.name, quotes_name=qt.name)


# --------------------------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class TradingRules:
    """The trading rules the published figures are checked against and plans obey: the ``[order]``
    limits of the market's trading pack (``national/trading-2021-2026``: ±10% listing band, ±30% block
    band, listing < 100,000 t, block ≥ 100,000 t, limit prices rounded half-up to the 0.01 CNY tick —
    the rounding is inferred from the data, [M] in the pack: the published highs and lows never pass
    the rounded limit in 2,023 subject-days with trades, while 36 pass the unrounded one, e.g. CEA
    2021-08-09: previous close 52.96, high 58.26 = 52.96 × 1.1 = 58.256 rounded)."""

    limits: Limits

    @property
    def listing_band(self) -> Decimal:
        return self.limits.listing_band

    @property
    def block_band(self) -> Decimal:
        return self.limits.block_band

    @property
    def listing_max_t(self) -> int:
        """The largest listing order in tonnes (orders are strictly below the pack's threshold)."""
        return self.limits.listing_max_t - 1

    @property
    def block_min_t(self) -> int:
        return self.limits.block_min_t

    def band(self, reference_fen: int, pct: Decimal) -> tuple[int, int]:
        """(lowest, highest) allowed price in fen/t for ``reference_fen`` and band ``pct`` (``book.price_band``)."""
        return price_band(reference_fen, pct, self.limits.band_rounding)

    def listing_limits(self, reference_fen: int) -> tuple[int, int]:
        return self.band(reference_fen, self.listing_band)

    def block_limits(self, reference_fen: int) -> tuple[int, int]:
        return self.band(reference_fen, self.block_band)


NATIONAL_RULES = TradingRules(Limits.from_pack(load_pack("national/trading-2021-2026")))


# --------------------------------------------------------------------------------------------- checks


def _f(day: SubjectDay, fld: str, published: object, implied: object, reason: str, kind: str = CONTRADICTION,
       detail: str = "") -> Finding:
    return Finding(day.date, day.subject, fld, str(published), str(implied), reason, kind, detail)


def check_quote(day: SubjectDay, rules: TradingRules = NATIONAL_RULES) -> list[Finding]:
    """The quote of one tradeable subject-day against the listing rules (reference §3.1), using the
    by-method listing amount (exact to the fen) as the day's amount. Prices in findings are fen/t.

    With listing trades: close = VWAP rounded half-up (``close_not_vwap``); the exact VWAP within
    [low, high] (``vwap_outside_high_low``); open within [low, high] (``open_outside_high_low``); high and
    low within the ±10% limits (``price_outside_band``); enough tonnes for distinct open/high/low
    (``too_few_tonnes``). Without: close and open = previous close (``close_not_prev_close``,
    ``open_not_prev_close``) and no amount (``amount_without_volume``). A missing quote: ``quote_missing``.
    """
    q = day.quote
    if q is None:
        return [_f(day, "quote", "", "a quote row", "quote_missing")] if day.methods else []
    out: list[Finding] = []
    ref = day.reference_fen
    v, a = day.volume_t("listing"), day.amount_fen("listing")
    if v == 0:
        if a:
            out.append(_f(day, "listing.amount_fen", a, 0, "amount_without_volume"))
        if q.prev_close_fen is not None and q.close_fen != q.prev_close_fen:
            out.append(_f(day, "close", q.close_fen, q.prev_close_fen, "close_not_prev_close"))
        if q.prev_close_fen is not None and q.open_fen != q.prev_close_fen:
            out.append(_f(day, "open", q.open_fen, q.prev_close_fen, "open_not_prev_close"))
        return out
    vw = vwap_fen(a, v)
    if q.close_fen != vw:
        out.append(_f(day, "close", q.close_fen, vw, "close_not_vwap",
                      detail=f"VWAP = {a} fen / {v} t (by-method amount)"))
    if not (q.low_fen * v <= a <= q.high_fen * v):
        out.append(_f(day, "listing.amount_fen", a, f"[{q.low_fen * v}, {q.high_fen * v}]", "vwap_outside_high_low",
                      detail=f"VWAP {a}/{v} fen/t outside [{q.low_fen}, {q.high_fen}]"))
    if not (q.low_fen <= q.open_fen <= q.high_fen):
        out.append(_f(day, "open", q.open_fen, f"[{q.low_fen}, {q.high_fen}]", "open_outside_high_low"))
    if ref is not None:
        lo, hi = rules.listing_limits(ref)
        if q.high_fen > hi:
            out.append(_f(day, "high", q.high_fen, f"<= {hi}", "price_outside_band", detail=f"reference {ref}"))
        if q.low_fen < lo:
            out.append(_f(day, "low", q.low_fen, f">= {lo}", "price_outside_band", detail=f"reference {ref}"))
    if v < len({q.open_fen, q.high_fen, q.low_fen}):
        out.append(_f(day, "listing.volume_t", v, f">= {len({q.open_fen, q.high_fen, q.low_fen})}", "too_few_tonnes"))
    return out


def check_quote_vs_methods(day: SubjectDay) -> list[Finding]:
    """The quote file's listing volume/amount against the by-method file's listing row.

    Different volume → ``quote_volume_mismatch``. An amount that is the by-method amount cut to the
    yuan (the quote file truncates the fen until 2023-08-22: 106 tradeable subject-days, 53 of which would
    also be the half-up rounding) → ``amount_rounded_to_yuan`` (kind ``note``: the
    by-method amount is the exact one; the detail says whether the close is the VWAP of the rounded
    amount too); any other difference → ``quote_amount_mismatch``.
    """
    q = day.quote
    if q is None or "listing" not in day.methods:
        return []
    v, a = day.volume_t("listing"), day.amount_fen("listing")
    out = []
    if q.volume_t != v:
        out.append(_f(day, "listing.volume_t", q.volume_t, v, "quote_volume_mismatch",
                      detail="quote file vs by-method file"))
    if q.amount_fen != a:
        if q.amount_fen == a // 100 * 100 and q.volume_t == v:
            same = v > 0 and vwap_fen(q.amount_fen, v) == q.close_fen
            out.append(_f(day, "listing.amount_fen", q.amount_fen, a, "amount_rounded_to_yuan", NOTE,
                          detail="close is also the VWAP of the rounded amount" if same
                          else "close is the VWAP of the exact amount only"))
        else:
            out.append(_f(day, "listing.amount_fen", q.amount_fen, a, "quote_amount_mismatch",
                          detail="quote file vs by-method file"))
    return out


def check_block(day: SubjectDay, rules: TradingRules = NATIONAL_RULES) -> list[Finding]:
    """Block volume and amount against the block rules: every block trade ≥ 100,000 t
    (``block_below_minimum`` when 0 < volume < 100,000) and within ±30% of the previous close, so the
    amount must lie within volume × [limit down, limit up] (``block_outside_band``)."""
    v, a = day.volume_t("block"), day.amount_fen("block")
    out = []
    if v == 0:
        if a:
            out.append(_f(day, "block.amount_fen", a, 0, "amount_without_volume"))
        return out
    if v < rules.block_min_t:
        out.append(_f(day, "block.volume_t", v, f">= {rules.block_min_t}", "block_below_minimum"))
    ref = day.reference_fen
    if ref is not None:
        lo, hi = rules.block_limits(ref)
        if not (lo * v <= a <= hi * v):
            out.append(_f(day, "block.amount_fen", a, f"[{lo * v}, {hi * v}]", "block_outside_band",
                          detail=f"average {fen_text(a // v)}… CNY/t, limits [{fen_text(lo)}, {fen_text(hi)}] "
                                 f"from reference {fen_text(ref)}"))
    return out


def check_counters(data: OfficialData) -> list[Finding]:
    """Every published year-to-date and cumulative counter = the subject's previous published counter of
    that method + the day's figure (year-to-date starts again on the first trading day of a calendar
    year). The first row of a subject and method in the file is the baseline and is not checked (a file
    may start in mid-history). Compared day by day, so one wrong day is named once
    instead of shifting every later day. Mismatch → ``counter_mismatch`` on e.g. ``block.ytd_amount_fen``."""
    out: list[Finding] = []
    last: dict[tuple[str, str], tuple[dt.date, MethodFigures]] = {}
    for key in sorted(data.days):
        day = data.days[key]
        for method, fig in day.methods.items():
            prev = last.get((day.subject, method))
            if prev is None:  # the file's first row of this subject and method is the baseline
                last[(day.subject, method)] = (day.date, fig)
                continue
            same_year = prev is not None and prev[0].year == day.date.year
            expect = {
                "ytd_volume_t": (prev[1].ytd_volume_t if same_year else 0) + fig.volume_t,
                "ytd_amount_fen": (prev[1].ytd_amount_fen if same_year else 0) + fig.amount_fen,
                "cum_volume_t": prev[1].cum_volume_t + fig.volume_t,
                "cum_amount_fen": prev[1].cum_amount_fen + fig.amount_fen,
            }
            for name, implied in expect.items():
                published = getattr(fig, name)
                if published != implied:
                    out.append(_f(day, f"{method}.{name}", published, implied, "counter_mismatch",
                                  detail=f"{data.by_method_name}:{fig.line}"))
            last[(day.subject, method)] = (day.date, fig)
    return out


def check_prev_close(data: OfficialData) -> list[Finding]:
    """Each quote's previous close = the same subject's close on its previous published quote
    (``prev_close_mismatch``; COMCEA on 2025-10-14, after the missing 2025-10-13 quote)."""
    out: list[Finding] = []
    last: dict[str, tuple[dt.date, int]] = {}
    for key in sorted(data.days):
        day = data.days[key]
        if day.quote is None:
            continue
        prev = last.get(day.subject)
        if prev is not None and day.quote.prev_close_fen != prev[1]:
            out.append(_f(day, "prev_close", day.quote.prev_close_fen, prev[1], "prev_close_mismatch",
                          detail=f"close of {prev[0].isoformat()}"))
        last[day.subject] = (day.date, day.quote.close_fen)
    return out


def check_published(data: OfficialData, rules: TradingRules = NATIONAL_RULES) -> list[Finding]:
    """All checks of the published figures against the published rules, sorted by date and subject:
    :func:`check_quote` and :func:`check_block` for tradeable subjects (COMCEA's quote is a composite and
    is compared in ``trading.composite``), :func:`check_quote_vs_methods`, :func:`check_counters` and
    :func:`check_prev_close` for every subject (and ``quote_missing`` for a composite day without a quote).
    Kinds: ``contradiction`` (the published figures contradict the published rule) or ``note``."""
    out: list[Finding] = []
    for key in sorted(data.days):
        day = data.days[key]
        if day.tradeable:
            out += check_quote(day, rules)
            out += check_block(day, rules)
        elif day.quote is None:
            out.append(_f(day, "quote", "", "a quote row", "quote_missing"))
        out += check_quote_vs_methods(day)
    out += check_counters(data)
    out += check_prev_close(data)
    return sorted(out, key=lambda f: (f.date, f.subject, f.field))
