"""Registry report endpoints (to be mounted at ``/api/v1/registry/reports``): reconciliation and
account statements as JSON, XLSX and PDF.

Reconciliation: registry operators and the national authority (R0502 otherwise). Statements:
anyone who may see the account (404 otherwise, existence not revealed). Bad parameters answer
R0702 (422); a PDF statement of more than ``reports.PDF_MAX_LINES`` lines R0703 (422); a PDF that
cannot be rendered because WeasyPrint or its system libraries are missing answers R0701 with 503.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from ninja import Router, Schema

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Role

from . import privacy, reports, selectors

router = Router(tags=["registry reports"])

Basis = Literal["recorded", "effective"]


class ReconRowOut(Schema):
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
    source: str
    balanced: bool
    problems: list[str]


class BalanceOut(Schema):
    unit_type: str
    position: str
    opening_t: int
    debit_t: int
    credit_t: int
    closing_t: int


class LineOut(Schema):
    seq: int
    key: str
    effective_at: dt.datetime
    recorded_at: dt.datetime
    kind: str
    unit_type: str
    position: str
    counterparty: str
    counterparty_position: str
    debit_t: int
    credit_t: int
    balance_t: int
    reference: str
    hash_prefix: str


class StatementOut(Schema):
    account: str
    account_kind: str
    holder_name: str
    holder_uscc: str
    date_from: dt.date
    date_to: dt.date
    by: str
    period_start: dt.datetime
    period_end: dt.datetime
    generated_at: dt.datetime
    balanced: bool
    balances: list[BalanceOut]
    lines: list[LineOut]


def _file(content: bytes, content_type: str, filename: str) -> HttpResponse:
    r = HttpResponse(content, content_type=content_type)
    r["Content-Disposition"] = content_disposition_header(True, filename)
    r["Cache-Control"] = "private, no-store"
    return r


def _reconcile(request, as_of: str | None, by: str):
    require_role(request.user, Role.REGISTRY_OPERATOR, Role.NATIONAL_AUTHORITY)
    when = reports.parse_as_of(as_of)
    return when, reports.reconciliation(when, by=by)


def _stamp(when) -> str:
    if when is None:
        return timezone.localtime(timezone.now(), reports.SHANGHAI).strftime("%Y%m%dT%H%M%S")
    if isinstance(when, dt.datetime):
        return timezone.localtime(when, reports.SHANGHAI).strftime("%Y%m%dT%H%M%S")
    return when.isoformat()


@router.get("/reconciliation", response=list[ReconRowOut])
def reconciliation(request, as_of: str | None = None, by: Basis = "recorded"):
    """Per unit type: created = national total + issued; issued − surrendered − cancelled − deducted −
    carried over = Σ circulating holdings. ``as_of``: ISO datetime (naive = Asia/Shanghai) or date
    (its whole day); omitted = now, against the live holdings table."""
    _, rows = _reconcile(request, as_of, by)
    return [r.as_dict() for r in rows]


@router.get("/reconciliation.xlsx")
def reconciliation_xlsx(request, as_of: str | None = None, by: Basis = "recorded"):
    when, rows = _reconcile(request, as_of, by)
    return _file(reports.reconciliation_xlsx(rows, as_of=when, by=by), reports.XLSX_CONTENT_TYPE, f"reconciliation-{_stamp(when)}.xlsx")


def _statement(request, number: str, date_from: dt.date | None, date_to: dt.date | None, by: str) -> reports.Statement:
    account = selectors.account_visible(user=request.user, number=number)
    today = timezone.localdate(timezone.now(), reports.SHANGHAI)
    date_to = date_to or today
    date_from = date_from or date_to.replace(day=1)
    return reports.account_statement(account, date_from, date_to, by=by, counterparties=privacy.sees_both_legs(request.user))


def _statement_name(s: reports.Statement, ext: str) -> str:
    return f"statement-{s.account}-{s.date_from.isoformat()}-{s.date_to.isoformat()}.{ext}"


@router.get("/accounts/{number}/statement", response=StatementOut)
def statement(request, number: str, date_from: dt.date | None = None, date_to: dt.date | None = None, by: Basis = "recorded"):
    """Opening balance, every entry (one line per leg) and closing balance for Asia/Shanghai days
    ``date_from`` … ``date_to`` (default: this month up to today)."""
    s = _statement(request, number, date_from, date_to, by)
    return StatementOut(
        account=s.account, account_kind=s.account_kind, holder_name=s.holder_name, holder_uscc=s.holder_uscc, date_from=s.date_from,
        date_to=s.date_to, by=s.by, period_start=s.period_start, period_end=s.period_end, generated_at=s.generated_at, balanced=s.balanced,
        balances=[BalanceOut(**b.__dict__) for b in s.balances], lines=[LineOut(**ln.__dict__) for ln in s.lines],
    )


@router.get("/accounts/{number}/statement.xlsx")
def statement_xlsx(request, number: str, date_from: dt.date | None = None, date_to: dt.date | None = None, by: Basis = "recorded"):
    s = _statement(request, number, date_from, date_to, by)
    return _file(reports.statement_xlsx(s), reports.XLSX_CONTENT_TYPE, _statement_name(s, "xlsx"))


@router.get("/accounts/{number}/statement.pdf")
def statement_pdf(request, number: str, date_from: dt.date | None = None, date_to: dt.date | None = None, by: Basis = "recorded"):
    s = _statement(request, number, date_from, date_to, by)
    try:
        pdf = reports.statement_pdf(s)
    except CetsError as e:
        if e.code != reports.R0701.code:
            raise
        return JsonResponse(e.as_dict(), status=503, json_dumps_params={"ensure_ascii": False})
    return _file(pdf, reports.PDF_CONTENT_TYPE, _statement_name(s, "pdf"))
