"""The operators' lists as XLSX (``format=xlsx``) and their pagination: the workbook holds exactly the rows of the
filtered, jurisdiction-scoped list (every page of it, not the page shown); a name that a spreadsheet would run as a
formula comes out as text; past the export's bound the export is refused (S0501), never cut short. The pure writer
is ``cets.core.tables.xlsx_list``; the views use ``cets.core.exports``."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from tests.conftest import client_for
from tests.web.conftest import YEAR, web  # noqa: F401

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INJECTED = "=cmd|' /C calc'!A0"


def sheet(r):
    assert r.status_code == 200, r.content[:300]
    assert r["Content-Type"] == XLSX
    ws = load_workbook(io.BytesIO(r.content)).active
    return ws, [list(row) for row in ws.iter_rows(min_row=2, values_only=True)]


def test_xlsx_list_keeps_formulas_as_text_and_refuses_past_its_bound():
    from cets.core.errors import CetsError
    from cets.core.tables import xlsx_list

    data = xlsx_list(title="t" * 40, columns=["name", "t"], rows=[[INJECTED, 5], ["+1", -2], ["a\x00b\x07", 0]])
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.title == "t" * 31
    assert [(c.value, c.data_type) for c in ws["A"]][1:] == [(INJECTED, "s"), ("+1", "s"), ("ab", "s")]
    assert [c.value for c in ws["B"]][1:] == [5, -2, 0]
    assert xlsx_list(title="x", columns=["a"], rows=[[1], [2]], max_rows=2)
    with pytest.raises(CetsError) as e:
        xlsx_list(title="x", columns=["a"], rows=[[1], [2], [3]], max_rows=2)
    assert e.value.code == "S0501"


@pytest.mark.django_db
def test_surrender_export_is_the_filtered_list_of_the_viewers_province(web):  # noqa: F811
    from cets.compliance.models import SurrenderApplication

    c = client_for(web.province_sd, verified=True)
    for query in ("?status=", f"?year={YEAR}&status=approved", "?status=submitted", f"?year={YEAR - 1}&status="):
        page = c.get("/compliance/surrenders/" + query)
        shown = [a.pk for a in page.context["page"].object_list]
        _ws, rows = sheet(c.get("/compliance/surrenders/" + query + "&format=xlsx"))
        assert [r[0] for r in rows] == shown
    _ws, rows = sheet(c.get("/compliance/surrenders/?status=&format=xlsx"))
    assert {r[3] for r in rows} == {web.sd1.uscc}  # Shandong's only: Zhejiang's surrender is not in this province's list
    assert SurrenderApplication.objects.filter(obligation__entity=web.zj1).exists()
    assert rows[0][5] == web.sd1.obligations.get(year=YEAR).obligation_t  # tonnes as a number
    assert client_for(web.entity_sd1, verified=True).get("/compliance/surrenders/?format=xlsx").status_code == 404


@pytest.mark.django_db
def test_application_export_equals_the_search_and_an_injected_name_stays_text(web):  # noqa: F811
    from cets.registry.services import application_submit

    kyc = {"phone": "13800000000", "address": "北京市朝阳区某路1号", "occupation": "工程师", "funds_source": "工资收入",
           "bank_account": "6222020000000000000", "risk_acknowledged": True}
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    ids = ["11010519850102123X", "110105198501021248", "110105198501021256"]
    for i, (pid, name) in enumerate(zip(ids, [INJECTED, "王小明", "李小红"], strict=True)):
        application_submit(holder_kind="individual", name=name, resident_id=pid, kyc=dict(kyc), username=f"x-app-{i}",
                           password="a-long-password-1", documents=[("identity_card", "id.png", png)])
    c = client_for(web.registry_a, verified=True)
    ws, rows = sheet(c.post("/registry/applications/", {"q": "", "status": "", "format": "xlsx"}))
    assert sorted(r[2] for r in rows) == sorted([INJECTED, "王小明", "李小红"])
    cell = next(row[2] for row in ws.iter_rows(min_row=2) if row[2].value == INJECTED)
    assert cell.data_type == "s" and cell.quotePrefix  # text, not a formula
    assert all("*" in r[3] for r in rows)  # identity numbers masked, as on the page
    page = c.post("/registry/applications/", {"q": "王小明", "status": ""})
    _ws, rows = sheet(c.post("/registry/applications/", {"q": "王小明", "status": "", "format": "xlsx"}))
    assert [r[0] for r in rows] == [a.reference for a in page.context["rows"]] and len(rows) == 1
    assert client_for(web.province_sd, verified=True).post("/registry/applications/", {"format": "xlsx"}).status_code == 404


@pytest.mark.django_db
def test_application_list_pages_instead_of_stopping(web, settings):  # noqa: F811
    from cets.registry.models import AccountApplication

    for i in range(55):
        AccountApplication.objects.create(reference=f"APP-T-{i:03d}", holder_kind="individual", name=f"申请人{i}", kyc={}, resident_id=f"11010519850101{i:04d}",
                                          username=f"pg-{i}", password_hash="!")
    c = client_for(web.registry_a, verified=True)
    first = c.post("/registry/applications/", {"q": "", "status": ""})
    second = c.post("/registry/applications/", {"q": "", "status": "", "page": "2"})
    seen = [a.reference for a in first.context["rows"]] + [a.reference for a in second.context["rows"]]
    assert len(seen) == len(set(seen)) == 55
    assert 'name="page" value="2"' in first.content.decode()


@pytest.mark.django_db
def test_holder_changes_are_paginated_and_filtered(web):  # noqa: F811
    from django.utils import timezone

    from cets.registry.models import HolderChange

    t0 = timezone.now()
    for i in range(60):
        HolderChange.objects.create(key=f"hc-{i}", kind="merger" if i % 2 else "split", from_holder=web.sd2, to_holder=web.sd1, lines=[],
                                    approved_by=web.province_sd, registered_by=web.registry_a, decision_ref=f"鲁环〔2025〕{i}号",
                                    published_at=t0 - dt.timedelta(hours=i))
    c = client_for(web.nobody)
    pages = [c.get("/public/holder-changes/", {"page": n}).context["changes"] for n in (1, 2)]
    keys = [h.key for p in pages for h in p.object_list]
    assert len(keys) == len(set(keys)) == 60 and keys[0] == "hc-0"
    merged = c.get("/public/holder-changes/", {"kind": "merger"}).context["changes"]
    assert merged.paginator.count == 30 and all(h.kind == "merger" for h in merged.object_list)
    assert c.get("/public/holder-changes/", {"q": "鲁环〔2025〕7号"}).context["changes"].paginator.count == 1
    assert c.get("/public/holder-changes/", {"page": "²"}).status_code == 200


@pytest.mark.django_db
def test_obligation_export_equals_the_filtered_list_of_the_viewers_province(web):  # noqa: F811
    c = client_for(web.province_sd, verified=True)
    for query in ("", "?status=incomplete", "?status=on_time"):
        page = c.get(f"/compliance/{YEAR}/" + query)
        shown = [o.entity.uscc for o, *_ in page.context["rows"]]
        _ws, rows = sheet(c.get(f"/compliance/{YEAR}/" + (query + "&" if query else "?") + "format=xlsx"))
        assert [r[1] for r in rows] == shown
    _ws, rows = sheet(c.get(f"/compliance/{YEAR}/?format=xlsx", HTTP_ACCEPT_LANGUAGE="en"))
    assert {r[1] for r in rows} == {web.sd1.uscc, web.sd2.uscc}  # Shandong's entities only
    full = next(r for r in rows if r[1] == web.sd1.uscc)
    assert (full[2], full[4], full[6]) == (web.sd1.obligations.get(year=YEAR).obligation_t, 0, "on time in full")


@pytest.mark.django_db
def test_security_events_and_notifications_page_instead_of_stopping(web):  # noqa: F811
    from django.utils import timezone

    from cets.parties.models import Notification, SecurityEvent

    SecurityEvent.objects.bulk_create([SecurityEvent(kind=SecurityEvent.Kind.LOGIN_FAILED, username=f"u{i}") for i in range(620)])
    org = web.sd1
    Notification.objects.bulk_create([Notification(organisation=org, kind="test", title_zh=f"通知{i}", title_en=f"note {i}",
                                                   created_at=timezone.now() - dt.timedelta(minutes=i)) for i in range(230)])
    mee = client_for(web.mee, verified=True)
    first = mee.get("/security-events/")
    assert first.context["page"].paginator.count == SecurityEvent.objects.count() >= 620
    last = mee.get("/security-events/", {"page": first.context["page"].paginator.num_pages})
    assert last.status_code == 200 and len(last.context["events"]) >= 1
    ent = client_for(web.entity_sd1, verified=True)
    pages = [ent.get("/notifications/", {"page": n}).context["items"] for n in range(1, 6)]
    seen = [n.pk for p in pages for n in p]
    assert len(seen) == len(set(seen)) == Notification.objects.filter(organisation=org).count() >= 230


@pytest.mark.django_db
def test_the_applications_api_pages_with_limit_and_offset(web):  # noqa: F811
    from cets.registry.models import AccountApplication

    for i in range(7):
        AccountApplication.objects.create(reference=f"APP-O-{i:03d}", holder_kind="individual", name=f"申请人{i}", kyc={},
                                          resident_id=f"11010519850101{i:04d}", username=f"po-{i}", password_hash="!")
    c = client_for(web.registry_a, verified=True)
    got = [a["reference"] for off in (0, 3, 6) for a in c.get("/api/v1/registry/applications", {"limit": 3, "offset": off}).json()]
    assert sorted(got) == [f"APP-O-{i:03d}" for i in range(7)]
    assert c.get("/api/v1/registry/applications", {"offset": -1}).status_code == 422


@pytest.mark.django_db
def test_pending_proposals_page_instead_of_stopping_at_fifty(web):  # noqa: F811
    from cets.registry.models import UnitType
    from cets.registry.services import IssuanceLine, issuance_propose

    cea = UnitType.objects.get(code__contains=str(YEAR))
    account = web.sd2.accounts.first().number
    made = {issuance_propose(key=f"pp-{i}", unit_type=cea, lines=[IssuanceLine(account=account, quantity=i + 1)], actor=web.registry_b).pk
            for i in range(55)}
    c = client_for(web.registry_a, verified=True)
    first, second = c.get("/registry/"), c.get("/registry/", {"page": 2})
    shown = [s.proposal.pk for r in (first, second) for s in r.context["pending"]]
    assert len(shown) == len(set(shown)) and made <= set(shown) and first.context["pending_total"] == len(shown)
    assert 'rel="next"' in first.content.decode()
