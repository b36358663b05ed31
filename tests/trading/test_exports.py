"""The exchange's orders and trades lists as XLSX: the same filtered rows as the page, every page of them, and a
participant's export holds only its own orders. Market and clock: tests/trading/conftest.py."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from tests.conftest import client_for
from tests.trading.test_pages import form_key, place


def rows_of(r) -> list[list]:
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats"), r.content[:300]
    return [list(x) for x in load_workbook(io.BytesIO(r.content)).active.iter_rows(min_row=2, values_only=True)]


def test_orders_export_equals_the_filtered_list_and_stays_in_the_viewers_scope(exchange):
    x = exchange
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    for c, price in ((a, "96.00"), (a, "97.50"), (b, "98.00")):
        assert place(c, form_key(c.get("/trading/?instrument=CEA23").content.decode(), "/trading/order/"), price=price).status_code == 302
    op = client_for(x.operator, verified=True)
    page = op.get("/trading/orders/", {"status": "resting"})
    rows = rows_of(op.get("/trading/orders/", {"status": "resting", "format": "xlsx"}))
    assert [r[0] for r in rows] == [o.seq for o in page.context["orders"]] and len(rows) == 3
    assert sorted(r[6] for r in rows) == [Decimal("96"), Decimal("97.5"), Decimal("98")]  # CNY/t as numbers
    mine = rows_of(a.get("/trading/orders/", {"format": "xlsx"}))
    assert len(mine) == 2 and {r[2] for r in mine} == {x.w.sd1.uscc}
    assert rows_of(op.get("/trading/orders/", {"format": "xlsx", "list": "trades"})) == []


def test_members_export_lists_every_member_with_its_clients_and_keeps_an_injected_name_as_text(exchange):
    from cets.parties.models import Organisation
    from cets.trading import services as ts
    from tests.conftest import uscc_for

    x = exchange
    names = ["=HYPERLINK(\"http://x\")", "某会员公司"]
    for i, name in enumerate(names):
        org = Organisation.objects.create(kind=Organisation.Kind.INSTITUTION, name=name, uscc=uscc_for(70 + i, "9131000"), province="31")
        m = ts.member_admit(organisation=org, kind="comprehensive", code=f"M00{i}", actor=x.operator)
    ts.member_client_add(member=m, participant=x.w.sd1, actor=x.operator)
    op = client_for(x.operator, verified=True)
    r = op.get("/trading/members/", {"format": "xlsx"})
    rows = rows_of(r)
    assert [(row[0], row[1]) for row in rows] == [("M000", names[0]), ("M001", names[1])]
    assert x.w.sd1.name in rows[1][7]
    cell = load_workbook(io.BytesIO(r.content)).active["B2"]
    assert cell.data_type == "s" and cell.value == names[0]
    assert client_for(x.sd1_user, verified=True).get("/trading/members/", {"format": "xlsx"}).status_code in (403, 404)


def test_fund_entries_page_instead_of_stopping(exchange):
    from cets.trading.funds import funds_deposit

    x = exchange
    for i in range(60):
        funds_deposit(key=f"pg-dep-{i}", holder=x.w.sd1, amount_fen=100 + i, actor=None)
    a = client_for(x.sd1_user, verified=True)
    pages = [a.get("/trading/funds/", {"page": n}) for n in (1, 2, "²")]
    seen = [e.seq for p in pages[:2] for e in p.context["funds"].entries]
    total = pages[0].context["funds"].entries_total
    assert total >= 61 and len(seen) == len(set(seen)) == total
    assert pages[2].status_code == 200 and [e.seq for e in pages[2].context["funds"].entries] == seen[:50]
    api = [a.get("/api/v1/trading/funds", {"limit": 40, "offset": off}).json() for off in (0, 40)]
    assert api[0]["entries_count"] == total and len({e["seq"] for r in api for e in r["entries"]}) == total
