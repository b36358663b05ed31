"""Markets as data: the market.toml sector registry and pack table, and a third market from data alone."""

import hashlib
from decimal import Decimal

import pytest

from cets.rules import markets, packs
from cets.rules.markets import load_market, sector_name
from cets.rules.packs import PackError, load_pack, pack_for
from tests.rules.test_check import MARKET as SAMPLE_MARKET


@pytest.fixture
def clean_caches():
    packs.load_pack.cache_clear()
    markets.load_market.cache_clear()
    yield
    packs.load_pack.cache_clear()
    markets.load_market.cache_clear()


def test_shipped_markets_and_sector_registry():
    assert [m.id for m in markets.markets()] == ["beijing", "ccer", "national"]
    nat = load_market("national")
    assert nat.sector_codes[:4] == ("power", "steel", "cement", "aluminium")
    assert sector_name("national", "aluminium") == "铝冶炼"
    assert sector_name(nat, "aviation", "en") == "domestic aviation"
    assert nat.sector_by_industry("国内民用航空").code == "aviation"
    assert nat.sector_by_industry("电力生产业") is None
    assert {i.code for i in load_market("beijing").instruments} == {"BEA", "PCER", "CCER"}
    assert load_market("beijing").jurisdiction_levels == ("city", "district")
    assert load_market("ccer").sectors == ()
    with pytest.raises(PackError):
        sector_name("national", "heat")


def test_pack_table_and_mechanisms():
    nat, bj = load_market("national"), load_market("beijing")
    assert nat.pack_id("allocation", "power", 2024) == "national/power-2023-2024"
    assert nat.pack_id("compliance", "steel", 2026) == "national/steel-2026"
    assert nat.pack_id("trading", "steel", 2025) == "national/trading-2021-2026"  # market-wide entry
    assert (nat.mechanism("steel", 2024), nat.mechanism("steel", 2025), nat.mechanism("power", 2019)) == (
        "verified_emissions", "industry_balance_value", "benchmark_power")
    assert bj.pack_id("allocation", "heat", 2023) == "beijing/emitters-2023-2024"
    assert bj.mechanism("services", 2024) == "beijing_capped_free"
    assert bj.pack_id("accounting", "power", 2023) == "beijing/power-2023"
    with pytest.raises(PackError):
        nat.pack_id("allocation", "paper", 2024)
    assert bj.pack_id("accounting", "cement", 2023) == "beijing/cement-2023"  # 京环发〔2024〕8号 二(一), values unconfirmed in the pack
    with pytest.raises(PackError):
        bj.pack_id("accounting", "petrochemicals", 2023)  # no Beijing petrochemicals accounting pack yet
    with pytest.raises(PackError):
        bj.pack_id("accounting", "cement", 2024)


def test_pack_for_reads_the_table_and_keeps_old_calls():
    assert pack_for("beijing", "power", 2023).id == "beijing/emitters-2023-2024"
    assert pack_for("beijing", "power", 2023, kind="accounting").id == "beijing/power-2023"
    assert pack_for("national", "trading", 2024).id == "national/trading-2021-2026"  # trading.services' call
    assert pack_for("beijing", "trading", 2025).id == "beijing/trading-2024-2026"
    assert pack_for("national", "emitter", 2026, kind="emitter_list").id == "national/emitter-list-2024-2027"
    assert pack_for("national", "cement", 2025).id == "national/cement-2024-2025"
    with pytest.raises(PackError):
        pack_for("national", "power", 2018)


def test_pack_sha256_is_the_file_hash():
    p = load_pack("national/power-2023-2024")
    assert p.sha256 == hashlib.sha256(p.path.read_bytes()).hexdigest()
    assert all(p.kind in packs.KINDS and p.schema_version == 1 for p in map(load_pack, packs.available_packs()))
    assert not any(pid.endswith("/market") for pid in packs.available_packs())


# The sample market of test_check, renamed: one sector, one allocation pack, one compliance entry.
MARKET = SAMPLE_MARKET.replace('id = "x"', 'id = "tianjin"').replace("x/steel-2025", "tianjin/steel-2025").replace("X market", "Tianjin pilot market")
PACK = '''[pack]
id = "tianjin/steel-2025"
kind = "allocation"
schema_version = 1
market = "tianjin"
sector = "steel"
years = [2025]
[allocation]
pre_allocation_ratio = "0.5"  # test value
[compliance.2025]
deadline = "2026-12-31"  # test value
'''


def test_a_third_market_from_data_alone(tmp_path, monkeypatch, clean_caches):
    (tmp_path / "tianjin").mkdir()
    (tmp_path / "tianjin" / "market.toml").write_text(MARKET, encoding="utf-8")
    (tmp_path / "tianjin" / "steel-2025.toml").write_text(PACK, encoding="utf-8")
    monkeypatch.setenv(packs.PACK_DIRS_ENV, str(tmp_path))
    assert "tianjin" in markets.market_ids()
    assert "tianjin/steel-2025" in packs.available_packs()
    tj = load_market("tianjin")
    assert tj.name("en") == "Tianjin pilot market"
    assert sector_name(tj, "steel") == "钢铁"
    assert tj.mechanism("steel", 2025) == "verified_emissions"
    p = pack_for("tianjin", "steel", 2025)
    assert p.path.parent == tmp_path / "tianjin"
    assert p.decimal("allocation.pre_allocation_ratio") == Decimal("0.5")
    assert load_pack("national/power-2023-2024").market == "national"  # shipped packs still found first
    from cets.rules.check import check_path

    assert check_path(tmp_path) == (2, [])
