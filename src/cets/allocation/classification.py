"""Which category a generating unit belongs to, or why it is not covered (2023–2024 power plan 附1).
Pure: no Django. Shares are fractions (Decimal) of the unit's annual heat input; thresholds come from
the pack's ``[classification]`` table.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cets.rules.packs import Pack

ONE = Decimal(1)


@dataclass(frozen=True)
class FuelProfile:
    """A unit's fuels over a full compliance year, as shares of heat input (each 0–1, summing to 1)."""

    rated_capacity_mw: Decimal
    conventional_coal: Decimal = Decimal(0)  # 烟煤、褐煤、无烟煤
    unconventional_coal: Decimal = Decimal(0)  # 煤矸石、煤泥、水煤浆
    natural_gas: Decimal = Decimal(0)
    oil: Decimal = Decimal(0)
    biomass: Decimal = Decimal(0)  # incl. waste and sludge
    secondary_energy: Decimal = Decimal(0)  # self-produced secondary energy
    special_fuel: Decimal = Decimal(0)  # 煤层气、兰炭尾气、炭黑尾气、焦炉/高炉/转炉煤气、石油伴生气、油页岩、油砂、可燃冰
    own_waste_gas: Decimal = Decimal(0)  # self-produced waste gas, tail gas, coal gas
    cfb: bool = False  # 循环流化床
    igcc: bool = False
    internal_combustion: bool = False
    gas_converted_from_coal_boiler: bool = False  # a direct change to a gas turbine is not this
    shut_before_final_allocation: bool = False


@dataclass(frozen=True)
class Classification:
    category: str | None  # "I" … "IV"; None if not covered or not decidable
    covered: bool
    clause: str  # where the rule is, e.g. "附1 表2-3"
    zh: str
    en: str


def classify_unit(p: FuelProfile, pack: Pack) -> Classification:
    """Apply 附1 表2 (exclusions) first, then 表1 (categories) with its notes 2 and 3.

    A profile that fits no rule (e.g. a gas unit co-firing more than 10% of other fuels) comes back
    with ``category=None, covered=True`` and a reason: the province decides it by hand.
    Raises ValueError if the shares do not sum to 1 (± 0.001).
    """
    shares = (p.conventional_coal, p.unconventional_coal, p.natural_gas, p.oil, p.biomass, p.secondary_energy, p.special_fuel, p.own_waste_gas)
    if any(s < 0 or s > ONE for s in shares) or abs(sum(shares) - ONE) > Decimal("0.001"):
        raise ValueError("fuel shares must each be within 0–1 and sum to 1")
    c = {k: pack.decimal(f"classification.{k}") for k in ("class_i_min_mw", "unconventional_min_share", "gas_max_cofire", "biomass_max_share",
                                                           "biomass_excluded_above", "secondary_max_share")}

    def nc(clause, zh, en):
        return Classification(None, False, clause, zh, en)

    if p.shut_before_final_allocation:
        return nc("附1 表2-9", "核定配额发放前已关停", "shut down before the final allocation was issued")
    if p.igcc or p.internal_combustion:
        return nc("附1 表2-8", "IGCC机组或内燃机组", "IGCC or internal-combustion unit")
    if p.oil > max(p.conventional_coal, p.unconventional_coal, p.natural_gas, p.biomass, p.special_fuel, p.own_waste_gas):
        return nc("附1 表2-8", "燃油机组", "oil-fired unit")
    if p.gas_converted_from_coal_boiler:
        return nc("附1 表2-7", "燃煤锅炉改造形成的燃气机组", "gas unit converted from a coal boiler")
    if p.biomass == ONE:
        return nc("附1 表2-1", "纯生物质发电机组", "pure biomass unit")
    if p.biomass > c["biomass_excluded_above"]:
        return nc("附1 表2-2", "生物质掺烧化石燃料，生物质热量占比高于50%", "biomass unit co-firing fossil fuel, biomass > 50% of heat")
    if p.biomass > c["biomass_max_share"]:
        return nc("附1 表2-3", "化石燃料掺烧生物质，热量占比超过10%且不高于50%", "fossil unit co-firing biomass at > 10% and ≤ 50% of heat")
    if p.secondary_energy > c["secondary_max_share"]:
        return nc("附1 表2-4", "混烧自产二次能源热量占比超过10%", "self-produced secondary energy > 10% of heat")
    if p.special_fuel == ONE:
        return nc("附1 表2-5", "仅使用特殊化石燃料", "burns only special fossil fuels")
    if p.own_waste_gas == ONE:
        return nc("附1 表2-6", "仅使用自产废气、尾气、煤气", "burns only self-produced waste or tail gas")

    if p.natural_gas >= ONE - c["gas_max_cofire"]:
        return Classification("IV", True, "附1 表1", "燃气机组", "gas unit")
    coal = p.conventional_coal + p.unconventional_coal
    if p.unconventional_coal > c["unconventional_min_share"] or (p.cfb and coal > p.natural_gas):
        return Classification("III", True, "附1 表1", "非常规燃煤机组（含燃煤循环流化床机组）", "non-conventional coal unit (incl. coal CFB)")
    if p.conventional_coal >= max(p.unconventional_coal, p.natural_gas, p.special_fuel, p.own_waste_gas) and p.conventional_coal > 0:
        if p.rated_capacity_mw >= c["class_i_min_mw"]:
            return Classification("I", True, "附1 表1", "300MW等级以上常规燃煤机组（额定功率不低于400MW）", "conventional coal, rated ≥ 400 MW")
        return Classification("II", True, "附1 表1", "300MW等级及以下常规燃煤机组（额定功率低于400MW）", "conventional coal, rated < 400 MW")
    return Classification(None, True, "附1 表1", "不符合任一类别判定标准，须人工判定", "fits no category of 附1 表1: decide by hand")
