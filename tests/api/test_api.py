"""The JSON API applies the same role and jurisdiction checks as the pages."""

import pytest
from django.test import Client

from cets.registry.models import AccountKind, Position, TransferKind
from cets.registry.services import Leg, system_account, transfer_post
from tests.conftest import SD_1, SD_2, ZJ_1


def login(user):
    c = Client()
    c.force_login(user)
    return c


def test_anonymous_is_refused(world):
    assert Client().get("/api/v1/entities").status_code == 401


def test_provincial_officer_sees_only_its_province(world):
    c = login(world.province_sd)
    r = c.get("/api/v1/entities")
    assert r.status_code == 200
    assert {e["uscc"] for e in r.json()["items"]} == {SD_1, SD_2}
    assert c.get(f"/api/v1/entities/{ZJ_1}").status_code == 404
    for sub in ("units", "allocations", "holdings", "compliance"):
        assert c.get(f"/api/v1/entities/{ZJ_1}/{sub}").status_code == 404
    assert c.get(f"/api/v1/entities/{SD_1}").json()["province"] == "37"


def test_entity_sees_only_itself(world):
    c = login(world.entity_sd1_user)
    assert [e["uscc"] for e in c.get("/api/v1/entities").json()["items"]] == [SD_1]
    assert c.get(f"/api/v1/entities/{SD_2}/holdings").status_code == 404


def test_national_authority_sees_all_and_holdings_shape(world):
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    transfer_post(key="i1", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(world.accounts[ZJ_1], Position.REGISTRY), quantity=1234)
    c = login(world.mee)
    assert c.get("/api/v1/entities").json()["count"] == 3
    assert c.get(f"/api/v1/entities/{ZJ_1}/holdings").json() == [
        {"account": world.accounts[ZJ_1].number, "unit_type": "CEA-2023", "position": "registry", "quantity_t": 1234}]
    me = c.get("/api/v1/me").json()
    assert me["role"] == "national_authority"


def test_search_and_openapi(world):
    c = login(world.mee)
    assert [e["uscc"] for e in c.get("/api/v1/entities", {"search": "浙江"}).json()["items"]] == [ZJ_1]
    assert c.get("/api/v1/openapi.json").status_code == 200


@pytest.mark.django_db
def test_user_without_membership_sees_nothing(django_user_model):
    u = django_user_model.objects.create_user("nobody", password="x-very-long-pass")
    c = login(u)
    assert c.get("/api/v1/entities").json()["count"] == 0
