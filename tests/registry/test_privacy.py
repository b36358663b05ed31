"""Privacy on the ledger (issue 16): after a trade on the exchange, each side's journal and statement
show the exchange, never the other side's account number, name or credit code — API JSON (journal,
statement), the statement's HTML (the PDF's source), its XLSX, and the entity page; the registry
operator still sees both legs. A holder's own transfer still names the account the holder chose.

The probe reproduced: Shandong entity 1 (SD_1) lists 1,000 t at 96.00 CNY, entity 2 (SD_2) takes 400 t
through the exchange's API (tests/trading/conftest.py: CEA23 open on 2024-11-04, clock at 10:00).
"""

from __future__ import annotations

import datetime as dt
import io

import pytest

from cets.registry import privacy, reports
from tests.conftest import SD_1, SD_2, client_for
from tests.trading.conftest import clock, exchange, market  # noqa: F401 (fixtures)

REG = "/api/v1/registry"
PERIOD = {"date_from": "2024-11-01", "date_to": "2024-11-30"}


def _trade(x) -> None:
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    r = a.post("/api/v1/trading/orders", {"instrument": "CEA23", "method": "listing", "side": "S", "price": "96.00", "quantity_t": 1_000},
               content_type="application/json", HTTP_IDEMPOTENCY_KEY="q1")
    assert r.status_code == 200, r.content
    r = b.post("/api/v1/trading/take", {"quote": r.json()["seq"], "quantity_t": 400, "key": "t1"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "filled", r.content


def _traces(w, code: str) -> list[str]:
    """What would identify the holder ``code``: its account number, name and credit code."""
    org = w.sd1 if code == SD_1 else w.sd2
    return [w.accounts[code].number, org.name, org.uscc]


def _clean(text: str, traces: list[str]) -> None:
    for t in traces:
        assert t not in text, f"{t!r} leaked"


@pytest.mark.parametrize(("me", "other"), [(SD_1, SD_2), (SD_2, SD_1)])
def test_each_side_of_a_trade_sees_the_exchange_not_the_counterparty(exchange, me, other):  # noqa: F811
    x = exchange
    w = x.w
    _trade(x)
    user = x.sd1_user if me == SD_1 else x.sd2_user
    c = client_for(user)
    mine, traces = w.accounts[me].number, _traces(w, other)

    journal = c.get(f"{REG}/accounts/{mine}/journal")
    assert journal.status_code == 200
    _clean(journal.content.decode(), traces)
    delivery = [t for t in journal.json() if t["key"].startswith("trade-")]
    assert len(delivery) == 1
    d = delivery[0]
    assert d["quantity_t"] == 400
    # the seller's pending position → the buyer's trading position; the other side is the exchange
    assert (d["debit_account"], d["credit_account"]) == ((mine, "exchange") if me == SD_1 else ("exchange", mine))

    st = c.get(f"{REG}/reports/accounts/{mine}/statement", PERIOD)
    assert st.status_code == 200
    _clean(st.content.decode(), traces)
    lines = [ln for ln in st.json()["lines"] if ln["key"].startswith("trade-")]
    assert [(ln["counterparty"], ln["debit_t"], ln["credit_t"]) for ln in lines] == [("exchange", 400, 0) if me == SD_1 else ("exchange", 0, 400)]
    assert st.json()["balanced"]

    # the statement's HTML (the PDF is rendered from it) and XLSX, built for the holder's view
    s = reports.account_statement(w.accounts[me], dt.date(2024, 11, 1), dt.date(2024, 11, 30))
    html = reports.statement_html(s)
    _clean(html, traces)
    assert privacy.EXCHANGE_LABEL in html
    from openpyxl import load_workbook

    x_cells = " ".join(str(v) for ws in load_workbook(io.BytesIO(reports.statement_xlsx(s))).worksheets
                       for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    _clean(x_cells, traces)
    assert privacy.EXCHANGE_LABEL in x_cells
    xlsx = c.get(f"{REG}/reports/accounts/{mine}/statement.xlsx", PERIOD)
    assert xlsx.status_code == 200
    _clean(" ".join(str(v) for ws in load_workbook(io.BytesIO(xlsx.content)).worksheets for row in ws.iter_rows(values_only=True)
                    for v in row if v is not None), traces)

    page = c.get(f"/entities/{me}/")
    assert page.status_code == 200
    _clean(page.content.decode(), traces)
    assert privacy.EXCHANGE_LABEL in page.content.decode()


def test_the_registry_operator_sees_both_legs(exchange):  # noqa: F811
    x = exchange
    w = x.w
    _trade(x)
    sd1, sd2 = w.accounts[SD_1].number, w.accounts[SD_2].number
    op = client_for(w.registry_a, verified=True)
    for mine, other in ((sd1, sd2), (sd2, sd1)):
        journal = op.get(f"{REG}/accounts/{mine}/journal").json()
        d = next(t for t in journal if t["key"].startswith("trade-"))
        assert (d["debit_account"], d["credit_account"]) == (sd1, sd2)
        st = op.get(f"{REG}/reports/accounts/{mine}/statement", PERIOD).json()
        assert [ln["counterparty"] for ln in st["lines"] if ln["key"].startswith("trade-")] == [other]
    page = op.get(f"/entities/{SD_1}/").content.decode()
    assert sd2 in page
    # the exchange operator is a party to both sides and sees them too
    assert privacy.sees_both_legs(x.operator)
    s = reports.account_statement(w.accounts[SD_1], dt.date(2024, 11, 1), dt.date(2024, 11, 30), counterparties=True)
    assert sd2 in reports.statement_html(s)


def test_authorities_reading_a_holder_see_the_exchange_too(exchange):  # noqa: F811
    """Only the roles of privacy.FULL_VIEW_ROLES see both legs; the entity's provincial authority reads its
    statement as the holder does."""
    x = exchange
    w = x.w
    _trade(x)
    for user in (w.province_sd, w.mee):
        assert not privacy.sees_both_legs(user)
        r = client_for(user).get(f"{REG}/reports/accounts/{w.accounts[SD_1].number}/statement", PERIOD)
        assert r.status_code == 200
        _clean(r.content.decode(), _traces(w, SD_2))


def test_a_holders_own_transfer_still_names_the_account_it_chose(world):
    """Only a trade's delivery (pending → trading of another account) is shown as the exchange: a holder's
    transfer (registry → registry) and an operator's transfer out of pending (→ registry) are not."""
    from cets.registry.models import AccountKind, Position, TransferKind
    from cets.registry.services import Leg, holding_transfer, system_account, transfer_post

    w = world
    sd1, sd2 = w.accounts[SD_1], w.accounts[SD_2]
    transfer_post(key="iss", kind=TransferKind.ISSUE, unit_type=w.cea, debit=Leg(system_account("national", AccountKind.NATIONAL_TOTAL),
                  Position.REGISTRY), credit=Leg(sd1, Position.REGISTRY), quantity=1_000)
    t = holding_transfer(key="mine", from_account=sd1, to_account=sd2, unit_type=w.cea, quantity=10, actor=w.entity_sd1_user, reference="变更")
    assert not privacy.is_exchange_settlement(t)
    assert privacy.shown_accounts(t, account=sd1, full=False) == (sd1.number, sd2.number)
    r = client_for(w.entity_sd1_user).get(f"{REG}/accounts/{sd1.number}/journal").json()
    assert (r[0]["debit_account"], r[0]["credit_account"]) == (sd1.number, sd2.number)
    transfer_post(key="hold", kind=TransferKind.POSITION_MOVE, unit_type=w.cea, debit=Leg(sd1, Position.REGISTRY), credit=Leg(sd1, Position.PENDING),
                  quantity=5)
    op = transfer_post(key="op", kind=TransferKind.TRANSFER, unit_type=w.cea, debit=Leg(sd1, Position.PENDING), credit=Leg(sd2, Position.REGISTRY),
                       quantity=5)
    assert not privacy.is_exchange_settlement(op)
