"""The what-if page of the authorities (issue 17): the national authority sees every entity, a provincial authority
its province only (the same national computation, filtered), others get 404; the XLSX download follows the reader's
scope; a bad query is a numbered refusal, never a 500. Figures: tests/allocation/test_whatif.py (by hand)."""

from __future__ import annotations

import io

import pytest

from tests.allocation.test_whatif import DRAFT_POWER, DRAFT_STEEL, year2024  # noqa: F401 (fixture)
from tests.conftest import SD_1, SD_2, ZJ_1

URL = "/supervision/whatif/"
QUERY = {"pack": [DRAFT_POWER, DRAFT_STEEL], "base": "national/2024"}


def _get(client, user, url=URL, **q):
    client.force_login(user)
    return client.get(url, q or QUERY)


@pytest.mark.django_db
def test_the_national_authority_sees_every_province(year2024, client):  # noqa: F811
    r = _get(client, year2024.mee)
    assert r.status_code == 200
    body = r.content.decode()
    assert SD_1 in body and ZJ_1 in body
    run = r.context["result"]
    assert {t.key: t.draft_t for t in run.totals("sector")} == {"power": 238_700, "steel": 200_000}
    assert "<svg" in body and 'id="whatif-download"' in body
    assert "配额方案模拟" in body and "草案配额量（吨）" in body and "238,700" in body  # Chinese by default


@pytest.mark.django_db
def test_a_provincial_authority_sees_its_province_only(year2024, client):  # noqa: F811
    r = _get(client, year2024.province_zj)
    body = r.content.decode()
    assert ZJ_1 in body and SD_1 not in body and SD_2 not in body
    g = r.context["total"]
    assert (g.entities, g.verified_t, g.base_t, g.draft_t) == (1, 40_000, 40_000, 40_000)
    r = _get(client, year2024.province_sd)
    assert {t.key for t in r.context["result"].totals("province")} == {"37"}
    assert r.context["total"].draft_t == 398_700


@pytest.mark.django_db
def test_the_download_follows_the_readers_scope(year2024, client):  # noqa: F811
    from openpyxl import load_workbook

    r = _get(client, year2024.province_sd, url="/supervision/whatif.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    usccs = {row[0] for row in wb["重点排放单位"].iter_rows(min_row=4, values_only=True)}
    assert usccs == {SD_1, SD_2}


@pytest.mark.django_db
def test_others_get_404_and_bad_queries_a_refusal(year2024, client):  # noqa: F811
    assert _get(client, year2024.entity_sd1_user).status_code == 404
    assert _get(client, year2024.registry_a, url="/supervision/whatif.xlsx").status_code == 404
    client.force_login(year2024.mee)
    for q, code in (({"pack": DRAFT_POWER, "base": "national/20x4"}, "A0202"), ({"pack": "national/none", "base": "national/2024"}, "A0201"),
                    ({"pack": [DRAFT_POWER, DRAFT_POWER], "base": "national/2024"}, "A0204"),
                    ({"pack": DRAFT_POWER, "base": "national/2024", "rules_year": "2031"}, "A0117")):
        r = client.get(URL, q)
        assert r.status_code == 200 and code in r.content.decode() and r.context["result"] is None
    r = client.get("/supervision/whatif.xlsx", {"pack": DRAFT_POWER, "base": "x"}, follow=True)
    assert r.status_code == 200 and "A0202" in r.content.decode()


@pytest.mark.django_db
def test_the_api_gives_the_same_run_in_the_callers_scope(year2024, client):  # noqa: F811
    client.force_login(year2024.province_sd)
    body = {"packs": [DRAFT_POWER, DRAFT_STEEL], "base": "national/2024"}
    r = client.post("/api/v1/supervision/whatif", body, content_type="application/json")
    assert r.status_code == 200, r.content
    d = r.json()
    assert [p["key"] for p in d["by_province"]] == ["37"]
    assert d["total"]["draft_t"] == 398_700 and d["total"]["base_t"] == 399_140
    assert {(e["sector"], e["uscc"]): e["draft_balance_t"] for e in d["entities"]} == {
        ("power", SD_1): -8_470, ("power", SD_2): -9_830, ("steel", SD_1): 1_500, ("steel", SD_2): -1_500}
    r = client.post("/api/v1/supervision/whatif", dict(body, rules_year="2026"), content_type="application/json")
    assert r.status_code == 422  # a year is an int, never a string
    r = client.post("/api/v1/supervision/whatif", dict(body, base="national"), content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "A0202"
    client.force_login(year2024.entity_sd1_user)
    assert client.post("/api/v1/supervision/whatif", body, content_type="application/json").status_code == 403
