from decimal import Decimal

import pytest

from cets.rules import packs
from cets.rules.packs import PackError, load_pack, pack_for


def test_power_pack_values_are_exact_decimals():
    p = load_pack("national/power-2023-2024")
    assert p.decimal("benchmarks.2023.electricity.I") == Decimal("0.7950")
    assert p.decimal("benchmarks.2024.heat.gas") == Decimal("0.0533")
    assert p.date("compliance.2023.deadline").isoformat() == "2024-12-31"
    assert pack_for("national", "power", 2024).id == p.id


def test_unconfirmed_values_are_flagged():
    p = load_pack("national/power-2023-2024")
    assert p.is_unconfirmed("peak_regulation.threshold")
    assert p.is_unconfirmed("rounding.ff")
    assert not p.is_unconfirmed("benchmarks.2023.electricity.I")


def test_float_in_pack_refused(tmp_path, monkeypatch):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "bad-2023.toml").write_text('[pack]\nid = "x/bad-2023"\nratio = 0.7\n')
    monkeypatch.setenv("CETS_PACK_DIRS", str(tmp_path))  # an extra pack folder (the documented way)
    packs.load_pack.cache_clear()
    try:
        with pytest.raises(PackError, match="float"):
            packs.load_pack("x/bad-2023")
    finally:
        packs.load_pack.cache_clear()


def test_unknown_pack():
    with pytest.raises(PackError):
        load_pack("national/power-1999")
    with pytest.raises(PackError):
        load_pack("../../settings")
