"""Beijing carbon-inclusion (碳普惠) project reductions: the three methodologies as pure calculators.

京环发〔2024〕8号 (seed 004) 三(三): reductions of low-carbon travel, petrol-to-electric passenger car and hydrogen
fuel-cell vehicle projects are accounted by the three 《北京市碳普惠项目方法学（试行）》 (附件5); validated and issued
reductions (PCER) may offset. The methodology texts are not held: every factor lives in the pack
``beijing/pcer-2023-2026`` and is tagged ``[[unconfirmed]]`` there.

Each calculator is ``reduction = baseline emissions − project emissions`` from one monitoring period's activity data
(a dict of whole numbers), in tonnes CO2e, rounded by the pack (``pcer.reductions_rounding``) and never below 0.
Pure: no database. Refusals: P0101 unknown methodology, P0102 a value not an int ≥ 0, P0103 a missing or unknown
field, P0104 a pack of another kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from cets.core.errors import CetsError
from cets.core.quantities import apply_rounding, exact

from .checks import P0101, P0102, P0103, P0104

METHODOLOGIES = ("low_carbon_travel", "ev_conversion", "hydrogen_fcv")


@dataclass(frozen=True)
class Reduction:
    """One monitoring period's result: baseline and project emissions (exact, t CO2e), the reduction (int t) and
    ``lines``: the calculation line by line as ``(term, formula with the pack's factors and the result)`` pairs, ``term``
    one of ``baseline``, ``project``, ``reduction`` or an activity field, for the pages."""

    methodology: str
    baseline_t: Decimal
    project_t: Decimal
    reduction_t: int
    lines: tuple[tuple[str, str], ...] = ()


def _ints(activity: Mapping[str, object], required: tuple[str, ...]) -> dict[str, int]:
    keys = set(activity)
    if keys != set(required):
        missing, unknown = sorted(set(required) - keys), sorted(keys - set(required))
        raise CetsError(P0103, f"missing {missing}, unknown {unknown}")
    out = {}
    for k in required:
        v = activity[k]
        if type(v) is not int or v < 0:  # bools, floats and strings are refused, never coerced
            raise CetsError(P0102, f"{k}={v!r}")
        out[k] = v
    return out


def _params(pack, methodology: str) -> str:
    if pack.kind != "offsets" or "pcer" not in pack.data:
        raise CetsError(P0104, pack.id)
    if methodology not in METHODOLOGIES or methodology not in pack.data["pcer"].get("methodologies", {}):
        raise CetsError(P0101, methodology)
    return f"pcer.methodologies.{methodology}"


def _n(d: Decimal) -> str:
    """A decimal without exponent or trailing zeros (``419.850`` → ``419.85``)."""
    s = format(d.normalize(), "f") if d else "0"
    return s


def _result(pack, methodology: str, baseline: Decimal, project: Decimal, lines: list[tuple[str, str]]) -> Reduction:
    rounding = pack.text("pcer.reductions_rounding")
    value = max(0, int(apply_rounding(baseline - project, rounding)))
    lines.append(("reduction", f"max(0, {rounding}({_n(baseline)} t − {_n(project)} t)) = {value} t"))
    return Reduction(methodology, baseline, project, value, tuple(lines))


def low_carbon_travel(pack, activity: Mapping[str, object]) -> Reduction:
    """Activity ``{"<mode>_pkm": int, ...}`` for every mode of the pack (person-km). Baseline = Σ pkm × EF_car,
    project = Σ pkm × EF_mode (g/pkm → t)."""
    key = _params(pack, "low_carbon_travel")
    modes = tuple(pack.raw(f"{key}.modes"))
    data = _ints(activity, tuple(f"{m}_pkm" for m in modes))
    with exact():
        total = sum(data.values())
        baseline = Decimal(total) * pack.decimal(f"{key}.baseline_g_per_pkm") / Decimal(1_000_000)
        project = sum((Decimal(data[f"{m}_pkm"]) * pack.decimal(f"{key}.mode_g_per_pkm.{m}") for m in modes), Decimal(0)) / Decimal(1_000_000)
        ef_car = pack.decimal(f"{key}.baseline_g_per_pkm")
        lines = [("baseline", f"{total} pkm × {_n(ef_car)} g/pkm ÷ 10⁶ = {_n(baseline)} t")]
        for m in modes:
            ef = pack.decimal(f"{key}.mode_g_per_pkm.{m}")
            lines.append((f"{m}_pkm", f"{data[f'{m}_pkm']} pkm × {_n(ef)} g/pkm ÷ 10⁶ = {_n(Decimal(data[f'{m}_pkm']) * ef / Decimal(1_000_000))} t"))
        lines.append(("project", f"Σ = {_n(project)} t"))
        return _result(pack, "low_carbon_travel", baseline, project, lines)


def ev_conversion(pack, activity: Mapping[str, object]) -> Reduction:
    """Activity ``{"vehicle_km": int, "electricity_kwh": int}``. Baseline = vkm × L/100km / 100 × kgCO2/L / 1000,
    project = kWh × tCO2/MWh / 1000."""
    key = _params(pack, "ev_conversion")
    data = _ints(activity, ("vehicle_km", "electricity_kwh"))
    with exact():
        baseline = Decimal(data["vehicle_km"]) * pack.decimal(f"{key}.petrol_l_per_100km") / 100 * pack.decimal(f"{key}.petrol_kg_per_l") / 1000
        project = Decimal(data["electricity_kwh"]) * pack.decimal(f"{key}.grid_t_per_mwh") / 1000
        lines = [("baseline", f"{data['vehicle_km']} km × {_n(pack.decimal(f'{key}.petrol_l_per_100km'))} L/100 km ÷ 100 × "
                              f"{_n(pack.decimal(f'{key}.petrol_kg_per_l'))} kg CO2/L ÷ 1000 = {_n(baseline)} t"),
                 ("project", f"{data['electricity_kwh']} kWh × {_n(pack.decimal(f'{key}.grid_t_per_mwh'))} t CO2/MWh ÷ 1000 = {_n(project)} t")]
        return _result(pack, "ev_conversion", baseline, project, lines)


def hydrogen_fcv(pack, activity: Mapping[str, object]) -> Reduction:
    """Activity ``{"vehicle_km": int, "hydrogen_kg": int}``. Baseline = vkm × diesel L/100km / 100 × kgCO2/L / 1000,
    project = kg H2 × kgCO2e/kg / 1000."""
    key = _params(pack, "hydrogen_fcv")
    data = _ints(activity, ("vehicle_km", "hydrogen_kg"))
    with exact():
        baseline = Decimal(data["vehicle_km"]) * pack.decimal(f"{key}.diesel_l_per_100km") / 100 * pack.decimal(f"{key}.diesel_kg_per_l") / 1000
        project = Decimal(data["hydrogen_kg"]) * pack.decimal(f"{key}.hydrogen_kg_per_kg") / 1000
        lines = [("baseline", f"{data['vehicle_km']} km × {_n(pack.decimal(f'{key}.diesel_l_per_100km'))} L/100 km ÷ 100 × "
                              f"{_n(pack.decimal(f'{key}.diesel_kg_per_l'))} kg CO2/L ÷ 1000 = {_n(baseline)} t"),
                 ("project", f"{data['hydrogen_kg']} kg H2 × {_n(pack.decimal(f'{key}.hydrogen_kg_per_kg'))} kg CO2e/kg ÷ 1000 = {_n(project)} t")]
        return _result(pack, "hydrogen_fcv", baseline, project, lines)


CALCULATORS = {"low_carbon_travel": low_carbon_travel, "ev_conversion": ev_conversion, "hydrogen_fcv": hydrogen_fcv}


def fields(pack, methodology: str) -> tuple[str, ...]:
    """The activity fields a period of ``methodology`` needs (whole numbers): the pack's modes as ``<mode>_pkm`` for
    low-carbon travel, else the calculator's fixed pair (P0101 unknown methodology, P0104 not an offsets pack)."""
    key = _params(pack, methodology)
    if methodology == "low_carbon_travel":
        return tuple(f"{m}_pkm" for m in pack.raw(f"{key}.modes"))
    return {"ev_conversion": ("vehicle_km", "electricity_kwh"), "hydrogen_fcv": ("vehicle_km", "hydrogen_kg")}[methodology]


def compute(pack, methodology: str, activity: Mapping[str, object]) -> Reduction:
    """Dispatch to the methodology's calculator (P0101 for an unknown one)."""
    if methodology not in CALCULATORS:
        raise CetsError(P0101, str(methodology))
    return CALCULATORS[methodology](pack, activity)
