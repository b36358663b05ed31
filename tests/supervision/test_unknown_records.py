"""Supervision actions naming a record that does not exist are numbered refusals (G1201 blacklist entry, G1202 joint
notice, G1203 report), not 500s; the supervision API's lists page with ``limit``/``offset`` instead of stopping."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from tests.conftest import client_for
from tests.supervision.conftest import sup  # noqa: F401
from tests.web.conftest import web  # noqa: F401


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "data", "code"), [
    ("lift", {"entry_id": "999999"}, "G1201"), ("lift", {}, "G1201"), ("lift", {"entry_id": str(10**20)}, "G1201"),
    ("dispatch", {"notice_id": "999999", "department": "tax"}, "G1202"),
    ("close", {"receipt": "NO-SUCH-RECEIPT", "feedback": "已核实"}, "G1203"), ("close", {"receipt": "x" * 10_000, "feedback": "x"}, "G1203"),
])
def test_an_action_on_a_record_that_does_not_exist_is_refused_with_its_code(sup, action, data, code):  # noqa: F811
    from cets.supervision.models import BlacklistEntry, PublicReport

    before = (list(BlacklistEntry.objects.values_list("pk", "lifted_on")), list(PublicReport.objects.values_list("pk", "status")))
    c = client_for(sup.web.mee, verified=True)
    r = c.post(f"/supervision/{action}/", data)
    assert r.status_code == 302
    assert [str(m).split(" ")[0] for m in get_messages(r.wsgi_request)] == [code]
    assert (list(BlacklistEntry.objects.values_list("pk", "lifted_on")), list(PublicReport.objects.values_list("pk", "status"))) == before


@pytest.mark.django_db
def test_supervision_api_lists_page_with_limit_and_offset(sup):  # noqa: F811
    from cets.registry.models import Proposal

    c = client_for(sup.web.mee, verified=True)
    alerts = c.get("/api/v1/supervision/stabilisation/alerts?limit=5&offset=0")
    assert alerts.status_code == 200 and alerts.json() == {"items": [], "count": 0}
    for i in range(3):
        Proposal.objects.create(key=f"rf-{i}", kind="reserve_fund", payload={"unit_type": "CEA-2023", "quantity": i + 1}, proposed_by=sup.web.registry_a)
    body = c.get("/api/v1/supervision/reserve?limit=2&offset=0").json()
    assert body["proposals_count"] == 3 and len(body["proposals"]) == 2
    rest = c.get("/api/v1/supervision/reserve?limit=2&offset=2").json()["proposals"]
    assert {p["key"] for p in body["proposals"] + rest} == {"rf-0", "rf-1", "rf-2"}
    assert c.get("/api/v1/supervision/reserve?limit=0").status_code == 422
    assert c.get("/api/v1/supervision/reserve?offset=-1").status_code == 422


@pytest.mark.django_db
def test_credit_records_export_is_what_the_authority_sees(sup):  # noqa: F811
    import io

    from openpyxl import load_workbook

    from cets.supervision import selectors, services

    services.credit_record_create(actor=sup.web.province_zj, subject_id=sup.web.zj1.pk, kind="non_compliance", reason="=cmd|x",
                                  source_reference="浙环罚〔2025〕2号")
    for user in (sup.web.province_sd, sup.web.mee):
        r = client_for(user, verified=True).get("/supervision/", {"list": "credit", "format": "xlsx"})
        assert r.status_code == 200
        ws = load_workbook(io.BytesIO(r.content)).active
        rows = [list(x) for x in ws.iter_rows(min_row=2, values_only=True)]
        assert sorted(row[5] for row in rows) == sorted(c.source_reference for c in selectors.credit_records_visible(user=user))
        assert all(c.data_type == "s" for c in ws["E"])
    assert "浙环罚〔2025〕2号" in {row[5] for row in rows}  # the national authority sees Zhejiang's record too
