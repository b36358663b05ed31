"""Registry reports (reads only): the daily reconciliation and account statements, as data, XLSX and PDF.

**Reconciliation** (:func:`reconciliation`) — per unit type, from the journal up to and including
``as_of`` (by booking time ``recorded_at``, or by business time ``effective_at``):

    created  = national total + issued                       (issued = issue − claw-back)
    issued − surrendered − cancelled − deducted − carried over = Σ circulating holdings
    surrender account = surrendered; cancellation account = cancelled + carried over;
    deduction account = deducted

Flows are summed by transfer kind (a reversal counts against the kind of the entry it reverses);
balances by account kind ("circulating" = every account that is neither the national total nor a
retirement account). With ``source="journal"`` the balances are replayed from the journal up to
``as_of``; with ``source="holdings"`` (the default when ``as_of`` is None, i.e. now) they are read
from the live :class:`~cets.registry.models.Holding` table, so a holding changed behind the
ledger's back makes the row unbalanced. (Which *account* was altered is for ``cets audit verify``.)

**Statement** (:func:`account_statement`) — for one account and a range of Asia/Shanghai calendar
days: the opening balance per (unit type, position), every journal entry touching the account
(one line per leg; a move between two positions of the account gives two lines), and the closing
balance. Opening and closing are aggregated in the database independently of the lines, so
``opening + credits − debits = closing`` is a real check (:attr:`Statement.balanced`).

Renderers: :func:`reconciliation_xlsx`, :func:`statement_xlsx` (openpyxl) and :func:`statement_pdf`
(WeasyPrint, imported lazily; R0701 when it or its system libraries are missing, R0703 for more than
:data:`PDF_MAX_LINES` lines).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum
from django.utils import timezone

from cets.core.errors import CetsError
from cets.core.tables import xlsx_text_only

from . import privacy
from .checks import R0701, R0702, R0703
from .models import Account, AccountKind, Holding, Position, Transfer, TransferKind, UnitType

SHANGHAI = ZoneInfo("Asia/Shanghai")


# WeasyPrint lays out roughly 10–30 ms per table row on this project's machines: a PDF of more lines
# than this would outlast an HTTP request. XLSX has no such limit.
PDF_MAX_LINES = 1000

BASES = ("recorded", "effective")  # booking time / business time
BASIS_LABEL = {"recorded": "按记账时间 by booking time", "effective": "按生效时间 by effective time"}

# Transfer kind → the flow it counts in (and its sign). A reversal counts −1 × its original's flow.
FLOW_OF_KIND: dict[str, tuple[str, int]] = {
    TransferKind.CREATE: ("created", 1),
    TransferKind.ISSUE: ("issued", 1),
    TransferKind.CLAWBACK: ("issued", -1),
    TransferKind.SURRENDER: ("surrendered", 1),
    TransferKind.FORCED_SURRENDER: ("surrendered", 1),
    TransferKind.CANCELLATION: ("cancelled", 1),
    TransferKind.DEDUCTION: ("deducted", 1),
    TransferKind.CARRY_OVER: ("carried_over", 1),
}
FLOWS = ("created", "issued", "surrendered", "cancelled", "deducted", "carried_over")

# Account kind → the balance it counts in.
BALANCE_OF_KIND = {
    AccountKind.NATIONAL_TOTAL: "national_total",
    AccountKind.SURRENDER: "surrender_account",
    AccountKind.CANCELLATION: "cancellation_account",
    AccountKind.DEDUCTION: "deduction_account",
}
BALANCES = ("national_total", "circulating", "surrender_account", "cancellation_account", "deduction_account")

POSITION_LABEL = dict(Position.choices)
KIND_LABEL = dict(TransferKind.choices)
ACCOUNT_KIND_LABEL = dict(AccountKind.choices)


# ---------------------------------------------------------------- time

def _aware(t: dt.datetime) -> dt.datetime:
    return t if timezone.is_aware(t) else t.replace(tzinfo=SHANGHAI)


def day_start(d: dt.date) -> dt.datetime:
    """00:00 Asia/Shanghai of calendar day ``d``."""
    return dt.datetime.combine(d, dt.time(0), SHANGHAI)


def local(t: dt.datetime | None) -> dt.datetime | None:
    return None if t is None else timezone.localtime(t, SHANGHAI)


def _check_basis(by: str) -> str:
    if by not in BASES:
        raise CetsError(R0702, f"by={by!r}: recorded | effective")
    return "recorded_at" if by == "recorded" else "effective_at"


_TZ_SPACE = re.compile(r"^(.*[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


def parse_as_of(text: str | None) -> dt.datetime | dt.date | None:
    """Parse an ``as_of`` query value: empty → None (now); ``YYYY-MM-DD`` → that whole Shanghai day;
    an ISO datetime (naive = Asia/Shanghai; a ``+`` decoded to a space is tolerated). R0702 otherwise."""
    if text is None or not text.strip():
        return None
    s = text.strip()
    try:
        if len(s) == 10:
            return dt.date.fromisoformat(s)
        m = _TZ_SPACE.match(s)
        if m:
            s = f"{m.group(1)}+{m.group(2)}"
        return _aware(dt.datetime.fromisoformat(s))
    except ValueError:
        raise CetsError(R0702, f"as_of={text!r}") from None


def _until(field_name: str, as_of: dt.datetime | dt.date | None) -> Q:
    """Entries up to and including ``as_of`` (a date means its whole Shanghai day)."""
    if as_of is None:
        return Q()
    if isinstance(as_of, dt.datetime):
        return Q(**{f"{field_name}__lte": _aware(as_of)})
    return Q(**{f"{field_name}__lt": day_start(as_of + dt.timedelta(days=1))})


# ---------------------------------------------------------------- reconciliation

@dataclass(frozen=True)
class ReconRow:
    """One unit type's reconciliation. Quantities in tonnes CO2e (int)."""

    unit_type: str
    created_t: int
    issued_t: int
    surrendered_t: int
    cancelled_t: int
    deducted_t: int
    carried_over_t: int
    national_total_t: int
    circulating_t: int
    surrender_account_t: int
    cancellation_account_t: int
    deduction_account_t: int
    source: str  # "journal" (balances replayed) or "holdings" (balances from the Holding table)
    problems: tuple[str, ...] = ()

    @property
    def balanced(self) -> bool:
        return not self.problems

    @property
    def retired_t(self) -> int:
        return self.surrendered_t + self.cancelled_t + self.deducted_t + self.carried_over_t

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["problems"] = list(self.problems)
        d["balanced"] = self.balanced
        return d


def _problems(f: dict[str, int], b: dict[str, int], negative: list[str]) -> tuple[str, ...]:
    out = []
    if f["created"] != b["national_total"] + f["issued"]:
        out.append(f"创设量 {f['created']} ≠ 国家总量账户 {b['national_total']} + 发放量 {f['issued']} / "
                   f"created {f['created']} ≠ national total {b['national_total']} + issued {f['issued']}")
    expect = f["issued"] - f["surrendered"] - f["cancelled"] - f["deducted"] - f["carried_over"]
    if expect != b["circulating"]:
        out.append(f"发放 − 清缴 − 注销 − 核减 − 结转 = {expect} ≠ 流通持仓合计 {b['circulating']} / "
                   f"issued − surrendered − cancelled − deducted − carried over = {expect} ≠ Σ circulating holdings {b['circulating']}")
    for name, zh, en, want in (
        ("surrender_account", "清缴账户", "surrender account", f["surrendered"]),
        ("cancellation_account", "注销账户", "cancellation account", f["cancelled"] + f["carried_over"]),
        ("deduction_account", "核减账户", "deduction account", f["deducted"]),
    ):
        if b[name] != want:
            out.append(f"{zh}余额 {b[name]} ≠ 流量 {want} / {en} balance {b[name]} ≠ flows {want}")
    out.extend(negative)
    return tuple(out)


def _flows(q: Q) -> tuple[dict[int, dict[str, int]], set[int]]:
    """Flows per unit type id, and the unit type ids with a reversal whose original is missing."""
    flows: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FLOWS, 0))
    odd: set[int] = set()
    rows = (Transfer.objects.filter(q).order_by().values_list("unit_type_id", "kind", "related__kind")
            .annotate(q=Sum("quantity")))
    for ut, kind, related_kind, qty in rows:
        if kind == TransferKind.REVERSAL:
            if related_kind is None:
                odd.add(ut)
                continue
            name, sign = FLOW_OF_KIND.get(related_kind, (None, 0))
            sign = -sign
        else:
            name, sign = FLOW_OF_KIND.get(kind, (None, 0))
        if name is not None:
            flows[ut][name] += sign * qty
    return flows, odd


def _journal_balances(q: Q) -> dict[int, dict[str, int]]:
    bal: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BALANCES, 0))
    base = Transfer.objects.filter(q).order_by()
    for ut, akind, qty in base.values_list("unit_type_id", "credit_account__kind").annotate(q=Sum("quantity")):
        bal[ut][BALANCE_OF_KIND.get(akind, "circulating")] += qty
    for ut, akind, qty in base.filter(debit_account__isnull=False).values_list("unit_type_id", "debit_account__kind").annotate(
            q=Sum("quantity")):
        bal[ut][BALANCE_OF_KIND.get(akind, "circulating")] -= qty
    return bal


def _table_balances() -> dict[int, dict[str, int]]:
    bal: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BALANCES, 0))
    for ut, akind, qty in Holding.objects.order_by().values_list("unit_type_id", "account__kind").annotate(q=Sum("quantity")):
        bal[ut][BALANCE_OF_KIND.get(akind, "circulating")] += qty
    return bal


def reconciliation(as_of: dt.datetime | dt.date | None = None, *, by: str = "recorded", source: str = "auto") -> list[ReconRow]:
    """Reconcile every unit type from the journal up to and including ``as_of``.

    ``as_of``: a datetime (naive = Asia/Shanghai), a date (its whole Shanghai day) or None (the
    whole journal, now). ``by``: ``"recorded"`` (booking time, default) or ``"effective"``.
    ``source``: where balances come from — ``"journal"`` (replayed up to ``as_of``), ``"holdings"``
    (the live Holding table; meaningful for ``as_of`` ≥ the last booking) or ``"auto"``
    (holdings when ``as_of`` is None, else journal). Rows are ordered by unit type code.
    """
    field_name = _check_basis(by)
    if source == "auto":
        source = "holdings" if as_of is None else "journal"
    if source not in ("journal", "holdings"):
        raise CetsError(R0702, f"source={source!r}: journal | holdings")
    q = _until(field_name, as_of)
    concurrent = False
    if source == "journal":
        flows, odd = _flows(q)
        balances = _journal_balances(q)
    else:
        # Journal and holdings commit together; if the journal grew while we read, read again.
        for _attempt in range(5):
            n0 = Transfer.objects.count()
            balances = _table_balances()
            flows, odd = _flows(q)
            if Transfer.objects.count() == n0:
                break
        else:
            concurrent = True
    codes = dict(UnitType.objects.filter(pk__in=set(flows) | set(balances) | odd).values_list("pk", "code"))
    rows = []
    for ut in sorted(codes, key=codes.get):
        f = flows.get(ut) or dict.fromkeys(FLOWS, 0)
        b = balances.get(ut) or dict.fromkeys(BALANCES, 0)
        extra = [f"{zh}余额为负 {b[k]} / negative {en} balance {b[k]}" for k, zh, en in (
            ("national_total", "国家总量账户", "national total"), ("circulating", "流通持仓", "circulating"))
            if b[k] < 0]
        if ut in odd:
            extra.append("冲正分录缺少原分录 / a reversal entry without its original")
        if concurrent:
            extra.append("对账期间有新记账，请重试 / the journal changed while reconciling; run again")
        rows.append(ReconRow(
            unit_type=codes[ut], created_t=f["created"], issued_t=f["issued"], surrendered_t=f["surrendered"], cancelled_t=f["cancelled"],
            deducted_t=f["deducted"], carried_over_t=f["carried_over"], national_total_t=b["national_total"],
            circulating_t=b["circulating"], surrender_account_t=b["surrender_account"],
            cancellation_account_t=b["cancellation_account"], deduction_account_t=b["deduction_account"], source=source,
            problems=_problems(f, b, extra),
        ))
    return rows


# ---------------------------------------------------------------- account statement

@dataclass(frozen=True)
class StatementLine:
    """One leg of one journal entry on the statement's account. ``debit_t`` leaves the position,
    ``credit_t`` comes in; ``balance_t`` is the running balance of (unit type, position) after it."""

    seq: int
    key: str
    effective_at: dt.datetime
    recorded_at: dt.datetime
    kind: str
    unit_type: str
    position: str
    counterparty: str  # the other account's number ("" for creation; "exchange" for a trade's delivery unless shown in full)
    counterparty_position: str
    debit_t: int
    credit_t: int
    balance_t: int
    reference: str
    hash_prefix: str

    @property
    def kind_label(self) -> str:
        return KIND_LABEL.get(self.kind, self.kind)

    @property
    def position_label(self) -> str:
        return POSITION_LABEL.get(self.position, self.position)

    @property
    def counterparty_label(self) -> str:
        return privacy.label(self.counterparty)


@dataclass(frozen=True)
class BalanceRow:
    """Per (unit type, position): opening, Σ debits and Σ credits in the period, closing."""

    unit_type: str
    position: str
    opening_t: int
    debit_t: int
    credit_t: int
    closing_t: int

    @property
    def position_label(self) -> str:
        return POSITION_LABEL.get(self.position, self.position)


@dataclass(frozen=True)
class Statement:
    account: str
    account_kind: str
    holder_name: str
    holder_uscc: str  # the credit code, or a natural person's identity number masked (Organisation.identifier)
    market: str
    province: str
    status: str
    date_from: dt.date
    date_to: dt.date
    by: str
    period_start: dt.datetime  # inclusive, Asia/Shanghai
    period_end: dt.datetime  # exclusive, Asia/Shanghai (00:00 of the day after date_to)
    generated_at: dt.datetime
    balances: list[BalanceRow] = field(default_factory=list)
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def account_kind_label(self) -> str:
        return ACCOUNT_KIND_LABEL.get(self.account_kind, self.account_kind)

    @property
    def basis_label(self) -> str:
        return BASIS_LABEL[self.by]

    @property
    def opening(self) -> dict[tuple[str, str], int]:
        return {(b.unit_type, b.position): b.opening_t for b in self.balances}

    @property
    def closing(self) -> dict[tuple[str, str], int]:
        return {(b.unit_type, b.position): b.closing_t for b in self.balances}

    @property
    def balanced(self) -> bool:
        """opening + Σ credits − Σ debits = closing for every (unit type, position), from the lines."""
        moved: dict[tuple[str, str], int] = defaultdict(int)
        for ln in self.lines:
            moved[(ln.unit_type, ln.position)] += ln.credit_t - ln.debit_t
        keys = set(moved) | set(self.opening)
        return all(self.opening.get(k, 0) + moved.get(k, 0) == self.closing.get(k, 0) for k in keys)


def _account_balances(account: Account, q: Q) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    base = Transfer.objects.filter(q).order_by()
    for code, pos, qty in base.filter(credit_account=account).values_list("unit_type__code", "credit_position").annotate(q=Sum("quantity")):
        out[(code, pos)] += qty
    for code, pos, qty in base.filter(debit_account=account).values_list("unit_type__code", "debit_position").annotate(q=Sum("quantity")):
        out[(code, pos)] -= qty
    return out


POSITION_ORDER = {p: i for i, p in enumerate(Position.values)}


def account_statement(account: Account, date_from: dt.date, date_to: dt.date, *, by: str = "recorded",
                      counterparties: bool = False) -> Statement:
    """The statement of ``account`` for Asia/Shanghai calendar days ``date_from`` … ``date_to``
    (both inclusive), entries chosen and ordered by booking time (``by="recorded"``, default) or
    by effective time (``by="effective"``). R0702 if the range is reversed or the basis unknown.

    ``counterparties``: name the other account of an exchange settlement (a trade's delivery). False
    (the default, the holder's view): the line names ``"exchange"`` instead (:mod:`cets.registry.privacy`;
    callers pass :func:`~cets.registry.privacy.sees_both_legs` of the reader)."""
    field_name = _check_basis(by)
    if isinstance(date_from, dt.datetime) or isinstance(date_to, dt.datetime):
        raise CetsError(R0702, "date_from / date_to are calendar days")
    if date_from > date_to:
        raise CetsError(R0702, f"date_from {date_from} > date_to {date_to}")
    start, end = day_start(date_from), day_start(date_to + dt.timedelta(days=1))
    opening = _account_balances(account, Q(**{f"{field_name}__lt": start}))
    closing = _account_balances(account, Q(**{f"{field_name}__lt": end}))
    running = dict(opening)
    debits: dict[tuple[str, str], int] = defaultdict(int)
    credits: dict[tuple[str, str], int] = defaultdict(int)
    lines: list[StatementLine] = []
    entries = (Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account), **{f"{field_name}__gte": start,
                                                                                                    f"{field_name}__lt": end})
               .select_related("unit_type", "debit_account", "credit_account").order_by(field_name, "seq"))
    for t in entries.iterator(chunk_size=2000):
        code = t.unit_type.code
        legs = []
        shown_debit, shown_credit = privacy.shown_accounts(t, account=account, full=counterparties)
        if t.debit_account_id == account.pk:
            legs.append((t.debit_position, shown_credit, t.credit_position, t.quantity, 0))
        if t.credit_account_id == account.pk:
            legs.append((t.credit_position, shown_debit or "", t.debit_position, 0, t.quantity))
        for pos, other, other_pos, dr, cr in legs:
            k = (code, pos)
            running[k] = running.get(k, 0) + cr - dr
            debits[k] += dr
            credits[k] += cr
            lines.append(StatementLine(
                seq=t.seq, key=t.key, effective_at=local(t.effective_at), recorded_at=local(t.recorded_at), kind=t.kind, unit_type=code,
                position=pos, counterparty=other, counterparty_position=other_pos, debit_t=dr, credit_t=cr, balance_t=running[k],
                reference=t.reference, hash_prefix=t.hash[:12],
            ))
    keys = {k for k in set(opening) | set(closing) | set(debits) if opening.get(k) or closing.get(k) or debits.get(k) or credits.get(k)}
    balances = [BalanceRow(unit_type=k[0], position=k[1], opening_t=opening.get(k, 0), debit_t=debits.get(k, 0), credit_t=credits.get(k, 0),
                           closing_t=closing.get(k, 0))
                for k in sorted(keys, key=lambda k: (k[0], POSITION_ORDER.get(k[1], 99), k[1]))]
    holder = account.holder if account.holder_id else None
    return Statement(
        account=account.number, account_kind=account.kind, holder_name=holder.name if holder else "", holder_uscc=holder.identifier if holder else "",
        market=account.market, province=account.province, status=account.status, date_from=date_from, date_to=date_to, by=by,
        period_start=start, period_end=end, generated_at=local(timezone.now()), balances=balances, lines=lines,
    )


# ---------------------------------------------------------------- XLSX

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_CONTENT_TYPE = "application/pdf"
_T_FMT = "#,##0"
_DT_FMT = "yyyy-mm-dd hh:mm:ss"

RECON_COLUMNS = [
    ("unit_type", "品种 / Unit type"),
    ("created_t", "创设量 / Created (t)"),
    ("issued_t", "发放量（扣除收回） / Issued net of claw-back (t)"),
    ("surrendered_t", "清缴量（含强制履约） / Surrendered incl. forced (t)"),
    ("cancelled_t", "注销量 / Cancelled (t)"),
    ("deducted_t", "核减量 / Deducted (t)"),
    ("carried_over_t", "结转量 / Carried over (t)"),
    ("national_total_t", "国家总量账户余额 / National total balance (t)"),
    ("circulating_t", "流通持仓合计 / Σ circulating holdings (t)"),
    ("surrender_account_t", "清缴账户余额 / Surrender account (t)"),
    ("cancellation_account_t", "注销账户余额 / Cancellation account (t)"),
    ("deduction_account_t", "核减账户余额 / Deduction account (t)"),
    ("balanced", "是否平衡 / Balanced"),
    ("problems", "差异说明 / Differences"),
]

STATEMENT_COLUMNS = [
    "序号 / Seq", "生效时间 / Effective (UTC+8)", "记账时间 / Booked (UTC+8)", "业务类型 / Kind", "品种 / Unit type", "持仓类别 / Position",
    "对方账户 / Counterparty", "对方持仓 / Counterparty position", "转出 / Debit (t)", "转入 / Credit (t)", "余额 / Balance (t)",
    "摘要 / Reference", "哈希前缀 / Hash prefix",
]
BALANCE_COLUMNS = ["品种 / Unit type", "持仓类别 / Position", "期初余额 / Opening (t)", "本期转出 / Debits (t)", "本期转入 / Credits (t)",
                   "期末余额 / Closing (t)"]


HEADER_ROW = 3  # row 1 title, row 2 subtitle, row 3 the frozen header


def _sheet(ws, title: str, subtitle: str, headers: list[str], widths: list[int]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws.append([_cell_text(title)])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([_cell_text(subtitle)])
    ws.append(headers)
    for c in ws[HEADER_ROW]:
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="DDEBF7")
        c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w


def _cell_text(v):
    """Free text (references, names) as a cell value: never a formula, no characters XLSX forbids."""
    if not isinstance(v, str):
        return v
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", v)


def _append(ws, row: int, values: list, formats: dict[int, str]) -> None:
    """Append row number ``row``: free text stays text (one that begins with "=" is not a formula),
    and the given number formats by 1-based column."""
    values = [_cell_text(v) for v in values]
    ws.append(values)
    for col, v in enumerate(values, 1):
        if isinstance(v, str) and v.startswith("="):
            ws.cell(row=row, column=col).data_type = "s"
    for col, fmt in formats.items():
        ws.cell(row=row, column=col).number_format = fmt


def _naive(t: dt.datetime) -> dt.datetime:
    return timezone.localtime(t, SHANGHAI).replace(tzinfo=None)


def _save(wb) -> bytes:
    buf = io.BytesIO()
    xlsx_text_only(wb)  # user text never becomes a formula
    wb.save(buf)
    return buf.getvalue()


def _as_of_text(as_of: dt.datetime | dt.date | None) -> str:
    if as_of is None:
        return f"{_naive(timezone.now()):%Y-%m-%d %H:%M:%S}（当前 now）"
    if isinstance(as_of, dt.datetime):
        return f"{_naive(_aware(as_of)):%Y-%m-%d %H:%M:%S}"
    return f"{as_of.isoformat()} 日终 end of day"


def reconciliation_xlsx(rows: list[ReconRow], *, as_of: dt.datetime | dt.date | None = None, by: str = "recorded") -> bytes:
    """The reconciliation as an XLSX workbook: a title row (as of, basis, source), a subtitle with
    the identities, a frozen bilingual header row, one row per unit type, integer tonnes."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "对账 Reconciliation"
    source = rows[0].source if rows else ("holdings" if as_of is None else "journal")
    src = "持仓表 Holding table" if source == "holdings" else "分录回放 journal replay"
    _sheet(ws, f"注册登记系统日对账表 Registry daily reconciliation — 截至 as of {_as_of_text(as_of)} 北京时间 (UTC+8) · "
               f"{BASIS_LABEL[by]} · 余额来源 balances from {src}",
           "创设 = 国家总量 + 发放；发放 − 清缴 − 注销 − 核减 − 结转 = 流通持仓 / created = national total + issued; "
           "issued − surrendered − cancelled − deducted − carried over = Σ circulating holdings",
           [h for _, h in RECON_COLUMNS], [22] + [18] * 11 + [12, 60])
    for i, r in enumerate(rows, HEADER_ROW + 1):
        values = []
        for name, _ in RECON_COLUMNS:
            if name == "balanced":
                values.append("是 yes" if r.balanced else "否 NO")
            elif name == "problems":
                values.append("；".join(r.problems))
            else:
                values.append(getattr(r, name))
        _append(ws, i, values, {k: _T_FMT for k in range(2, 13)})
    return _save(wb)


def statement_xlsx(statement: Statement) -> bytes:
    """The statement as an XLSX workbook: sheet "流水 Entries" (one row per leg, running balance)
    and sheet "余额 Balances" (opening, debits, credits, closing per unit type and position); each
    with a title row naming the account and the date range and a frozen bilingual header row."""
    from openpyxl import Workbook

    s = statement
    holder = f"{s.holder_name} {s.holder_uscc}".strip()
    title = (f"账户对账单 Account statement — {s.account}" + (f" · {holder}" if holder else "")
             + f" · {s.date_from.isoformat()} 至 to {s.date_to.isoformat()}")
    subtitle = (f"{s.account_kind_label} · {s.basis_label} · 北京时间 Asia/Shanghai · "
                f"生成于 generated {_naive(s.generated_at):%Y-%m-%d %H:%M:%S}")
    wb = Workbook()
    ws = wb.active
    ws.title = "流水 Entries"
    _sheet(ws, title, subtitle, STATEMENT_COLUMNS, [9, 20, 20, 24, 18, 20, 30, 20, 14, 14, 14, 40, 15])
    for i, ln in enumerate(s.lines, HEADER_ROW + 1):
        _append(ws, i, [ln.seq, _naive(ln.effective_at), _naive(ln.recorded_at), ln.kind_label, ln.unit_type, ln.position_label,
                        ln.counterparty_label, POSITION_LABEL.get(ln.counterparty_position, ln.counterparty_position), ln.debit_t or None,
                        ln.credit_t or None, ln.balance_t, ln.reference, ln.hash_prefix],
                {2: _DT_FMT, 3: _DT_FMT, 9: _T_FMT, 10: _T_FMT, 11: _T_FMT})
    wb2 = wb.create_sheet("余额 Balances")
    _sheet(wb2, title, subtitle, BALANCE_COLUMNS, [22, 22, 16, 16, 16, 16])
    for i, b in enumerate(s.balances, HEADER_ROW + 1):
        _append(wb2, i, [b.unit_type, b.position_label, b.opening_t, b.debit_t, b.credit_t, b.closing_t],
                {3: _T_FMT, 4: _T_FMT, 5: _T_FMT, 6: _T_FMT})
    return _save(wb)


# ---------------------------------------------------------------- PDF

class _Tonnes:
    """A template's view of a report row: every ``*_t`` attribute as ``12,345`` whatever the locale
    (zh-Hans does not group digits); ``raw`` is the row itself."""

    def __init__(self, raw) -> None:
        self.raw = raw

    def __getattr__(self, name: str):
        v = getattr(self.raw, name)
        return f"{v:,}" if name.endswith("_t") and isinstance(v, int) else v


def statement_html(statement: Statement) -> str:
    """The statement as HTML (template ``registry/statement.html``), the source of the PDF."""
    from django.template.loader import render_to_string

    return render_to_string("registry/statement.html", {
        "s": statement, "generated": _naive(statement.generated_at), "balances": [_Tonnes(b) for b in statement.balances],
        "lines": [_Tonnes(ln) for ln in statement.lines],
    })


def statement_pdf(statement: Statement, *, max_lines: int = PDF_MAX_LINES) -> bytes:
    """The statement as PDF (WeasyPrint). R0703 beyond ``max_lines`` lines; R0701 if WeasyPrint or
    its system libraries are missing."""
    if len(statement.lines) > max_lines:
        raise CetsError(R0703, f"{len(statement.lines)} > {max_lines}")
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as e:  # OSError: cffi could not load Pango / HarfBuzz / fontconfig
        raise CetsError(R0701, f"{type(e).__name__}: {e}") from None
    return HTML(string=statement_html(statement), url_fetcher=_no_fetch).write_pdf()


def _no_fetch(url: str, *args, **kwargs):
    """The statement is self-contained: WeasyPrint fetches nothing (no file, no network)."""
    raise ValueError(f"statement PDF fetches no resources: {url[:80]}")


def pdf_available() -> bool:
    """Whether :func:`statement_pdf` can render (WeasyPrint and its system libraries load)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True
