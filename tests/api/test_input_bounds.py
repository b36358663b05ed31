"""No input reaches a 500: strict integers, bounded ids and pages, unknown ids, missing packs, NUL bytes."""

from __future__ import annotations

import pytest

from tests.conftest import SD_1, client_for

TRANSFER = "/api/v1/registry/transfers"


def _transfer(c, quantity):
    return c.post(TRANSFER, {"key": "k1", "from_account": "x", "to_account": "y", "unit_type": "CEA-2023", "quantity": quantity},
                  content_type="application/json")


@pytest.mark.parametrize("quantity", ["5", True, 5.0, 0, -1, 10**15, 10**30])
def test_quantities_are_strict_bounded_integers(world, quantity):
    r = _transfer(client_for(world.entity_sd1_user), quantity)
    assert r.status_code == 422
    assert "detail" in r.json()


def test_unknown_ids_are_404_and_huge_ids_422(world):
    c = client_for(world.province_sd)
    r = c.post("/api/v1/mrv/reports/999999/sign")
    assert r.status_code == 404
    assert r.json()["code"] == "404"
    assert c.post(f"/api/v1/mrv/reports/{2**70}/sign").status_code == 422
    assert c.get("/api/v1/registry/accounts/X/journal", {"limit": 10**9}).status_code == 422
    assert c.get("/api/v1/entities", {"limit": 10**12}).status_code in (200, 422)


def test_missing_pack_is_a_numbered_refusal(world):
    r = client_for(world.province_sd).get("/api/v1/mrv/lists/nowhere/2024.xlsx")
    assert r.status_code == 422
    assert r.json()["code"] == "S0101"
    assert r.json()["message_zh"]


def test_invalid_decimal_is_422(world):
    r = client_for(world.province_sd).post("/api/v1/mrv/assignments/1/outcome", {"verified_emissions_t": 5, "generation_mwh": "1e5",
                                                                                  "conforming": True, "completed_on": "2024-05-01"},
                                          content_type="application/json")
    assert r.status_code == 422


def test_nul_characters_are_refused_before_the_view(world):
    c = client_for(world.entity_sd1_user)
    assert c.get("/api/v1/entities", {"search": "a\x00b"}).status_code in (400, 422)
    r = c.post("/api/v1/compliance/surrenders", {"key": "a\x00", "entity_uscc": SD_1, "year": 2023, "unit_type": "CEA-2023", "quantity": 1},
               content_type="application/json")
    assert r.status_code in (400, 422)
