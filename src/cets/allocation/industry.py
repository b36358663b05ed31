"""Steel, cement and aluminium allocation (钢铁、水泥、铝冶炼). Pure: no Django, no I/O.

Source: the 2025–2026 consultation draft 《…2026年度钢铁、水泥、铝冶炼行业配额总量和分配方案（征求意见稿）》
§四(二) and its data tables (cn-ets-rules.md §2.2 [C-copy]); 2024 and 2025 from the 2024–2025 plan as reported
(ICAP [S]; "分配方法较2025年度保持不变").

- ``verified_emissions`` method (2024): allocation A = verified emissions E; no pre-allocation.
- ``intensity_alpha`` method (2025, 2026): per allocation unit (steel enterprise, cement clinker line, aluminium
  electrolysis process) ``A = floor(E × (1 + α))``, ``α = slope × X`` for ``−band < X < band``, ``+cap`` for
  ``X ≥ band``, ``−cap`` for ``X ≤ −band`` (0.15, 20%, 3%, draft 表3), with the deviation ``X = (BP − I) / BP``
  from the unit's intensity I (tCO2e per t product) and the sector's balance value BP (平衡值).
- BP is the value at which Σ allocation = Σ verified emissions over the sector (draft §四(二)2). The draft gives
  the equation on unrounded allocations; because each A is rounded down, :func:`solve_balance_value` solves on
  the rounded allocations (what is actually issued), so |Σ A − Σ E| is at most the size of one step of the step
  function (in practice 0 or a few tonnes).
- Special cases (draft §四(三)) and entities below the coverage threshold (26,000 t) get A = E.
- Obligation 应清缴 = E. Quantities: tonnes CO2e (int); intensities and BP ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from cets.core.quantities import apply_rounding, exact
from cets.rules.packs import Pack, PackError

METHODS = ("verified_emissions", "intensity_alpha")


@dataclass(frozen=True)
class IndustryRules:
    """The numbers of one steel/cement/aluminium pack for one year."""

    pack_id: str
    sector: str
    year: int
    method: str
    slope: Decimal
    band: Decimal
    cap: Decimal
    pre_allocation: bool
    pre_allocation_ratio: Decimal
    small_entity_threshold_t: int
    special_cases: tuple[str, ...]
    rounding: dict[str, str]

    @classmethod
    def from_pack(cls, pack: Pack, year: int) -> IndustryRules:
        """Raises :class:`PackError` if the pack does not cover ``year``, names no ``[method.<year>]`` or
        lacks a value."""
        if not pack.covers(year):
            raise PackError(f"{pack.id} does not cover {year}")
        method = pack.text(f"method.{year}.kind")
        if method not in METHODS:
            raise PackError(f"{pack.id}: unknown allocation method {method!r}")
        alpha = method == "intensity_alpha"
        pre = pack.flag(f"method.{year}.pre_allocation")
        return cls(
            pack_id=pack.id, sector=pack.sector, year=year, method=method,
            slope=pack.decimal("alpha.slope") if alpha else Decimal(0),
            band=pack.decimal("alpha.band") if alpha else Decimal(0),
            cap=pack.decimal("alpha.cap") if alpha else Decimal(0),
            pre_allocation=pre,
            pre_allocation_ratio=pack.decimal("allocation.pre_allocation_ratio") if pre else Decimal(0),
            small_entity_threshold_t=int(pack.decimal("allocation.small_entity_threshold_t")),
            special_cases=tuple(pack.raw("allocation.special_cases")),
            rounding={k: str(v) for k, v in pack.raw("rounding").items()},
        )


@dataclass(frozen=True)
class LineInput:
    """One allocation unit (steel enterprise, clinker line, electrolysis process) for one year.

    ``intensity`` I in tCO2e per t product (steel: (E_ironmaking + E_sintering) / Q_ironmaking; cement:
    line emissions / clinker; aluminium: process emissions / molten aluminium); emissions in tonnes CO2e
    (int). ``special`` names a special case of the pack (A = E) or is empty."""

    entity_uscc: str
    line_id: str
    verified_emissions_t: int
    intensity: Decimal
    prev_verified_emissions_t: int = 0
    special: str = ""


@dataclass(frozen=True)
class LineAllocation:
    entity_uscc: str
    line_id: str
    verified_emissions_t: int
    intensity: Decimal
    balance_value: Decimal | None
    deviation: Decimal | None  # X as a fraction (the tables print it in %)
    alpha: Decimal
    allocation_t: int  # 核定配额
    obligation_t: int  # 应清缴配额 = E
    pre_allocation_t: int
    special: str  # the special case applied ("" if none; "below_threshold" for small entities)


@dataclass(frozen=True)
class IndustryEntity:
    entity_uscc: str
    verified_emissions_t: int
    pre_allocation_t: int
    final_allocation_t: int  # 应发配额量 = Σ lines
    obligation_t: int  # 应清缴配额量 = Σ E
    issue_delta_t: int  # final − pre (多退少补)


def alpha(deviation: Decimal, rules: IndustryRules) -> Decimal:
    """碳排放强度系数 α from the deviation X (a fraction), draft 表3: ``slope × X`` inside ``(−band, band)``,
    ``+cap`` at ``X ≥ band``, ``−cap`` at ``X ≤ −band``. Exact (the draft states no rounding for α)."""
    if deviation >= rules.band:
        return rules.cap
    if deviation <= -rules.band:
        return -rules.cap
    with exact():
        return rules.slope * deviation


def deviation(intensity: Decimal, balance_value: Decimal) -> Decimal:
    """碳排放强度偏离度 ``X = (BP − I) / BP`` as a fraction (exact to 40 digits). Raises ValueError if BP ≤ 0."""
    if balance_value <= 0:
        raise ValueError(f"balance value must be > 0, got {balance_value}")
    with exact():
        return (balance_value - intensity) / balance_value


def _special(line: LineInput, small: set[str], rules: IndustryRules) -> str:
    if line.special:
        return line.special
    return "below_threshold" if line.entity_uscc in small else ""


def line_allocation(line: LineInput, balance_value: Decimal | None, rules: IndustryRules, special: str = "") -> LineAllocation:
    """One allocation unit: A = E (2024 method or a special case) or ``floor(E × (1 + α))``."""
    e = line.verified_emissions_t
    with exact():
        pre = int(apply_rounding(Decimal(line.prev_verified_emissions_t) * rules.pre_allocation_ratio, rules.rounding["pre_allocation"])) \
            if rules.pre_allocation else 0
    if rules.method == "verified_emissions" or special or balance_value is None:
        return LineAllocation(line.entity_uscc, line.line_id, e, line.intensity, balance_value, None, Decimal(0), e, e, pre, special)
    x = deviation(line.intensity, balance_value)
    a = alpha(x, rules)
    with exact():
        allocation = int(apply_rounding(Decimal(e) * (1 + a), rules.rounding["allocation"]))
    return LineAllocation(line.entity_uscc, line.line_id, e, line.intensity, balance_value, x, a, allocation, e, pre, "")


def _small_entities(lines: Sequence[LineInput], rules: IndustryRules) -> set[str]:
    totals: dict[str, int] = {}
    for ln in lines:
        totals[ln.entity_uscc] = totals.get(ln.entity_uscc, 0) + ln.verified_emissions_t
    return {k for k, v in totals.items() if v < rules.small_entity_threshold_t}


def _check(lines: Sequence[LineInput], rules: IndustryRules) -> None:
    for ln in lines:
        if ln.special and ln.special not in rules.special_cases:
            raise ValueError(f"line {ln.line_id}: special case must be one of {rules.special_cases}, got {ln.special!r}")
        if ln.verified_emissions_t < 0:
            raise ValueError(f"line {ln.line_id}: negative emissions")
        if rules.method == "intensity_alpha" and not ln.special and ln.intensity <= 0:
            raise ValueError(f"line {ln.line_id}: intensity must be > 0")


def _allocated_total(lines: Sequence[tuple[int, Decimal]], bp: Decimal, rules: IndustryRules) -> int:
    total = 0
    with exact():
        for e, i in lines:
            total += int(apply_rounding(Decimal(e) * (1 + alpha((bp - i) / bp, rules)), rules.rounding["allocation"]))
    return total


def solve_balance_value(lines: Sequence[LineInput], rules: IndustryRules, *, max_iterations: int = 400) -> Decimal:
    """行业平衡值 BP: the value at which Σ floor(E × (1 + α)) over the lines that follow the formula equals
    their Σ E (draft §四(二)2; special cases and small entities have A = E on both sides and drop out).

    Bisection on exact Decimals: Σ A(BP) is a non-decreasing step function of BP (α rises with X, X with
    BP), below Σ E at BP = min I / (1 + band) (all at −cap) and above it at BP = max I / (1 − band) (all at
    +cap). Bisection converges on the lowest BP whose total reaches Σ E (or, when one step jumps over it,
    the closer side of that step); it is then rounded (half-up, else up) to the fewest decimals from 4
    that keep that total, so the published value reproduces the allocation exactly.
    Raises ValueError if there is no line to solve for."""
    _check(lines, rules)
    small = _small_entities(lines, rules)
    pts = [(ln.verified_emissions_t, ln.intensity) for ln in lines if not _special(ln, small, rules) and ln.verified_emissions_t > 0]
    if not pts:
        raise ValueError("no allocation unit follows the formula: no balance value to solve")
    target = sum(e for e, _ in pts)
    with exact():
        lo = min(i for _, i in pts) / (1 + rules.band) / 2
        hi = max(i for _, i in pts) / (1 - rules.band) * 2
    f_lo, f_hi = _allocated_total(pts, lo, rules), _allocated_total(pts, hi, rules)
    if not (f_lo <= target <= f_hi):  # cannot happen for E ≥ 1 and cap < 1; kept as a guard
        raise ValueError(f"balance value not bracketed: {f_lo} … {f_hi} vs {target}")
    for _ in range(max_iterations):  # invariant: f(lo) < target ≤ f(hi) (or f(hi) == target)
        with exact():
            mid = (lo + hi) / 2
            if hi - lo <= hi * Decimal("1e-30"):
                break
        f_mid = _allocated_total(pts, mid, rules)
        if f_mid >= target:
            hi, f_hi = mid, f_mid
        else:
            lo, f_lo = mid, f_mid
    # the closer of the two sides of the last step
    best, f_best = (hi, f_hi) if abs(f_hi - target) <= abs(target - f_lo) else (lo, f_lo)
    for places in range(4, 36):
        for mode in (ROUND_HALF_UP, ROUND_CEILING):
            cand = best.quantize(Decimal(1).scaleb(-places), rounding=mode)
            if _allocated_total(pts, cand, rules) == f_best:
                return cand
    return best


def allocate_industry(lines: Iterable[LineInput], rules: IndustryRules, *, balance_value: Decimal | None = None,
                      ) -> tuple[Decimal | None, list[LineAllocation], list[IndustryEntity]]:
    """Allocate a sector's year: returns (BP used, line results in input order, entity results in order of
    first appearance). ``balance_value`` is the published BP; if None it is solved (intensity method).
    Raises ValueError for an unknown special case, negative emissions or a non-positive intensity."""
    lines = list(lines)
    _check(lines, rules)
    bp = None
    if rules.method == "intensity_alpha":
        bp = balance_value if balance_value is not None else solve_balance_value(lines, rules)
    small = _small_entities(lines, rules)
    results = [line_allocation(ln, bp, rules, _special(ln, small, rules)) for ln in lines]
    by_entity: dict[str, list[LineAllocation]] = {}
    for r in results:
        by_entity.setdefault(r.entity_uscc, []).append(r)
    entities = []
    for uscc, rs in by_entity.items():
        final, pre = sum(r.allocation_t for r in rs), sum(r.pre_allocation_t for r in rs)
        e = sum(r.verified_emissions_t for r in rs)
        entities.append(IndustryEntity(uscc, e, pre, final, e, final - pre))
    return bp, results, entities
