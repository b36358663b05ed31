"""The rules the industries' year duties read (no writes): a sector's facility accounting rules, the cycle's due dates,
a facility month's due date and the sector of an entity's list entry. Used by the duty services
(:mod:`cets.mrv.facility_services`), the MRV selectors and services and the compliance cycle, so it imports none of them.

Source: 环办气候函〔2025〕140号 (seed 003) §二(四)–(七); the packs ``national/<sector>-accounting-2024-2026`` and the cycle pack.
"""

from __future__ import annotations

import datetime as dt

from cets.core.errors import CetsError
from cets.parties.models import EmitterListEntry, Organisation

from .checks import M0301, M0308


def industry_rules(*, market: str, sector: str, year: int):
    """The sector's facility accounting rules for ``year`` (:class:`cets.mrv.accounting_industry.IndustryRules`) and
    the pack; M0301 when the market names no facility accounting pack for them (e.g. power, or a year outside)."""
    from cets.rules.packs import PackError, pack_for

    from .accounting_industry import IndustryRules

    try:
        pack = pack_for(market, sector, year, kind="accounting")
        return IndustryRules.from_pack(pack), pack
    except (PackError, KeyError, ValueError, CetsError):
        raise CetsError(M0301, f"{market} {sector} {year}") from None


def cycle_due(*, market: str, year: int, sector: str, event: str = "", step: str = "") -> dt.date | None:
    """The due date of the cycle pack's step of ``year`` for ``sector`` with that ``event`` (or step code); None when the
    cycle sets none (e.g. 2024 plans: seed 003 §二(四) "2024年度数据质量控制方案无需补报")."""
    from cets.rules.cycle import cycle_steps
    from cets.rules.packs import PackError

    try:
        steps = cycle_steps(market, year)
    except PackError:
        return None
    dues = [s.due for s in steps if s.applies_to(sector) and ((event and s.event == event) or (step and s.step == step))]
    return min(dues) if dues else None


def month_due(*, market: str, sector: str, year: int, month: int) -> dt.date | None:
    """Due date of a facility's month: month end + ``reporting.monthly_filing_days`` calendar days for months from
    ``reporting.monthly_filing_from`` (seed 003 §二(五): from July 2025, 40 days); an earlier month of the year is due by
    the cycle's back-filling step (2025-01..06 by 2025-10-31), else with the year's annual report (2024: 2025-06-30)."""
    from .deadlines import monthly_filing_due

    _, pack = industry_rules(market=market, sector=sector, year=year)
    rep = pack.raw("reporting")
    start = dt.date.fromisoformat(rep["monthly_filing_from"]) if "monthly_filing_from" in rep else None
    if start is None or dt.date(year, month, 1) >= start:
        return monthly_filing_due(year, month, int(pack.decimal("reporting.monthly_filing_days")))
    return cycle_due(market=market, year=year, sector=sector, step="monthly_backfill") or cycle_due(
        market=market, year=year, sector=sector, event="annual_reports")


def entity_sector(*, market: str, year: int, entity: Organisation, sector: str | None = None) -> str:
    """``sector`` if given, else the one sector of the entity's list entry for (market, year); M0308 if none or several."""
    if sector:
        return sector
    found = sorted(set(EmitterListEntry.objects.filter(market=market, year=year, entity=entity, included=True, category=EmitterListEntry.KEY_EMITTER)
                       .values_list("sector", flat=True)))
    if len(found) != 1:
        raise CetsError(M0308, f"{entity.uscc} {market} {year}: {', '.join(found) or '-'}")
    return found[0]
