"""``cets rules check``: one broken temporary pack or market file per kind of problem; the shipped ones pass."""

import pytest

from cets.cli import main
from cets.rules.check import check_market_file, check_pack_file, check_path

GOOD = '''[pack]
id = "x/steel-2025"
kind = "allocation"
schema_version = 1
market = "x"
sector = "steel"
years = [2025]
[allocation]
ratio = "0.5"
issue_within_working_days = 5
[compliance.2025]
deadline = "2026-12-31"
offset_rounding = "floor"
[rounding]
allocation = "half_up:6"
[[unconfirmed]]
key = "allocation.ratio"
tag = "U"
note_en = "test"
note_zh = "测试"
'''


def _pack(tmp_path, text, name="steel-2025"):
    (tmp_path / "x").mkdir(exist_ok=True)
    f = tmp_path / "x" / f"{name}.toml"
    f.write_text(text, encoding="utf-8")
    return f


def _keys(problems):
    return [(p.key, p.message) for p in problems]


def test_shipped_packs_and_markets_pass(capsys):
    count, problems = check_path()
    assert count >= 22
    assert problems == []
    assert main(["rules", "check"]) == 0


def test_good_pack_passes(tmp_path):
    assert check_pack_file(_pack(tmp_path, GOOD)) == []


@pytest.mark.parametrize("old, new, key, words", [
    ('kind = "allocation"\n', "", "pack.kind", "missing"),
    ('schema_version = 1\n', "", "pack.schema_version", "missing"),
    ('years = [2025]\n', "", "pack.years", "missing"),
    ('sector = "steel"\n', "", "pack.sector", "missing"),
    ('id = "x/steel-2025"', 'id = "x/steel-2026"', "pack.id", "expected 'x/steel-2025'"),
    ('market = "x"', 'market = "y"', "pack.market", "folder name"),
    ('kind = "allocation"', 'kind = "allowance"', "pack.kind", "not one of"),
    ("schema_version = 1", "schema_version = 2", "pack.schema_version", "not supported"),
    ("years = [2025]", 'years = ["2025"]', "pack.years", "list of years"),
    ('ratio = "0.5"', "ratio = 0.5", "allocation.ratio", "float"),
    ('ratio = "0.5"', "ratio = 2", "allocation.ratio", "quoted decimal string"),
    ('deadline = "2026-12-31"', 'deadline = "2026-12-32"', "compliance.2025.deadline", "ISO date"),
    ('deadline = "2026-12-31"', 'deadline = "end of year"', "compliance.2025.deadline", "ISO date"),
    ('offset_rounding = "floor"', 'offset_rounding = "down"', "compliance.2025.offset_rounding", "rounding"),
    ('allocation = "half_up:6"', 'allocation = "bankers"', "rounding.allocation", "rounding"),
    ('key = "allocation.ratio"', 'key = "allocation.nothing"', "unconfirmed[0].key", "names no value"),
])
def test_each_kind_of_pack_problem(tmp_path, old, new, key, words):
    assert old in GOOD
    problems = check_pack_file(_pack(tmp_path, GOOD.replace(old, new)))
    assert any(k == key and words in m for k, m in _keys(problems)), problems


def test_bad_toml_and_cli_exit(tmp_path, capsys):
    f = _pack(tmp_path, GOOD.replace('ratio = "0.5"', "ratio = 0.5"))
    _pack(tmp_path, "[pack\n", "broken-2025")
    assert main(["rules", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{f}: allocation.ratio: is a float" in out
    assert "broken-2025.toml: -: not a valid UTF-8 TOML file" in out


MARKET = '''schema_version = 1
[market]
id = "x"
name_zh = "某市场"
name_en = "X market"
calendar = "cn_workdays"
jurisdiction_levels = ["city"]
account_kinds = ["entity"]
[[instruments]]
code = "XEA"
name_zh = "配额"
name_en = "allowance"
unit_type = "XEA-{vintage}"
[[sectors]]
code = "steel"
name_zh = "钢铁"
name_en = "steel"
[[packs]]
kind = "allocation"
sector = "steel"
years = [2025]
pack = "x/steel-2025"
mechanism = "verified_emissions"
[[packs]]
kind = "compliance"
sector = "*"
years = [2025]
pack = "x/steel-2025"
'''


def _market(tmp_path, text):
    _pack(tmp_path, GOOD)
    f = tmp_path / "x" / "market.toml"
    f.write_text(text, encoding="utf-8")
    return f


def test_good_market_passes(tmp_path):
    assert check_market_file(_market(tmp_path, MARKET)) == []
    assert check_path(tmp_path) == (2, [])


SECTOR2 = '[[sectors]]\ncode = "steel"\nname_zh = "钢铁"\nname_en = "steel"\n'


@pytest.mark.parametrize("old, new, key, words", [
    ('id = "x"', 'id = "z"', "market.id", "folder name"),
    ('calendar = "cn_workdays"\n', "", "market.calendar", "missing"),
    ("schema_version = 1", "schema_version = 9", "schema_version", "not supported"),
    ('jurisdiction_levels = ["city"]', "jurisdiction_levels = []", "market.jurisdiction_levels", "non-empty"),
    ("[[packs]]\nkind = \"allocation\"", SECTOR2 + "[[packs]]\nkind = \"allocation\"", "sectors[1].code", "not unique"),
    ('pack = "x/steel-2025"\nmechanism', 'pack = "x/steel-2024"\nmechanism', "packs[0].pack", "no pack"),
    ("years = [2025]\npack = \"x/steel-2025\"\nmechanism", "years = [2024, 2025]\npack = \"x/steel-2025\"\nmechanism", "packs[0].years",
     "does not cover [2024]"),
    ('mechanism = "verified_emissions"\n', "", "packs[0].mechanism", "names its mechanism"),
    ('sector = "steel"\nyears', 'sector = "glass"\nyears', "packs[0].sector", "not a sector"),
    ('kind = "compliance"', 'kind = "trading"', "packs[1].pack", "no [trading] table"),
    ('kind = "compliance"\nsector = "*"', 'kind = "allocation"\nsector = "steel"\nmechanism = "m"', "packs[1]", "already given"),
])
def test_each_kind_of_market_problem(tmp_path, old, new, key, words):
    assert old in MARKET
    problems = check_market_file(_market(tmp_path, MARKET.replace(old, new, 1)))
    assert any(k == key and words in m for k, m in _keys(problems)), problems
