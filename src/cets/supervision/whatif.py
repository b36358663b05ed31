"""What-if runs for the authorities: the year's average price, the run in the reader's jurisdiction, the XLSX
export and the chart. The computation is :mod:`cets.allocation.whatif` (the allocation mechanisms' dry run);
nothing here writes.

The year's average price (fen per tonne, int) is the market's P̄ rule (``[penalty]`` ``price_instruments``,
``price_methods``, ``price_average``, ``price_rounding`` of the market's compliance pack for the year; for the
national market 2024 ``national/power-2023-2024.toml``, Regulations 2024 Art. 24) applied to the whole calendar
year of the exchange's published daily figures by trade method (``data/cea-national-official/
cea_daily_by_trade_method.csv``, the Shanghai Environment and Energy Exchange's 全国碳排放权交易信息发布, read by
:func:`cets.compliance.tables.read_daily_by_method`; the same file ``cets compliance fine`` takes).
Checks: A0202 (base), A0205 (no price), R0502 (role), and those of :func:`cets.allocation.whatif.whatif_compute`.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

from cets.allocation.checks import A0201, A0202, A0205
from cets.allocation.whatif import WhatIfRun, load_draft, whatif_compute
from cets.compliance.penalty import average_price
from cets.compliance.tables import read_daily_by_method
from cets.core.chart import GroupedBars, grouped_bars
from cets.core.errors import CetsError
from cets.core.quantities import is_digits
from cets.core.regions import province_name
from cets.core.tables import xlsx_text_only
from cets.parties.access import require_role
from cets.parties.models import Role
from cets.rules.markets import load_market, sector_name
from cets.rules.packs import PackError, load_pack

PRICE_FILE = ("cea-national-official", "cea_daily_by_trade_method.csv")


def prices_path() -> Path:
    """The exchange's daily figures by trade method: ``$CETS_DATA_DIR`` or the repository's ``data/`` folder."""
    root = Path(os.environ["CETS_DATA_DIR"]) if os.environ.get("CETS_DATA_DIR") else Path(__file__).resolve().parents[3] / "data"
    return root.joinpath(*PRICE_FILE)


def parse_base(base: str) -> tuple[str, int]:
    """``"national/2024"`` → ("national", 2024); A0202 otherwise (also for a market that does not exist)."""
    market, _, year = (base or "").partition("/")
    if not (is_digits(year) and len(year) == 4):
        raise CetsError(A0202, base)
    try:
        load_market(market)
    except PackError:
        raise CetsError(A0202, base) from None
    return market, int(year)


def year_price(*, market: str, year: int, path: Path | None = None) -> tuple[int, str]:
    """(price fen per tonne, source text): the volume-weighted average of ``year`` (1 Jan … 31 Dec) under the P̄ rules
    of the market's compliance pack for the year (the first sector whose pack has them); A0205 without rules,
    file or counted trades."""
    m = load_market(market)
    rules = None
    for sector in m.sector_codes:
        pid = m.find_pack_id("compliance", sector, year)
        if pid is None:
            continue
        try:
            pack = load_pack(pid)
        except PackError:
            continue
        if _has(pack, "penalty.price_instruments"):
            rules = pack
            break
    if rules is None:
        raise CetsError(A0205, f"{market} {year}: no price rule")
    path = path or prices_path()
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    try:
        rows, problems = read_daily_by_method(path, start, end)
    except OSError as e:
        raise CetsError(A0205, f"{path}: {e}") from None
    if problems:
        raise CetsError(A0205, f"{path}: {problems[0]}")
    try:
        p = average_price(rows, start=start, end=end, instruments=rules.raw("penalty.price_instruments"), methods=rules.raw("penalty.price_methods"),
                          average=rules.text("penalty.price_average"), rounding=rules.text("penalty.price_rounding"))
    except (PackError, ValueError) as e:
        raise CetsError(A0205, f"{rules.id}: {e}") from None
    if p is None:
        raise CetsError(A0205, f"{market} {year}")
    source = (f"{path.name} {start}…{end}: {p.days} trading days, {p.volume_t:,} t, {p.amount_fen:,} fen; "
              f"{rules.text('penalty.price_average')} over {', '.join(rules.raw('penalty.price_instruments'))} "
              f"({', '.join(rules.raw('penalty.price_methods'))}), {rules.text('penalty.price_rounding')} ({rules.id} [penalty])")
    return p.price_fen, source


def _has(pack, dotted: str) -> bool:
    try:
        pack.raw(dotted)
    except (KeyError, PackError):
        return False
    return True


def run(*, packs: list[str], base: str, rules_year: int | None = None, prices: Path | None = None, price_fen: int | None = None) -> WhatIfRun:
    """The national what-if run (no role: the command line). ``packs`` draft pack ids, ``base`` ``market/year``;
    ``price_fen`` overrides the year's average price."""
    market, year = parse_base(base)
    if not packs:
        raise CetsError(A0201, "no draft pack")
    drafts = [load_draft(p) for p in packs]
    if price_fen is None:
        price_fen, source = year_price(market=market, year=year, path=prices)
    else:
        source = "given"
    return whatif_compute(drafts=drafts, market=market, year=year, price_fen=price_fen, price_source=source, rules_year=rules_year)


def run_for(*, actor, packs: list[str], base: str, rules_year: int | None = None) -> WhatIfRun:
    """The run as ``actor`` sees it: the national authority every entity, a provincial authority its province's
    (R0502 for any other role)."""
    m = require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY)
    r = run(packs=packs, base=base, rules_year=rules_year)
    return r.scoped(m.province) if m.role == Role.PROVINCIAL_AUTHORITY else r


def chart(result: WhatIfRun, by: str, label=None) -> GroupedBars:
    """Verified emissions, base and draft allocation per sector or province (tonnes); ``label`` names a group key
    (default: the Chinese province or sector name)."""
    if label is None:
        label = (lambda k: province_name(k) or k) if by == "province" else (lambda k: sector_name(result.market, k, "zh"))
    return grouped_bars(["verified emissions 经核查排放量", "base 基准方案", "draft 草案"],
                        [(label(t.key), [t.verified_t, t.base_t, t.draft_t]) for t in result.totals(by)])


TOTAL_COLS = (("key", "分组"), ("entities", "重点排放单位数"), ("verified_t", "经核查排放量（tCO2e）"), ("base_t", "基准方案配额量（tCO2e）"),
              ("draft_t", "草案配额量（tCO2e）"), ("change_t", "配额变化量（tCO2e）"), ("base_balance_t", "基准方案盈缺（tCO2e）"),
              ("draft_balance_t", "草案盈缺（tCO2e）"), ("base_cost_fen", "基准方案缺口成本（分）"), ("draft_cost_fen", "草案缺口成本（分）"),
              ("change_cost_fen", "成本变化（分）"))
ENTITY_COLS = (("uscc", "统一社会信用代码"), ("name", "重点排放单位名称"), ("province", "省份"), ("sector", "行业")) + TOTAL_COLS[2:]


def xlsx(result: WhatIfRun) -> bytes:
    """The run as a workbook: 方案 (packs, price), 行业汇总, 省份汇总, 重点排放单位. Row 1 title, row 2 Chinese
    field names, row 3 the English keys, data from row 4; tonnes CO2e and fen as integers; text is never a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "方案"
    ws.append([f"{result.year}年度 配额方案模拟 · what-if run on {result.market}/{result.year}"])
    ws.cell(row=1, column=1).font = Font(bold=True)
    ws.append(["行业 sector", "基准方案 base pack", "草案 draft pack", "草案规则年度 rules year"])
    for s in result.sectors:
        ws.append([s.sector, s.base_pack_id, s.draft_pack_id, s.rules_year])
    ws.append(["年度均价（分/吨） average price (fen/t)", result.price_fen])
    ws.append(["价格来源 price source", result.price_source])
    for title, cols, rows in (("行业汇总", TOTAL_COLS, result.totals("sector") + [result.grand_total()]),
                              ("省份汇总", TOTAL_COLS, result.totals("province") + [result.grand_total()]),
                              ("重点排放单位", ENTITY_COLS, result.rows)):
        ws = wb.create_sheet(title)
        ws.append([f"{result.year}年度 {title} · what-if {result.market}/{result.year}"])
        ws.cell(row=1, column=1).font = Font(bold=True)
        ws.append([c[1] for c in cols])
        ws.append([c[0] for c in cols])
        for r in rows:
            ws.append([(getattr(r, k) or "合计 total") if k == "key" else getattr(r, k) for k, _ in cols])
    buf = io.BytesIO()
    xlsx_text_only(wb)  # entity names never become formulas
    wb.save(buf)
    return buf.getvalue()
