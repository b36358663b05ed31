"""Deposits the settlement bank confirmed, recorded by an exchange operator (issue 15: funds deposit as a page and an
API; issue 17: the treasury fund account that pays a reserve buy-back is funded the same way). One bank reference is one
deposit; amounts are fen (int); every refusal is numbered and changes nothing."""

from __future__ import annotations

import json

import pytest

from cets.core.errors import CetsError
from cets.trading.models import FundAccount, FundEntry
from cets.trading.services.funds import funds_deposit_record
from tests.conftest import SD_1, client_for


def _available(holder, market="national") -> int:
    return FundAccount.objects.get(market=market, holder=holder).available_fen


@pytest.mark.django_db
def test_service_records_once_per_bank_reference_and_refuses_what_is_wrong(exchange):
    from cets.parties.services import totp_device_ensure

    op, holder = exchange.operator, exchange.w.accounts[SD_1].holder
    totp_device_ensure(user=op)
    op.otp_device = op.totpdevice_set.first()  # a TOTP-verified session (django-otp's request.user.is_verified)
    before = _available(holder)
    e = funds_deposit_record(market="national", participant=SD_1.lower(), amount_fen=12_345, bank_reference="BK-1", actor=op)
    assert _available(holder) == before + 12_345 and e.reference == "入金 deposit"
    again = funds_deposit_record(market="national", participant=SD_1, amount_fen=12_345, bank_reference="BK-1", actor=op)
    assert again.pk == e.pk and _available(holder) == before + 12_345  # the same bank reference changes nothing
    n = FundEntry.objects.count()
    for kwargs, code in (({"amount_fen": 99}, "T0806"),  # the same reference with another amount
                         ({"bank_reference": "BK-2", "amount_fen": 10**15}, "T0202"), ({"bank_reference": "BK-2", "amount_fen": "100"}, "T0202"),
                         ({"bank_reference": "BK-2", "participant": "91000000000000000X"}, "T0805"), ({"bank_reference": "BK-2", "market": "mars"}, "T0805"),
                         ({"bank_reference": " "}, "T0806")):
        args = {"market": "national", "participant": SD_1, "amount_fen": 12_345, "bank_reference": "BK-1", **kwargs}
        with pytest.raises(CetsError) as err:
            funds_deposit_record(**args, actor=op)
        assert err.value.code == code, (kwargs, err.value.code)
    with pytest.raises(CetsError) as err:
        funds_deposit_record(market="national", participant=SD_1, amount_fen=1, bank_reference="BK-3", actor=exchange.sd1_user)
    assert err.value.code == "R0502"
    assert FundEntry.objects.count() == n


@pytest.mark.django_db
def test_api_needs_a_verified_operator_and_funds_the_treasury(exchange):
    body = {"participant": "treasury", "amount_fen": 500_000_000, "bank_reference": "财政-2025-01"}
    unverified = client_for(exchange.operator).post("/api/v1/trading/funds/deposits", json.dumps(body), content_type="application/json")
    assert unverified.status_code in (403, 422) and unverified.json()["code"] == "L0201"
    c = client_for(exchange.operator, verified=True)
    r = c.post("/api/v1/trading/funds/deposits", json.dumps(body), content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["account"] == "NATIONAL-FUND-TREASURY" and r.json()["amount_fen"] == 500_000_000
    assert FundAccount.objects.get(number="NATIONAL-FUND-TREASURY").available_fen == 500_000_000
    bad = c.post("/api/v1/trading/funds/deposits", json.dumps(dict(body, amount_fen="5")), content_type="application/json")
    assert bad.status_code == 422  # strict: a string is not an amount


@pytest.mark.django_db
def test_page_records_a_deposit_in_cny_and_refuses_garbage(exchange):
    holder = exchange.w.accounts[SD_1].holder
    c = client_for(exchange.operator, verified=True)
    before = _available(holder)
    page = c.get("/trading/funds/", {"participant": SD_1}).content.decode()
    assert 'id="deposit-form"' in page
    r = c.post("/trading/funds/deposit/", {"participant": SD_1, "amount_cny": "1,000.5", "bank_reference": "BK-9"}, follow=True)
    assert "T0202" in r.content.decode() and _available(holder) == before
    for amount in ("²", "1e9", "-5", "0", "9" * 19, ""):
        r = c.post("/trading/funds/deposit/", {"participant": SD_1, "amount_cny": amount, "bank_reference": "BK-9"}, follow=True)
        assert r.status_code == 200 and "T0202" in r.content.decode(), amount
    r = c.post("/trading/funds/deposit/", {"participant": SD_1, "amount_cny": "1000.50", "bank_reference": "BK-9"}, follow=True)
    assert r.status_code == 200 and _available(holder) == before + 100_050
    assert "1,000.50" in r.content.decode()
    entity = client_for(exchange.sd1_user, verified=True).post("/trading/funds/deposit/", {"participant": SD_1, "amount_cny": "1", "bank_reference": "x"},
                                                              follow=True)
    assert "R0502" in entity.content.decode() and _available(holder) == before + 100_050


@pytest.mark.django_db
def test_page_funds_the_treasury_and_comes_back_to_the_form(exchange):
    c = client_for(exchange.operator, verified=True)
    r = c.post("/trading/funds/deposit/", {"participant": "treasury", "amount_cny": "300000", "bank_reference": "财政-2025-02"}, follow=True)
    assert r.status_code == 200 and 'id="deposit-form"' in r.content.decode()
    assert FundAccount.objects.get(number="NATIONAL-FUND-TREASURY").available_fen == 30_000_000
