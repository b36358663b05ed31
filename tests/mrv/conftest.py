"""Shared set-up of the facility duty tests: one Shandong steel, cement and aluminium entity, each on the 2024 list of
its sector with one facility and an entity user, and one verification body with a verifier user."""

import pytest

from tests.conftest import uscc_for

YEAR = 2024


@pytest.fixture
def industry(world):
    from types import SimpleNamespace

    from cets.parties.models import Facility, Organisation, Role
    from cets.parties.services import emitter_list_entries_ensure, member_create

    ns = SimpleNamespace(world=world, entities={}, users={}, facilities={})
    for i, (sector, code, kind) in enumerate((("steel", "W1", "integrated_works"), ("cement", "L1", "clinker_line"),
                                              ("aluminium", "E1", "electrolysis")), start=1):
        uscc = uscc_for(900 + i)
        org = Organisation.objects.create(uscc=uscc, name=f"山东测试{sector}", kind=Organisation.Kind.ENTITY, region_code="370100", province="37")
        ns.entities[sector] = org
        ns.users[sector] = member_create(username=f"e-{sector}", organisation=org, role=Role.ENTITY, password="test-password-123")
        ns.facilities[sector] = Facility.objects.create(entity=org, sector=sector, code=code, kind=kind)
        emitter_list_entries_ensure(market="national", entries=[(YEAR, sector, org.pk, "37", "test")])
    ns.body = Organisation.objects.create(uscc=uscc_for(990, "9111000"), name="测试核查机构", kind=Organisation.Kind.VERIFIER)
    ns.verifier = member_create(username="vb", organisation=ns.body, role=Role.VERIFIER, password="test-password-123")
    return ns
