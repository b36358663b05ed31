"""What-if runs (issue 17): a draft pack applied to a stored year's verified data, nothing written.

Figures by hand, 2024 verified data (base packs: power ``national/power-2023-2024`` 2024 benchmarks, plan 附2;
steel ``national/steel-2024-2025`` 2024: allocation = verified emissions) against the 2025–2026 consultation
draft (power ``national/power-2025-2026`` 表1 2025 benchmarks; steel ``national/steel-2026`` §四(二)):

- SD_1 power, two class I units (F 0.80 and 0.70: Ff 1 under both curves, thresholds 0.65 and 0.50):
  base 100,000 × 0.7910 + 50,000 × 0.7910 = 79,100 + 39,550 = 118,650 (≥ 0.8 × 127,000 = 101,600, no top-up);
  draft 100,000 × 0.7902 + 50,000 × 0.7902 = 79,020 + 39,510 = 118,530; E 127,000 → −8,350 / −8,470.
- SD_2 power, class II, 100,000 MWh, F 0.90: base × 0.8049 = 80,490; draft × 0.8017 = 80,170; E 90,000.
- ZJ_1 power, gas (IV), 100,000 MWh × 0.3288 + 10,000 GJ × 0.0533 = 33,413 under both (same benchmarks),
  topped up to E = 40,000 (§四(一)4(1)) under both → balance 0.
- steel: W1 of SD_1 E 100,000, I = 90,000 / 50,000 = 1.8; W2 of SD_2 E 100,000, I = 88,000 / 40,000 = 2.2.
  Base A = E. Draft: the balance value is 2.0 (X = ±0.1, α = ±0.15 × 0.1 = ±0.015: A = 101,500 + 98,500 =
  200,000 = Σ E, and just below 2.0 both floors drop by one) → W1 101,500 (+1,500), W2 98,500 (−1,500).
- cost at 90.00 CNY/t = 9,000 fen: shortfall × 9,000, e.g. SD_1 power 8,350 × 9,000 = 75,150,000 fen.
"""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.allocation.models import EntityAllocation, FacilityAllocation, UnitAllocation
from cets.allocation.services import allocation_compute, allocation_issue_confirm, allocation_issue_propose
from cets.allocation.whatif import WhatIfRow, WhatIfRun, load_draft, whatif_compute
from cets.compliance.models import Obligation
from cets.core.errors import CetsError
from cets.mrv.models import FacilityYearData, UnitYearData
from cets.mrv.services import unit_year_data_upsert
from cets.parties.models import Facility, GeneratingUnit
from cets.registry.models import Holding, Instrument, Proposal, Transfer
from cets.registry.services import proposal_approve, vintage_create
from cets.supervision import whatif as wi
from tests.conftest import SD_1, SD_2, ZJ_1

POWER, STEEL = "national/power-2023-2024", "national/steel-2024-2025"
DRAFT_POWER, DRAFT_STEEL = "national/power-2025-2026", "national/steel-2026"
PRICE = 9_000


def _unit(entity, code, cat, gen, heat, lf, e):
    u = GeneratingUnit.objects.create(entity=entity, code=code, category=cat, rated_capacity_mw=Decimal(600))
    unit_year_data_upsert(rows=[
        UnitYearData(unit=u, year=2024, generation_mwh=Decimal(gen), heat_supplied_gj=Decimal(heat), load_factor=Decimal(lf), verified_emissions_t=e),
        UnitYearData(unit=u, year=2023, generation_mwh=Decimal(0), heat_supplied_gj=Decimal(0), load_factor=Decimal("0.8"), verified_emissions_t=e),
    ])


@pytest.fixture
def year2024(world):
    w = world
    _unit(w.sd1, "A", "I", 100_000, 0, "0.80", 85_000)
    _unit(w.sd1, "B", "I", 50_000, 0, "0.70", 42_000)
    _unit(w.sd2, "1", "II", 100_000, 0, "0.90", 90_000)
    _unit(w.zj1, "G1", "IV", 100_000, 10_000, "0.40", 40_000)
    for entity, code, e, ie, out in ((w.sd1, "W1", 100_000, 90_000, 50_000), (w.sd2, "W2", 100_000, 88_000, 40_000)):
        f = Facility.objects.create(entity=entity, sector="steel", code=code, kind="integrated_works")
        FacilityYearData.objects.create(facility=f, year=2024, verified_emissions_t=e, intensity_emissions_t=ie, output_t=out)
    return w


def _run(**kw):
    return whatif_compute(drafts=[load_draft(DRAFT_POWER), load_draft(DRAFT_STEEL)], market="national", year=2024, price_fen=PRICE, **kw)


def _row(run, sector, uscc):
    (r,) = [r for r in run.rows if r.sector == sector and r.uscc == uscc]
    return r


@pytest.mark.django_db
def test_golden_entities_under_both_packs(year2024):
    run = _run()
    assert [(s.sector, s.base_pack_id, s.draft_pack_id, s.rules_year) for s in run.sectors] == [
        ("power", POWER, DRAFT_POWER, 2025), ("steel", STEEL, DRAFT_STEEL, 2026)]
    got = {(r.sector, r.uscc): (r.verified_t, r.base_t, r.draft_t, r.base_balance_t, r.draft_balance_t, r.base_cost_fen, r.draft_cost_fen)
           for r in run.rows}
    assert got == {
        ("power", SD_1): (127_000, 118_650, 118_530, -8_350, -8_470, 75_150_000, 76_230_000),
        ("power", SD_2): (90_000, 80_490, 80_170, -9_510, -9_830, 85_590_000, 88_470_000),
        ("power", ZJ_1): (40_000, 40_000, 40_000, 0, 0, 0, 0),
        ("steel", SD_1): (100_000, 100_000, 101_500, 0, 1_500, 0, -13_500_000),
        ("steel", SD_2): (100_000, 100_000, 98_500, 0, -1_500, 0, 13_500_000),
    }
    assert all(type(v) is int for r in run.rows for v in got[(r.sector, r.uscc)])


@pytest.mark.django_db
def test_totals_per_sector_province_and_overall(year2024):
    run = _run()
    sector = {t.key: (t.entities, t.verified_t, t.base_t, t.draft_t, t.change_t) for t in run.totals("sector")}
    assert sector == {"power": (3, 257_000, 239_140, 238_700, -440), "steel": (2, 200_000, 200_000, 200_000, 0)}
    prov = {t.key: (t.entities, t.verified_t, t.base_t, t.draft_t, t.draft_cost_fen) for t in run.totals("province")}
    assert prov == {"33": (1, 40_000, 40_000, 40_000, 0),
                    "37": (4, 417_000, 399_140, 398_700, 76_230_000 + 88_470_000 - 13_500_000 + 13_500_000)}
    g = run.grand_total()
    assert (g.entities, g.base_t, g.draft_t, g.change_cost_fen) == (5, 439_140, 438_700, 440 * PRICE)
    zj = run.scoped("33")
    assert [(r.uscc, r.sector) for r in zj.rows] == [(ZJ_1, "power")]


@pytest.mark.django_db
def test_a_later_rules_year_of_the_draft(year2024):
    """The draft's 2026 power benchmarks (表1: I 0.7894): SD_1 100,000 × 0.7894 + 50,000 × 0.7894 = 78,940 + 39,470."""
    run = whatif_compute(drafts=[load_draft(DRAFT_POWER)], market="national", year=2024, price_fen=PRICE, rules_year=2026)
    assert _row(run, "power", SD_1).draft_t == 118_410


def _digest(model) -> tuple[int, str]:
    rows = list(model.objects.order_by("pk").values_list())
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


STATE = (EntityAllocation, UnitAllocation, FacilityAllocation, Obligation, Transfer, Holding, Proposal, UnitYearData, FacilityYearData)


@pytest.mark.django_db
def test_a_run_changes_no_registry_or_compliance_state(year2024):
    from cets.compliance.services import obligations_create

    w = year2024
    allocation_compute(year=2024, pack_id=POWER)
    allocation_compute(year=2024, pack_id=STEEL)
    cea24 = vintage_create(instrument=Instrument.CEA, vintage="2024", cap_t=10_000_000, key="cap-test-2024")
    p = allocation_issue_propose(year=2024, stage="pre", unit_type=cea24, actor=w.registry_a, sector="power")
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    allocation_issue_confirm(year=2024, stage="pre", sector="power")
    obligations_create(year=2024, pack_id=POWER)
    before = {m.__name__: _digest(m) for m in STATE}
    assert before["Transfer"][0] > 0 and before["Obligation"][0] == 3 and before["UnitAllocation"][0] == 4
    run = _run()
    # the stored allocation is the base: the dry run reproduces it
    stored = {(a.sector, a.entity.uscc): a.final_allocation_t for a in EntityAllocation.objects.select_related("entity")}
    assert {(r.sector, r.uscc): r.base_t for r in run.rows} == stored
    wi.xlsx(run)
    assert {m.__name__: _digest(m) for m in STATE} == before


@pytest.mark.django_db
def test_refusals(year2024):
    with pytest.raises(CetsError) as e:
        load_draft("national/no-such-pack")
    assert e.value.code == "A0201"
    with pytest.raises(CetsError) as e:
        load_draft("national/steel-accounting-2024-2026")
    assert e.value.code == "A0201"
    with pytest.raises(CetsError) as e:
        whatif_compute(drafts=[load_draft(DRAFT_POWER), load_draft(DRAFT_POWER)], market="national", year=2024, price_fen=PRICE)
    assert e.value.code == "A0204"
    with pytest.raises(CetsError) as e:
        whatif_compute(drafts=[load_draft(DRAFT_STEEL)], market="national", year=2023, price_fen=PRICE)  # steel has no 2023 pack
    assert e.value.code == "A0203"
    with pytest.raises(CetsError) as e:
        whatif_compute(drafts=[load_draft(DRAFT_POWER)], market="national", year=2024, price_fen=PRICE, rules_year=2027)
    assert e.value.code == "A0117"
    for base in ("national", "national/24", "nowhere/2024", "national/２０２４", ""):
        with pytest.raises(CetsError) as e:
            wi.parse_base(base)
        assert e.value.code == "A0202"
    for bad in (0, -1, "9000", 90.0, True):
        with pytest.raises(ValueError):
            whatif_compute(drafts=[load_draft(DRAFT_POWER)], market="national", year=2024, price_fen=bad)


HEADER = "trade_date,subject_code,subject_name,trade_method_code,trade_method,volume_t,amount_cny,ytd_volume_t,ytd_amount_cny,cum_volume_t,cum_amount_cny"


def test_year_price_from_the_published_figures(tmp_path):
    """P̄ of 2024: (90,000.00 + 240,000.00 CNY) / (1,000 + 3,000 t) = 82.50 CNY/t = 8,250 fen; the composite row,
    a 2023 and a 2025 row do not count (national/power-2023-2024 [penalty]: volume-weighted, listing/block/auction)."""
    f = tmp_path / "by_method.csv"
    f.write_text("\n".join([HEADER,
                            "2023-12-29,CEA23,x,10,l,500,50000.00,0,0,0,0",
                            "2024-03-01,CEA24,x,10,l,1000,90000.00,0,0,0,0",
                            "2024-03-01,COMCEA,x,10,l,1000,90000.00,0,0,0,0",
                            "2024-12-31,CEA23,x,20,b,3000,240000.00,0,0,0,0",
                            "2025-01-02,CEA24,x,10,l,700,1.00,0,0,0,0"]) + "\n", encoding="utf-8")
    price, source = wi.year_price(market="national", year=2024, path=f)
    assert price == 8_250 and "2 trading days" in source and "national/power-2023-2024" in source
    with pytest.raises(CetsError) as e:
        wi.year_price(market="national", year=2022, path=f)
    assert e.value.code == "A0205"


def test_the_2024_price_of_the_official_file_reconciles_with_its_year_to_date_columns():
    """The year's average from the daily rows equals Σ ytd_amount / Σ ytd_volume of each subject's and method's
    last 2024 row (the exchange's own year-to-date figures), rounded half-up to the fen."""
    path = wi.prices_path()
    if not path.exists():
        pytest.skip("data/cea-national-official not present")
    price, _ = wi.year_price(market="national", year=2024)
    last: dict = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["trade_date"].startswith("2024") and r["subject_code"] != "COMCEA":
                last[(r["subject_code"], r["trade_method_code"])] = r
    vol = sum(int(r["ytd_volume_t"]) for r in last.values())
    amt = sum(Decimal(r["ytd_amount_cny"]) for r in last.values()) * 100
    assert price == int((amt / vol).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    assert 8_000 < price < 11_000  # 2024 traded between about 80 and 105 CNY/t


@pytest.mark.django_db
def test_xlsx_export_content(year2024):
    from openpyxl import load_workbook

    w = year2024
    w.sd1.name = "=HYPERLINK(\"http://x\")"
    w.sd1.save()
    run = _run(price_source="test")
    wb = load_workbook(io.BytesIO(wi.xlsx(run)))
    assert wb.sheetnames == ["方案", "行业汇总", "省份汇总", "重点排放单位"]
    sec = wb["行业汇总"]
    assert [c.value for c in sec[3]][:6] == ["key", "entities", "verified_t", "base_t", "draft_t", "change_t"]
    rows = {r[0]: r for r in sec.iter_rows(min_row=4, values_only=True)}
    assert rows["power"][:6] == ("power", 3, 257_000, 239_140, 238_700, -440)
    assert rows["合计 total"][3:5] == (439_140, 438_700)
    ent = wb["重点排放单位"]
    cols = [c.value for c in ent[3]]
    by = {(r[cols.index("sector")], r[cols.index("uscc")]): r for r in ent.iter_rows(min_row=4, values_only=True)}
    r = by[("steel", SD_2)]
    assert (r[cols.index("draft_t")], r[cols.index("draft_balance_t")], r[cols.index("draft_cost_fen")]) == (98_500, -1_500, 13_500_000)
    name_cell = [c for c in ent["B"] if c.value and str(c.value).startswith("=HYPERLINK")][0]
    assert name_cell.data_type == "s" and name_cell.quotePrefix  # shown as text, never a formula
    assert PRICE in [c.value for row in wb["方案"].iter_rows() for c in row]


@pytest.mark.django_db
def test_the_command_line(year2024, tmp_path, capsys):
    from openpyxl import load_workbook

    from cets.cli import main

    prices = tmp_path / "by_method.csv"
    prices.write_text(HEADER + "\n2024-03-01,CEA24,x,10,l,1000,90000.00,0,0,0,0\n", encoding="utf-8")  # 90.00 CNY/t
    out = tmp_path / "run.xlsx"
    assert main(["whatif", "--pack", DRAFT_POWER, "--pack", DRAFT_STEEL, "--base", "national/2024", "--prices", str(prices), "--xlsx", str(out)]) == 0
    text = capsys.readouterr().out
    assert "90.00 CNY/t" in text and "national/power-2023-2024 (benchmark_power) → national/power-2025-2026" in text
    rows = {r[0]: r for r in load_workbook(out)["行业汇总"].iter_rows(min_row=4, values_only=True)}
    assert rows["power"][8:10] == (8_350 * PRICE + 9_510 * PRICE, 8_470 * PRICE + 9_830 * PRICE)
    assert main(["whatif", "--pack", DRAFT_POWER, "--base", "2024", "--prices", str(prices)]) == 2
    assert "A0202" in capsys.readouterr().out


@pytest.mark.django_db
def test_an_alternative_pack_from_an_extra_pack_folder(year2024, tmp_path, monkeypatch):
    """An alternative to the draft: the same pack with the entity shortfall cap at 5% instead of 20% (a pack in a
    folder of CETS_PACK_DIRS, the documented way to add packs). SD_1: 118,530 < 0.95 × 127,000 = 120,650 → topped
    up to 120,650; SD_2: 80,170 < 0.95 × 90,000 = 85,500 → 85,500; ZJ_1 unchanged (gas top-up to E)."""
    from cets.rules import packs

    src = packs.load_pack(DRAFT_POWER).path.read_text(encoding="utf-8")
    alt = src.replace('id = "national/power-2025-2026"', 'id = "national/power-alt-2025"').replace('shortfall_cap = "0.20"', 'shortfall_cap = "0.05"')
    assert alt.count("national/power-alt-2025") == 1 and 'shortfall_cap = "0.05"' in alt
    (tmp_path / "national").mkdir()
    (tmp_path / "national" / "power-alt-2025.toml").write_text(alt, encoding="utf-8")
    monkeypatch.setenv("CETS_PACK_DIRS", str(tmp_path))
    packs.load_pack.cache_clear()
    try:
        run = whatif_compute(drafts=[load_draft("national/power-alt-2025")], market="national", year=2024, price_fen=PRICE)
    finally:
        packs.load_pack.cache_clear()
    assert {r.uscc: (r.base_t, r.draft_t, r.draft_balance_t) for r in run.rows} == {
        SD_1: (118_650, 120_650, -6_350), SD_2: (80_490, 85_500, -4_500), ZJ_1: (40_000, 40_000, 0)}


_rows = st.lists(st.tuples(st.sampled_from(["11", "33", "37"]), st.sampled_from(["power", "steel"]), st.integers(0, 10**9),
                           st.integers(0, 10**9), st.integers(0, 10**9)), max_size=30)


@given(_rows, st.integers(1, 20_000))
def test_totals_partition_the_rows(rows, price):
    """Whatever the figures: the per-sector and per-province totals each sum to the grand total, a province's view
    is exactly its rows, and each row's balance and cost follow from its allocation, emissions and the price."""
    run = WhatIfRun("national", 2024, price, "", [], [
        WhatIfRow(entity_id=i, uscc=f"u{i}", name="", province=p, sector=s, verified_t=v, base_t=b, draft_t=d, base_balance_t=b - v,
                  draft_balance_t=d - v, base_cost_fen=(v - b) * price, draft_cost_fen=(v - d) * price) for i, (p, s, v, b, d) in enumerate(rows)])
    g = run.grand_total()
    for by in ("sector", "province"):
        ts = run.totals(by)
        for f in ("entities", "verified_t", "base_t", "draft_t", "base_balance_t", "draft_balance_t", "base_cost_fen", "draft_cost_fen"):
            assert sum(getattr(t, f) for t in ts) == getattr(g, f)
    assert g.draft_cost_fen - g.base_cost_fen == -(g.draft_t - g.base_t) * price == g.change_cost_fen
    assert sum(len(run.scoped(p).rows) for p in ("11", "33", "37")) == len(run.rows)
    assert all(r.province == "33" for r in run.scoped("33").rows)


@pytest.mark.django_db
def test_a_draft_missing_a_value_is_refused_not_a_500(year2024, tmp_path, monkeypatch):
    from cets.rules import packs

    src = packs.load_pack(DRAFT_POWER).path.read_text(encoding="utf-8")
    bad = src.replace('id = "national/power-2025-2026"', 'id = "national/power-bad-2025"').replace('shortfall_cap = "0.20"\n', "")
    (tmp_path / "national").mkdir()
    (tmp_path / "national" / "power-bad-2025.toml").write_text(bad, encoding="utf-8")
    monkeypatch.setenv("CETS_PACK_DIRS", str(tmp_path))
    packs.load_pack.cache_clear()
    try:
        with pytest.raises(CetsError) as e:
            whatif_compute(drafts=[load_draft("national/power-bad-2025")], market="national", year=2024, price_fen=PRICE)
    finally:
        packs.load_pack.cache_clear()
    assert e.value.code == "A0201" and "shortfall_cap" in e.value.detail
