"""Search-as-you-type lookups of accounts and unit types (issue 15): matching by number, holder name and credit code,
at most 20 rows, the holder's name and account kind for an exact number, and the viewer's jurisdiction — a province
official never finds another province's accounts, a holder finds only its own (and confirms a payee by exact number)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from cets.parties.models import Organisation
from cets.registry.services import account_open
from tests.conftest import SD_1, SD_2, ZJ_1, client_for, uscc_for

ACCOUNTS = "/registry/lookup/accounts/"
UNIT_TYPES = "/registry/lookup/unit-types/"


def picks(html: str) -> list[str]:
    """The values a click on a suggestion would copy into the field."""
    return re.findall(r'class="lookup-pick" data-value="([^"]+)"', html)


def match(html: str) -> str:
    m = re.search(r'<span class="lookup-match"[^>]*>(.*?)</span>', html, re.S)
    return m.group(1) if m else ""


def get(client, url, **params) -> str:
    r = client.get(url, params, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert r["Cache-Control"] == "no-store"
    return r.content.decode()


@pytest.mark.django_db
def test_anonymous_and_memberless_users_are_refused(world):
    from django.contrib.auth import get_user_model

    for url in (ACCOUNTS, UNIT_TYPES, "/parties/lookup/entities/", "/parties/lookup/participants/", "/parties/lookup/organisations/"):
        r = Client().get(url, {"q": "山东"})
        assert r.status_code == 403, url
        assert "山东" not in r.content.decode()
        nobody = get_user_model().objects.create_user(username=f"nobody{len(url)}", password="x-password-123456")
        assert client_for(nobody).get(url, {"q": "山东"}).status_code == 403, url


@pytest.mark.django_db
def test_registry_operator_finds_accounts_by_name_number_and_credit_code(world):
    c = client_for(world.registry_a)
    sd1, sd2, zj1 = (world.accounts[k].number for k in (SD_1, SD_2, ZJ_1))
    assert set(picks(get(c, ACCOUNTS, q="山东测试"))) == {sd1, sd2}
    assert picks(get(c, ACCOUNTS, q=ZJ_1[:12])) == [zj1]  # by the holder's credit code
    html = get(c, ACCOUNTS, q=sd1)  # the exact number: the holder's name and account kind
    assert "山东测试一电厂" in match(html)
    assert picks(html) == []  # shown once, as the match
    assert "重点排放单位账户" in match(html)
    html = get(c, ACCOUNTS, to_account=sd2)  # the field's own name, as htmx sends it
    assert "山东测试二电厂" in match(html)
    assert picks(get(c, ACCOUNTS, q="山")) == []  # too short: nothing
    html = get(c, ACCOUNTS, q="没有这个单位")
    assert picks(html) == [] and "lookup-none" in html


@pytest.mark.django_db
def test_at_most_twenty_rows_and_the_page_says_there_are_more(world):
    for i in range(23):
        account_open(holder=Organisation.objects.create(uscc=uscc_for(500 + i), name=f"批量测试单位{i:02d}", kind=Organisation.Kind.ENTITY,
                                                        province="37", region_code="370000"))
    html = get(client_for(world.registry_a), ACCOUNTS, q="批量测试")
    assert len(picks(html)) == 20
    assert "lookup-more" in html
    assert len(picks(get(client_for(world.registry_a), ACCOUNTS, q="批量测试单位2"))) == 3  # 20, 21, 22


@pytest.mark.django_db
def test_a_province_official_never_finds_another_provinces_accounts(world):
    zj1 = world.accounts[ZJ_1].number
    sd = client_for(world.province_sd)
    found = picks(get(sd, ACCOUNTS, q="测试"))
    assert set(found) == {world.accounts[SD_1].number, world.accounts[SD_2].number}
    html = get(sd, ACCOUNTS, q=zj1)  # not even by its exact number
    assert "浙江测试电厂" not in html and match(html) == "" and picks(html) == []
    zj = client_for(world.province_zj)
    assert picks(get(zj, ACCOUNTS, q="测试")) == [zj1]


@pytest.mark.django_db
def test_a_holder_finds_its_own_account_and_confirms_a_payee_by_exact_number(world):
    from cets.parties.models import Role
    from cets.parties.services import holder_create, member_create

    c = client_for(world.entity_sd1_user)
    assert picks(get(c, ACCOUNTS, q="测试")) == [world.accounts[SD_1].number]  # no list of other holders
    html = get(c, ACCOUNTS, q=world.accounts[ZJ_1].number)  # the payee's name before the transfer is posted
    assert "浙江测试电厂" in match(html)
    assert picks(html) == []
    person = account_open(holder=holder_create(kind="individual", name="李四五", resident_id="110101199003074477"), kind="individual")
    html = get(c, ACCOUNTS, q=person.number)
    assert "李**" in match(html) and "李四五" not in html  # a natural person's name masked
    from cets.registry.models import AccountKind
    from cets.registry.services import system_account

    system = get(c, ACCOUNTS, q=system_account("national", AccountKind.NATIONAL_TOTAL).number)  # never a payee
    assert match(system) == "" and picks(system) == []
    verifier_org = Organisation.objects.create(uscc=uscc_for(901), name="测试核查机构", kind=Organisation.Kind.VERIFIER, province="37")
    verifier = member_create(username="vb", organisation=verifier_org, role=Role.VERIFIER, password="test-password-123")
    assert match(get(client_for(verifier), ACCOUNTS, q=world.accounts[ZJ_1].number)) == ""  # holds no account: no payee check


@pytest.mark.django_db
def test_unit_types_by_code(world):
    c = client_for(world.entity_sd1_user)
    html = get(c, UNIT_TYPES, q="CEA")
    assert picks(html) == ["CEA-2023"]
    html = get(c, UNIT_TYPES, unit_type="CEA-2023")
    assert "2023" in match(html)
    assert picks(get(c, UNIT_TYPES, q="CCER")) == []


@pytest.mark.django_db
def test_the_registry_forms_carry_the_lookups(world):
    page = client_for(world.entity_sd1_user).get("/registry/").content.decode()
    assert 'hx-get="/registry/lookup/accounts/"' in page
    assert 'hx-get="/registry/lookup/unit-types/"' in page
    assert "htmx.min.js" in page


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["\x00", "a\x00b", "%", "_" * 5, "'; drop table x; --", "测" * 5000, "\u202e\u200b", " " * 50])
def test_garbage_is_no_match_never_a_500(world, q):
    c = client_for(world.registry_a)
    for url in (ACCOUNTS, UNIT_TYPES, "/parties/lookup/entities/", "/parties/lookup/participants/", "/parties/lookup/organisations/"):
        r = c.get(url, {"q": q})
        if "\x00" in q:  # a NUL in any page's query is refused before any view (web.middleware.NulInputMiddleware)
            assert r.status_code == 400 and "S0502" in r.content.decode(), url
            continue
        assert r.status_code == 200, url
        assert len(picks(r.content.decode())) <= 20
    assert c.post(ACCOUNTS, {"q": "山东"}).status_code == 405  # GET only
