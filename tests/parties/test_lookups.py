"""Search-as-you-type lookups of credit-code fields (issue 15): entities by name or credit code within the viewer's
jurisdiction (an official must not discover another province's entities), participants (entities and institutions)."""

from __future__ import annotations

import pytest

from cets.parties.models import Organisation
from tests.conftest import SD_1, SD_2, ZJ_1, client_for, uscc_for
from tests.registry.test_lookups import get, match, picks

ENTITIES = "/parties/lookup/entities/"
PARTICIPANTS = "/parties/lookup/participants/"


@pytest.mark.django_db
def test_entities_by_name_and_code_within_the_jurisdiction(world):
    assert set(picks(get(client_for(world.mee), ENTITIES, q="测试"))) == {SD_1, SD_2, ZJ_1}  # nationwide
    assert set(picks(get(client_for(world.province_sd), ENTITIES, q="测试"))) == {SD_1, SD_2}
    assert picks(get(client_for(world.province_zj), ENTITIES, q="测试")) == [ZJ_1]
    assert picks(get(client_for(world.entity_sd1_user), ENTITIES, q="测试")) == [SD_1]  # a holder: itself
    html = get(client_for(world.province_sd), ENTITIES, q=ZJ_1)  # another province's code, typed in full
    assert "浙江测试电厂" not in html and match(html) == "" and picks(html) == []
    html = get(client_for(world.province_sd), ENTITIES, entity_uscc=SD_2.lower())
    assert "山东测试二电厂" in match(html)
    assert picks(get(client_for(world.registry_a), ENTITIES, q=SD_1[:10])) == [SD_1]


@pytest.mark.django_db
def test_participants_include_institutions_not_bodies(world):
    inst = Organisation.objects.create(uscc=uscc_for(77, "9111000"), name="测试投资机构", kind=Organisation.Kind.INSTITUTION, province="11")
    c = client_for(world.registry_a)
    assert picks(get(c, PARTICIPANTS, q="测试投资")) == [inst.uscc]
    assert picks(get(c, ENTITIES, q="测试投资")) == []
    assert "登记机构" not in get(c, PARTICIPANTS, q="登记机构")  # no credit code, not a participant


ORGANISATIONS = "/parties/lookup/organisations/"


@pytest.mark.django_db
def test_organisations_include_verification_bodies_within_the_jurisdiction(world):
    """The subjects of credit records and blacklist decisions are not only entities: a verification body is found by
    the organisations' lookup (not by the entities' or participants'), and a province still sees only its own."""
    body = Organisation.objects.create(uscc=uscc_for(78, "9137000"), name="测试核查机构", kind=Organisation.Kind.VERIFIER, province="37")
    other = Organisation.objects.create(uscc=uscc_for(79, "9133000"), name="测试核查机构浙江", kind=Organisation.Kind.VERIFIER, province="33")
    assert set(picks(get(client_for(world.mee), ORGANISATIONS, q="测试核查"))) == {body.uscc, other.uscc}
    assert picks(get(client_for(world.mee), ENTITIES, q="测试核查")) == []
    assert picks(get(client_for(world.mee), PARTICIPANTS, q="测试核查")) == []
    sd = client_for(world.province_sd)
    assert picks(get(sd, ORGANISATIONS, q="测试核查")) == [body.uscc]
    assert "测试核查机构浙江" not in get(sd, ORGANISATIONS, q=other.uscc)
    assert "测试核查机构" in match(get(sd, ORGANISATIONS, uscc=body.uscc))
    assert set(picks(get(sd, ORGANISATIONS, q="测试"))) >= {SD_1, SD_2, body.uscc}
    from django.test import Client

    assert Client().get(ORGANISATIONS, {"q": "测试"}).status_code == 403  # anonymous: nothing
