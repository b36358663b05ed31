"""Steel, cement and aluminium: accept reported emissions and the intensity inputs of the allocation
formula, with consistency checks. Pure: no Django, no database (CSV in, CSV out).

The 2025–2026 allocation draft (cn-ets-rules.md §2.2 [C-copy]) allocates A = E × (1 + α) per allocation
unit, α from the unit's intensity I against the sector's balance value. The intensities:

* steel (enterprise or integrated plant): Is = (E_ironmaking + E_sintering) / Q_ironmaking-product (tCO2e/t)
* cement (each Portland clinker line):   Ic = line emissions / clinker output (tCO2e/t clinker)
* aluminium (each electrolysis process): Ia = (raw-material energy + anode-effect emissions) / molten Al (tCO2e/t Al)

Input, one row per allocation unit: ``entity_uscc, unit_id, sector`` (steel / cement / aluminium),
``emissions_t`` (E, whole tonnes), ``part_a_t`` and ``part_b_t`` (steel: ironmaking and sintering;
aluminium: raw-material energy and anode effect; cement: blank), ``output_t`` (ironmaking product,
clinker or molten aluminium, t). Intensities are rounded half up to 6 decimals (as Ff, 2025–2026 draft).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from cets.core.errors import InputProblem
from cets.core.quantities import exact, is_digits, round_half_up
from cets.core.tables import read_table
from cets.core.uscc import InvalidUscc, validate_uscc

INDUSTRY_COLUMNS = ("entity_uscc", "unit_id", "sector", "emissions_t", "part_a_t", "part_b_t", "output_t")
INTENSITY_COLUMNS = ("entity_uscc", "unit_id", "sector", "emissions_t", "intensity")
SECTORS = ("steel", "cement", "aluminium")


@dataclass(frozen=True)
class IndustryUnit:
    """One allocation unit's reported year: ``emissions_t`` tonnes CO2e (int), intensity parts in
    tonnes CO2e (Decimal, None for cement), ``output_t`` tonnes of product, ``intensity`` tCO2e/t."""

    entity_uscc: str
    unit_id: str
    sector: str
    emissions_t: int
    part_a_t: Decimal | None
    part_b_t: Decimal | None
    output_t: Decimal
    intensity: Decimal


def intensity(*, sector: str, emissions_t: int, part_a_t: Decimal | None, part_b_t: Decimal | None, output_t: Decimal) -> Decimal:
    """I of the sector's formula (cn-ets-rules.md §2.2), rounded half up to 6 decimals; ``output_t`` > 0."""
    with exact():
        num = Decimal(emissions_t) if sector == "cement" else part_a_t + part_b_t
        return round_half_up(num / output_t, 6)


def read_industry(path: Path | str) -> tuple[list[IndustryUnit], list[InputProblem]]:
    """Parse and check reported steel / cement / aluminium units. Every problem is collected with row
    and column: a bad credit code, an unknown sector, emissions that are not whole tonnes ≥ 0, parts
    missing (steel, aluminium) or present (cement), a part < 0, parts summing above the reported
    emissions (an intensity numerator is part of E), output ≤ 0, a duplicate unit."""
    path = Path(path)
    name = path.name
    out: list[IndustryUnit] = []
    problems: list[InputProblem] = []
    seen: dict[tuple[str, str], int] = {}
    _, reader, header_problems = read_table(path, INDUSTRY_COLUMNS)
    if header_problems:
        return [], header_problems
    for row_no, rec in enumerate(reader, start=2):
        bad: list[InputProblem] = []

        def problem(col, zh, en, rec=rec, row_no=row_no, bad=bad):
            bad.append(InputProblem(name, row_no, col, rec.get(col) or "", zh, en))

        uscc = None
        try:
            uscc = validate_uscc(rec["entity_uscc"] or "")
        except InvalidUscc as e:
            problem("entity_uscc", e.problem.zh, e.problem.en)
        unit_id = (rec["unit_id"] or "").strip()
        if not unit_id:
            problem("unit_id", "单元编号为空", "unit id is empty")
        sector = (rec["sector"] or "").strip()
        if sector not in SECTORS:
            problem("sector", "行业应为 steel、cement 或 aluminium", "sector must be steel, cement or aluminium")
        e_text = (rec["emissions_t"] or "").strip()
        emissions = int(e_text) if is_digits(e_text) else None
        if emissions is None:
            problem("emissions_t", "排放量应为非负整数（吨）", "emissions must be whole tonnes ≥ 0")
        parts = {}
        for col in ("part_a_t", "part_b_t"):
            t = (rec[col] or "").strip()
            if sector == "cement":
                if t:
                    problem(col, "水泥熟料线不填此项", "not used for a cement clinker line")
                parts[col] = None
                continue
            try:
                d = Decimal(t)
                if not t or "e" in t.lower() or not d.is_finite() or d < 0:
                    raise ValueError
                parts[col] = d
            except (ValueError, InvalidOperation):
                problem(col, "应为非负数（吨CO2e）", "must be a number ≥ 0 (tCO2e)")
                parts[col] = None
        try:
            t = (rec["output_t"] or "").strip()
            output = Decimal(t)
            if not t or "e" in t.lower() or not output.is_finite() or output <= 0:
                raise ValueError
        except (ValueError, InvalidOperation):
            problem("output_t", "产量应为正数（吨）", "output must be a number > 0 (t)")
            output = None
        if (sector in ("steel", "aluminium") and emissions is not None and None not in parts.values()
                and parts["part_a_t"] + parts["part_b_t"] > emissions):
            problem("part_b_t", "强度分子大于报告排放量", "the intensity parts exceed the reported emissions")
        if not bad and (uscc, unit_id) in seen:
            problem("unit_id", f"与第{seen[(uscc, unit_id)]}行重复", f"duplicate of row {seen[(uscc, unit_id)]}")
        if bad:
            problems.extend(bad)
            continue
        seen[(uscc, unit_id)] = row_no
        out.append(IndustryUnit(entity_uscc=uscc, unit_id=unit_id, sector=sector, emissions_t=emissions, part_a_t=parts["part_a_t"],
                                part_b_t=parts["part_b_t"], output_t=output,
                                intensity=intensity(sector=sector, emissions_t=emissions, part_a_t=parts["part_a_t"],
                                                    part_b_t=parts["part_b_t"], output_t=output)))
    return out, problems
