"""Dashboards per role and the entity page, on the small world of conftest."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import NAMES, SD_1, SD_2, ZJ_1

pytestmark = pytest.mark.django_db


def html(r) -> str:
    assert r.status_code == 200, r.status_code
    return r.content.decode()


def test_national_dashboard_has_every_province(client, web):
    client.force_login(web.mee)
    r = client.get("/")
    page = html(r)
    assert "web/dashboard_national.html" in [t.name for t in r.templates]
    assert "山东省" in page
    assert "浙江省" in page
    rows = {row.province: row for row in r.context["rows"]}
    assert rows["37"].entities == 2
    assert rows["33"].entities == 1
    assert rows["37"].verified_emissions_t == 1_200_000
    assert rows["37"].final_allocation_t == 795_000 + 400_000
    assert rows["37"].surrendered_t == 700_000
    assert rows["37"].outcomes == {"on_time": 1, "incomplete": 1}
    assert rows["33"].outcomes == {"late": 1}
    assert r.context["total"].verified_emissions_t == 1_400_000
    # compliance progress: Σ surrendered 700,000 + 200,000 of Σ verified 1,400,000 = 64 % (rounded down), and the chart
    assert r.context["total"].surrendered_t == 900_000
    assert '<strong id="progress-pct">64%</strong>' in page
    bars = {g.label: [b.label for b in g.bars] for g in r.context["chart"].groups}
    assert bars == {"山东省": ["1,200,000", "1,195,000", "700,000"], "浙江省": ["200,000", "200,000", "200,000"]}
    assert "1,400,000" in page
    assert "1,395,000" in page


def test_provincial_dashboard_is_its_province_only(client, web):
    client.force_login(web.province_sd)
    r = client.get("/")
    page = html(r)
    assert "web/dashboard_provincial.html" in [t.name for t in r.templates]
    assert [row.province for row in r.context["rows"]] == ["37"]
    assert "浙江省" not in page
    assert NAMES[ZJ_1] not in page
    # the late/incomplete list: SD_2 surrendered nothing (incomplete); SD_1 was on time
    problems = r.context["problems"]
    assert [p.entity.uscc for p in problems] == [SD_2]
    assert NAMES[SD_2] in page
    assert "500,000" in page
    assert NAMES[SD_1] not in page


def test_zhejiang_dashboard_lists_its_late_entity(client, web):
    client.force_login(web.province_zj)
    page = html(client.get("/"))
    assert NAMES[ZJ_1] in page
    assert "逾期足额履约" in page
    assert NAMES[SD_2] not in page
    assert "山东省" not in page


def test_entity_dashboard(client, web):
    client.force_login(web.entity_sd1)
    r = client.get("/")
    page = html(r)
    assert "web/dashboard_entity.html" in [t.name for t in r.templates]
    s = r.context["summary"]
    assert s.entity == web.sd1
    assert s.obligation.obligation_t == 700_000
    assert s.status.status == "on_time"
    assert NAMES[SD_1] in page
    assert "700,000" in page
    assert "795,000" in page
    assert "按时足额履约" in page
    # what is left after surrendering 700,000 of 795,000
    assert "CEA-2023" in page
    assert "95,000" in page
    # obligation against surrendered and held now, drawn as bars
    assert [(g.label, g.bars[0].label) for g in r.context["chart"].groups] == [("应清缴配额量", "700,000"), ("已清缴（吨）", "700,000"),
                                                                              ("当前持有（吨）", "95,000")]
    assert "<svg" in page
    assert NAMES[SD_2] not in page
    assert NAMES[ZJ_1] not in page


def test_registry_dashboard(client, web):
    client.force_login(web.registry_a)
    r = client.get("/")
    page = html(r)
    assert "web/dashboard_registry.html" in [t.name for t in r.templates]
    keys = {p.proposal.key: p for p in r.context["proposals"]}
    assert set(keys) == {"allocation-national-power-2023-pre", "allocation-national-power-2023-final"}
    assert keys["allocation-national-power-2023-pre"].issue_t == 476_000 + 336_000 + 133_000
    assert keys["allocation-national-power-2023-pre"].proposal.status == "executed"
    assert "w-ra" in page
    assert "w-rb" in page
    assert "已执行" in page
    [cea] = [row for row in r.context["reconciliation"] if row["unit_type"] == "CEA-2023"]
    assert cea["created_ok"]
    assert cea["issued_ok"]
    assert cea["surrendered_t"] == 900_000
    assert "CEA-2023" in page
    assert "1,395,000" in page
    assert "✓" in page


def test_entity_page_shows_allocation_inputs_and_results(client, web):
    client.force_login(web.province_sd)
    page = html(client.get(f"/entities/{SD_2}/"))
    # organisation facts and unit
    assert NAMES[SD_2] in page
    assert SD_2 in page
    assert "300MW等级及以下常规燃煤机组" in page
    # unit line: inputs of the formula with the notices' Chinese field names (the English names only on English pages)
    assert "generation (MWh)" not in page
    english = html(client.get(f"/entities/{SD_2}/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "generation (MWh)" in english and "pre-allocation" in english
    assert '<span class="term-zh" lang="zh-Hans">发电量</span>' in english  # the official term under the English name
    for label in ("发电量", "供热量", "负荷（出力）系数", "发电基准值", "供热基准值", "调峰修正系数",
                  "发电配额量", "供热配额量", "燃气机组补发量", "机组核定配额量", "预分配配额量"):
        assert label in page, label
    for value in ("400,000", "100,000", "0.5", "0.809", "0.1038", "1.093443", "353,838", "10,380", "364,218", "336,000"):
        assert value in page, value
    # entity line: initial, 20% cap top-up, final, issue delta
    for label in ("初始配额量", "履约缺口率上限补发量", "应发配额量", "实发配额量（多退少补）", "核查排放量"):
        assert label in page, label
    for value in ("35,782", "400,000", "+64,000"):
        assert value in page, value
    # unconfirmed rule-pack values are noted in the page's language, without the pack's keys and tags (developer notes)
    assert "F≥65%时Ff=1一行在PDF文本提取中缺失" in page
    assert "peak_regulation.threshold" not in page
    assert "cn-ets-rules.md" not in page
    # compliance: obligation, offset cap (5%), outstanding, status
    assert "应清缴配额量" in page
    assert "25,000" in page
    assert "未足额履约" in page


def test_entity_page_journal_holdings_and_surrender(client, web):
    client.force_login(web.entity_sd1)
    r = client.get(f"/entities/{SD_1}/")
    page = html(r)
    d = r.context["d"]
    kinds = [j.transfer.kind for j in d.journal]
    assert kinds == ["surrender", "position_move", "issue", "issue"]  # newest first
    assert [j.direction for j in d.journal] == ["out", "move", "in", "in"]
    assert d.journal[0].transfer.hash[:12] in page
    assert "+476,000" in page
    assert "+319,000" in page
    assert "−700,000" in page
    assert [(h.unit_type.code, h.position, h.quantity) for h in d.holdings] == [("CEA-2023", "registry", 95_000)]
    assert "已确认" in page
    assert "2024-12-20" in page
    # verification record
    assert "VER-T001" in page
    assert "网测核查技术服务有限公司" in page


def test_zh_default_and_english_switch(client, web):
    client.force_login(web.province_sd)
    zh = html(client.get("/"))
    assert "退出登录" in zh
    assert "Log out" not in zh
    assert 'lang="zh-hans"' in zh
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/entities/"})
    assert r.status_code == 302
    assert r["Location"] == "/entities/"
    en = html(client.get("/"))
    assert "Log out" in en
    assert "退出登录" not in en
    assert 'lang="en"' in en
    assert "Late or incomplete surrender" in en
    assert "Shandong" in en
    assert "incomplete" in en
    # the notices' field names stay bilingual in both languages
    detail = html(client.get(f"/entities/{SD_2}/"))
    assert "预分配配额量" in detail
    assert "pre-allocation" in detail
    assert "Unconfirmed rule-pack values" in detail
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "退出登录" in html(client.get("/"))


@pytest.mark.parametrize("who", ["mee", "province_sd", "entity_sd1", "registry_a", "nobody"])
def test_pages_only_read(client, web, who):
    """No page writes to the database (the session aside: every request pushes its idle expiry on)."""
    client.force_login(getattr(web, who))
    paths = ["/", "/entities/", "/entities/?q=鲁", f"/entities/{SD_1}/", f"/entities/{ZJ_1}/"]
    with CaptureQueriesContext(connection) as ctx:
        for p in paths:
            assert client.get(p).status_code in (200, 404)
    writes = [q["sql"] for q in ctx.captured_queries
              if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and '"django_session"' not in q["sql"]]
    assert writes == []


def test_admin_link_only_for_staff(client, web):
    client.force_login(web.mee)
    assert 'href="/admin/"' not in html(client.get("/"))
    web.mee.is_staff = True
    web.mee.save(update_fields=["is_staff"])
    assert 'href="/admin/"' in html(client.get("/"))


def test_year_parameter(client, web):
    client.force_login(web.mee)
    r = client.get("/", {"year": "2024"})
    assert r.context["year"] == 2024
    assert r.context["total"].final_allocation_t == 0
    assert client.get("/", {"year": "abc"}).context["year"] == 2023
