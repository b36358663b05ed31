"""Compliance fixtures: an obligation surrendered only in part, a municipal authority."""

import pytest

from cets.compliance.models import Obligation
from cets.parties.models import Organisation, Role
from cets.parties.services import member_create
from tests.compliance.helpers import issue, surrender
from tests.conftest import SD_1, when


@pytest.fixture
def late(world):
    """SD_1 owes 100,000 t for 2023 and surrendered 90,000 t on 2024-12-20."""
    issue(world, SD_1, world.cea, 120_000)
    ob = Obligation.objects.create(entity=world.sd1, year=2023, pack_id="national/power-2023-2024", obligation_t=100_000, offset_cap_t=5_000,
                                   deadline=when("2024-12-31").date())
    surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 90_000, "2024-12-20", "s-90k")
    return ob


@pytest.fixture
def jinan(world):
    org = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="济南市生态环境局", province="37")
    return member_create(username="jn", organisation=org, role=Role.MUNICIPAL_AUTHORITY, province="37", password="test-password-123")


