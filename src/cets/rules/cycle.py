"""The compliance cycle of a (market, year): its steps from the market's ``kind = "cycle"`` pack and the
status of each step computed from observed events. Pure: no Django, no database.

A step (pack ``[[steps]]``, see ``rules/packs/national/cycle-2021-2026.toml``)::

    [[steps]]
    year = 2024
    step = "final_issuance"                 # code, unique in the year
    title_zh = "发电行业2024年度核定配额分配"
    title_en = "Power final allocation issued"
    owner = "provincial_authority"          # parties.Role code
    due = "2025-08-20"                      # or due_ref = "national/power-2023-2024:compliance.2024.deadline"
    sectors = ["power"]                     # or ["all"]
    source = "seed 003 §三(十一)"
    tag = "C-seed"                          # C-seed (confirmed by a seed), computed, S, U
    event = "issuance_final"                # what marks it done (cets.compliance.cycle)

Statuses (:func:`step_status`), on the day ``today`` (Asia/Shanghai business date):

- ``not_applicable``  no entity of the step's sectors is listed in the year;
- ``untracked``       the platform does not record the event (``event = "none"``) or cannot tell yet
                      (e.g. reports filed outside the platform): never a false "missing";
- ``done``            complete, on or before ``due``;
- ``done_late``       complete, after ``due``;
- ``overdue``         not complete and ``today`` > ``due``;
- ``due``             not complete and ``today`` within :data:`DUE_SOON_DAYS` days before ``due`` (inclusive);
- ``upcoming``        not complete, ``due`` further away.

Completion dated after ``today`` does not count yet (status as of ``today``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .packs import Pack, PackError, available_packs, load_pack

# 30 calendar days: the "last month before the deadline" of the seed notices (seed 001 §五(二): weekly net-purchase
# reports in the month before the surrender deadline). A platform choice, not a rule.
DUE_SOON_DAYS = 30

NOT_APPLICABLE, UNTRACKED, UPCOMING, DUE, DONE, DONE_LATE, OVERDUE = (
    "not_applicable", "untracked", "upcoming", "due", "done", "done_late", "overdue")
STATUSES = (NOT_APPLICABLE, UNTRACKED, UPCOMING, DUE, DONE, DONE_LATE, OVERDUE)
# municipal_authority: a city below the province; district_authority: a district (Beijing's district bureaus,
# beijing/cycle-2023-2024)
OWNERS = ("national_authority", "provincial_authority", "municipal_authority", "district_authority", "registry_operator", "entity", "verifier",
          "exchange_operator")
EVENTS = ("list_publication", "accounts", "dq_plans", "facility_months", "annual_reports", "general_reports", "general_reports_check", "verification",
          "verifier_evaluation", "tables_pre",
          "tables_final", "issuance_pre", "issuance_final", "notices", "surrender", "rectification", "borrowing", "none")
ALL = "all"


@dataclass(frozen=True)
class Step:
    """One step of a cycle: ``due`` the deadline (date), ``sectors`` a tuple (``("all",)`` = every sector)."""

    year: int
    step: str
    title_zh: str
    title_en: str
    owner: str
    due: dt.date
    sectors: tuple[str, ...]
    source: str
    tag: str
    event: str

    def applies_to(self, sector: str) -> bool:
        return ALL in self.sectors or sector in self.sectors


@dataclass(frozen=True)
class Observation:
    """What the platform saw of a step's event.

    ``applicable`` False: nothing to do (no entity of the step's sectors, or e.g. nothing to rectify).
    ``tracked`` False: the event is not observable. ``complete``: the event happened for everyone it
    concerns; ``done_on`` the day it was completed (the latest of its parts), None if unknown; ``late``
    overrides the on-time test when the day is unknown (e.g. imported verification flagged late).
    ``done``/``total``: parts done / parts expected (entities, provinces, obligations), for display."""

    applicable: bool = True
    tracked: bool = True
    complete: bool = False
    done_on: dt.date | None = None
    late: bool | None = None
    done: int = 0
    total: int = 0
    note: str = field(default="", compare=False)


def step_status(*, due: dt.date, today: dt.date, observation: Observation, due_soon_days: int = DUE_SOON_DAYS) -> str:
    """The status of a step due ``due`` as of ``today`` from ``observation`` (module docstring)."""
    o = observation
    if not o.applicable:
        return NOT_APPLICABLE
    if not o.tracked:
        return UNTRACKED
    if o.complete and (o.done_on is None or o.done_on <= today):
        if o.done_on is not None:
            return DONE_LATE if o.done_on > due else DONE
        return DONE_LATE if o.late else DONE
    if today > due:
        return OVERDUE
    return DUE if (due - today).days <= due_soon_days else UPCOMING


def cycle_pack(market: str, year: int | None = None) -> Pack:
    """The market's ``kind = "cycle"`` pack: the one its ``market.toml`` names (for ``year`` if given), else
    the only ``<market>/cycle-…`` pack; PackError if none or several."""
    from .markets import load_market

    try:
        m = load_market(market)
        names = sorted({e.pack for e in m.packs if e.kind == "cycle" and (year is None or year in e.years)})
    except PackError:
        names = []
    if len(names) == 1:
        return load_pack(names[0])
    found = [load_pack(pid) for pid in available_packs() if pid.startswith(f"{market}/cycle-")]
    found = [p for p in found if p.kind == "cycle"]
    if len(found) != 1:
        raise PackError(f"expected one {market} cycle pack, found {[p.id for p in found]}")
    return found[0]


def _due(pack: Pack, raw: dict) -> dt.date:
    if "due" in raw:
        return _iso(pack, raw["due"], raw["step"])
    ref = raw.get("due_ref", "")
    pid, _, key = ref.partition(":")
    if not pid or not key:
        raise PackError(f"{pack.id}: step {raw.get('year')}/{raw.get('step')} needs due or due_ref = '<pack>:<key>'")
    return load_pack(pid).date(key)


def _iso(pack: Pack, value, step: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise PackError(f"{pack.id}: step {step} due {value!r} is not an ISO date") from None


def steps_from_pack(pack: Pack) -> list[Step]:
    """Every step of ``pack``, validated (owner, event, year in the pack's years, unique code per year),
    ordered by year, due date and code. Raises PackError on the first bad step."""
    out: list[Step] = []
    seen: set[tuple[int, str]] = set()
    for raw in pack.data.get("steps", []):
        year, code = raw.get("year"), raw.get("step")
        where = f"{pack.id}: step {year}/{code}"
        missing = [k for k in ("year", "step", "title_zh", "title_en", "owner", "sectors", "source", "event") if k not in raw]
        if missing:
            raise PackError(f"{where}: missing {missing}")
        if year not in pack.years:
            raise PackError(f"{where}: year not in the pack's years")
        if raw["owner"] not in OWNERS:
            raise PackError(f"{where}: unknown owner {raw['owner']!r}")
        if raw["event"] not in EVENTS:
            raise PackError(f"{where}: unknown event {raw['event']!r}")
        if (year, code) in seen:
            raise PackError(f"{where}: duplicated")
        seen.add((year, code))
        sectors = raw["sectors"]
        sectors = (sectors,) if isinstance(sectors, str) else tuple(sectors)
        out.append(Step(year=year, step=code, title_zh=raw["title_zh"], title_en=raw["title_en"], owner=raw["owner"], due=_due(pack, raw),
                        sectors=sectors, source=raw["source"], tag=raw.get("tag", "U"), event=raw["event"]))
    out.sort(key=lambda s: (s.year, s.due, s.step))
    return out


def cycle_steps(market: str, year: int) -> list[Step]:
    """The steps of ``market``'s cycle for ``year`` (empty if the pack has none), earliest due first."""
    return [s for s in steps_from_pack(cycle_pack(market)) if s.year == year]
