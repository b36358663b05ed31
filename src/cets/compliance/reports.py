"""The per-province summary table of compliance and penalties (碳排放配额清缴完成和处罚情况汇总表, notice
国环规气候〔2024〕1号 §三(四), 附件5): reads only. Each province publishes its table for year Y by the pack's
``compliance.<Y>.summary_due`` (2023 → 2025-04-30, 2024 → 2026-04-30).

The 附件5 template itself was not available: the columns are those the notice names (清缴完成 = the
outcome and quantities; 处罚 = rectification order, fine, deduction). Quantities in tonnes CO2e (int),
money in fen (int) in the data and in yuan (2 decimals) in the XLSX.

:func:`summary` builds the rows and totals; :func:`summary_xlsx` renders them (openpyxl).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass, field

from django.utils import timezone

from cets.allocation.models import AllocationAdjustment
from cets.core.regions import PROVINCES
from cets.core.tables import xlsx_text_only
from cets.registry.models import Instrument
from cets.rules.markets import PRIMARY_MARKET
from cets.rules.packs import PackError, load_pack

from .models import Obligation, SurrenderApplication
from .status import INCOMPLETE, LABELS, LATE, ON_TIME, OPEN, compliance_status


@dataclass(frozen=True)
class SummaryRow:
    uscc: str
    name: str
    obligation_t: int
    surrendered_by_deadline_t: int
    surrendered_t: int
    ccer_t: int
    status: str
    unsurrendered_at_deadline_t: int
    order_reference: str = ""
    order_deadline: dt.date | None = None
    fine_fen: int | None = None
    penalty_reference: str = ""
    deduction_t: int = 0


@dataclass
class Summary:
    province: str
    year: int
    as_of: dt.date
    due: dt.date | None
    rows: list[SummaryRow] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Entities by outcome (on_time / late / incomplete / open)."""
        c = Counter(r.status for r in self.rows)
        return {k: c.get(k, 0) for k in (ON_TIME, LATE, INCOMPLETE, OPEN)}

    @property
    def totals(self) -> dict[str, int]:
        """Σ of every quantity column (t) and of the fines (fen); ``fined`` = entities fined."""
        keys = ("obligation_t", "surrendered_by_deadline_t", "surrendered_t", "ccer_t", "unsurrendered_at_deadline_t", "deduction_t")
        out = {k: sum(getattr(r, k) for r in self.rows) for k in keys}
        out["fine_fen"] = sum(r.fine_fen or 0 for r in self.rows)
        out["fined"] = sum(1 for r in self.rows if r.fine_fen is not None)
        return out


def summary(*, province: str, year: int, as_of: dt.date | None = None) -> Summary:
    """The table of ``province``'s obligations of ``year`` as at the end of ``as_of`` (default today,
    Asia/Shanghai). Callers check the reader's scope (province or national)."""
    as_of = as_of or timezone.localdate()
    obs = list(Obligation.objects.filter(year=year, entity__province=province, market=PRIMARY_MARKET)
               .select_related("entity").order_by("entity__uscc"))  # the national market's table (seed notice 000, 附件5)
    due = None
    if obs:
        try:
            due = load_pack(obs[0].pack_id).date(f"compliance.{year}.summary_due")
        except PackError:
            due = None
    approved: dict[int, list] = {o.pk: [] for o in obs}
    ccer: Counter = Counter()
    from .selectors import reversals_of

    rows = list(SurrenderApplication.objects.filter(obligation__in=obs, status=SurrenderApplication.Status.APPROVED).values_list(
        "obligation_id", "decided_at", "quantity", "unit_type__instrument", "final_transfer_key"))
    gone = reversals_of([r[4] for r in rows])
    for ob_id, at, q, inst, key in rows:
        day = timezone.localdate(at)
        if day <= as_of and not (key in gone and gone[key] <= as_of):
            approved[ob_id].append((day, q))
            if inst == Instrument.CCER:
                ccer[ob_id] += q
    from .models import PenaltyDecision, RectificationOrder

    orders = {r.obligation_id: r for r in RectificationOrder.objects.filter(obligation__in=obs)}
    fines = {p.obligation_id: p for p in PenaltyDecision.objects.filter(obligation__in=obs)}
    deductions: Counter = Counter()
    by_source = {f"compliance.rectification:{r.pk}": r.obligation_id for r in orders.values()}
    for src, q in AllocationAdjustment.objects.filter(source__in=list(by_source), voided_at__isnull=True,
                                                      kind=AllocationAdjustment.Kind.ARREARS_DEDUCTION).values_list("source", "quantity_t"):
        deductions[by_source[src]] += q
    from .selectors import extended_deadlines

    ext = extended_deadlines([o.pk for o in obs])
    s = Summary(province=province, year=year, as_of=as_of, due=due)
    for o in obs:
        deadline = max(o.deadline, ext.get(o.pk, o.deadline))
        st = compliance_status(o.obligation_t, deadline, approved[o.pk], as_of)
        order, fine = orders.get(o.pk), fines.get(o.pk)
        s.rows.append(SummaryRow(
            uscc=o.entity.uscc, name=o.entity.name, obligation_t=o.obligation_t, surrendered_by_deadline_t=st.surrendered_by_deadline_t,
            surrendered_t=st.surrendered_t, ccer_t=ccer[o.pk], status=st.status,
            unsurrendered_at_deadline_t=max(0, o.obligation_t - st.surrendered_by_deadline_t) if as_of > deadline else 0,
            order_reference=order.reference if order else "", order_deadline=order.deadline if order else None,
            fine_fen=fine.fine_fen if fine else None, penalty_reference=fine.reference if fine else "", deduction_t=deductions[o.pk]))
    return s


COLUMNS = ["序号 No.", "重点排放单位名称 Entity", "统一社会信用代码 USCC", "应清缴配额量 Obligation (t)", "截止日前清缴量 By deadline (t)",
           "累计清缴量 Surrendered (t)", "其中CCER抵销 of which CCER (t)", "履约情况 Outcome", "截止日未清缴量 Unsurrendered at deadline (t)",
           "责令改正文号 Rectification order", "改正期限 Rectify by", "罚款金额（元） Fine (CNY)", "处罚决定文号 Penalty decision",
           "核减量 Deducted next year (t)"]


def _yuan(fen: int | None):
    from decimal import Decimal

    return None if fen is None else Decimal(fen) / 100


def summary_xlsx(s: Summary) -> bytes:
    """The summary as XLSX: title, as-of and due date, one row per entity, a totals row and the counts by
    outcome. Free text is written as text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = f"{s.year} {s.province}"
    zh, en = PROVINCES.get(s.province, (s.province, s.province))
    ws.append([f"{zh} {s.year}年度全国碳排放权交易市场重点排放单位碳排放配额清缴完成和处罚情况汇总表"])
    ws.append([f"{en}: {s.year} surrender and penalty summary (notice 国环规气候〔2024〕1号 附件5) · as of {s.as_of:%Y-%m-%d}"
               + (f" · due {s.due:%Y-%m-%d}" if s.due else "")])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(COLUMNS)
    for c in ws[3]:
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="DDEBF7")
    ws.freeze_panes = "A4"
    for i, r in enumerate(s.rows, 1):
        ws.append([i, r.name, r.uscc, r.obligation_t, r.surrendered_by_deadline_t, r.surrendered_t, r.ccer_t, LABELS[r.status][0],
                   r.unsurrendered_at_deadline_t, r.order_reference, r.order_deadline, _yuan(r.fine_fen), r.penalty_reference, r.deduction_t])
        row = ws.max_row
        for col in (2, 3, 10, 13):
            c = ws.cell(row=row, column=col)
            if isinstance(c.value, str):
                c.data_type = "s"  # a name beginning with "=" stays text
        ws.cell(row=row, column=11).number_format = "yyyy-mm-dd"
        ws.cell(row=row, column=12).number_format = "#,##0.00"
        for col in (4, 5, 6, 7, 9, 14):
            ws.cell(row=row, column=col).number_format = "#,##0"
    t = s.totals
    ws.append(["合计 Total", len(s.rows), "", t["obligation_t"], t["surrendered_by_deadline_t"], t["surrendered_t"], t["ccer_t"], "",
               t["unsurrendered_at_deadline_t"], "", "", _yuan(t["fine_fen"]), t["fined"], t["deduction_t"]])
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    ws.append([])
    for k, n in s.counts.items():
        ws.append([f"{LABELS[k][0]} {LABELS[k][1]}", n])
    for col, w in zip("ABCDEFGHIJKLMN", (8, 30, 22, 14, 14, 14, 12, 14, 14, 20, 12, 16, 20, 14)):
        ws.column_dimensions[col].width = w
    buf = io.BytesIO()
    xlsx_text_only(wb)  # user text never becomes a formula
    wb.save(buf)
    return buf.getvalue()
