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


@pytest.fixture
def bj(world):
    """A Beijing services unit (朝阳区 110105) on the 2023 list with its data centre DC1 and a user, the bureau, the 朝阳 and
    海淀 district bureaus and a verification body with a verifier user (tests/mrv/test_beijing_sectors.py)."""
    from types import SimpleNamespace

    from cets.core.uscc import check_character
    from cets.parties.models import Facility, Organisation, Role
    from cets.parties.services import emitter_list_entries_ensure, member_create

    ns = SimpleNamespace(world=world)
    first17 = "91110105MA0BJC0T1"
    ns.unit = Organisation.objects.create(uscc=first17 + check_character(first17), name="北京测试数据中心有限公司", kind=Organisation.Kind.ENTITY,
                                          region_code="110105", province="11")
    ns.user = member_create(username="bj-dc", organisation=ns.unit, role=Role.ENTITY, password="test-password-123")
    ns.facility = Facility.objects.create(entity=ns.unit, sector="services", code="DC1", kind="data_centre", name="一号数据中心")
    emitter_list_entries_ensure(market="beijing", entries=[(2023, "services", ns.unit.pk, "11", "test")])
    auth = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市生态环境局", province="11")
    ns.bureau = member_create(username="pbj", organisation=auth, role=Role.PROVINCIAL_AUTHORITY, province="11", password="test-password-123")
    ns.chaoyang = member_create(username="cy", role=Role.DISTRICT_AUTHORITY, province="11", district="110105", password="test-password-123",
                                organisation=Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="朝阳区生态环境局", province="11"))
    ns.haidian = member_create(username="hd", role=Role.DISTRICT_AUTHORITY, province="11", district="110108", password="test-password-123",
                               organisation=Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="海淀区生态环境局", province="11"))
    ns.body = Organisation.objects.create(uscc="91110108MA01R1234G", name="测试核查机构", kind=Organisation.Kind.VERIFIER, province="11")
    ns.verifier = member_create(username="vbj", organisation=ns.body, role=Role.VERIFIER, password="test-password-123")
    return ns


