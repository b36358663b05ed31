"""Jurisdiction: a provincial user sees only its province, an entity user only itself, and an
entity outside the scope answers 404 (not 403), like one that does not exist."""

from __future__ import annotations

import pytest

from .conftest import NAMES, SD_1, SD_2, ZJ_1

pytestmark = pytest.mark.django_db


def html(r) -> str:
    return r.content.decode()


def test_provincial_officer_gets_404_for_another_province(client, web):
    client.force_login(web.province_sd)
    other = client.get(f"/entities/{ZJ_1}/")
    missing = client.get("/entities/91370000000000000X/")
    assert other.status_code == 404
    assert missing.status_code == 404
    assert NAMES[ZJ_1] not in html(other)
    assert client.get(f"/entities/{SD_1}/").status_code == 200
    assert client.get(f"/entities/{SD_2.lower()}/").status_code == 200


def test_provincial_list_and_search_are_scoped(client, web):
    client.force_login(web.province_sd)
    page = html(client.get("/entities/"))
    assert NAMES[SD_1] in page
    assert NAMES[SD_2] in page
    assert NAMES[ZJ_1] not in page
    assert ZJ_1 not in page
    # searching for the other province's entity by code or name finds nothing
    for q in (ZJ_1, ZJ_1[:10], NAMES[ZJ_1][:3]):
        r = client.get("/entities/", {"q": q})
        assert r.context["page"].paginator.count == 0
        assert NAMES[ZJ_1] not in html(r)
    # searching its own entities by name and by (lower-case, partial) code works
    r = html(client.get("/entities/", {"q": NAMES[SD_2][:4]}))
    assert NAMES[SD_2] in r
    assert NAMES[SD_1] not in r
    r = html(client.get("/entities/", {"q": SD_1[-8:].lower()}))
    assert NAMES[SD_1] in r
    assert NAMES[SD_2] not in r
    # asking for another province explicitly shows nothing
    r = html(client.get("/entities/", {"province": "33"}))
    assert NAMES[ZJ_1] not in r


def test_national_authority_sees_every_province(client, web):
    client.force_login(web.mee)
    page = html(client.get("/entities/"))
    assert all(n in page for n in NAMES.values())
    assert client.get(f"/entities/{ZJ_1}/").status_code == 200
    r = html(client.get("/entities/", {"province": "33"}))
    assert NAMES[ZJ_1] in r
    assert NAMES[SD_1] not in r


def test_entity_user_sees_only_itself(client, web):
    client.force_login(web.entity_sd1)
    page = html(client.get("/entities/"))
    assert NAMES[SD_1] in page
    assert NAMES[SD_2] not in page
    assert NAMES[ZJ_1] not in page
    assert client.get(f"/entities/{SD_1}/").status_code == 200
    assert client.get(f"/entities/{SD_2}/").status_code == 404
    assert client.get(f"/entities/{ZJ_1}/").status_code == 404


def test_user_without_membership_sees_no_role_page(client, web):
    client.force_login(web.nobody)
    for path in ("/", "/entities/"):
        r = client.get(path)
        assert r.status_code == 200
        assert "web/no_role.html" in [t.name for t in r.templates]
        assert all(n not in html(r) for n in NAMES.values())
    assert client.get(f"/entities/{SD_1}/").status_code == 404


def test_pagination_fifty_per_page(client, web):
    from cets.parties.models import Organisation

    Organisation.objects.bulk_create([
        Organisation(uscc=f"9137000099{i:07d}X", name=f"分页测试{i:03d}", kind=Organisation.Kind.ENTITY, province="37") for i in range(60)
    ])
    client.force_login(web.province_sd)
    first = client.get("/entities/")
    assert len(first.context["page"].object_list) == 50
    assert "62" in html(first)  # 60 + the two Shandong entities
    second = client.get("/entities/", {"page": 2})
    assert len(second.context["page"].object_list) == 12
    assert client.get("/entities/", {"page": "x"}).status_code == 200
    assert client.get("/entities/", {"q": "分页测试", "page": 2}).context["page"].number == 2
