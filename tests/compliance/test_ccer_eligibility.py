"""CCER eligibility for offsetting a 2023 obligation (cn-ets-rules.md §4.2; 2025–2026 draft §五(二))."""

import datetime as dt

import pytest

from cets.compliance.services import ccer_eligible
from cets.registry.models import CcerProject, UnitType
from cets.rules.packs import load_pack

PACK = load_pack("national/power-2023-2024")
D = dt.date.fromisoformat


def ut(**project):
    return UnitType(code="CCER-X-2024", instrument="CCER", vintage="2024", project=CcerProject(code="X", name="x", **project))


@pytest.mark.parametrize("project,on,why", [
    (dict(registered_on=D("2024-12-03")), D("2024-12-20"), None),                            # A210001, the real pre-deadline batch
    (dict(registered_on=D("2024-01-22")), D("2024-12-20"), None),                            # the launch day itself
    (dict(registered_on=D("2024-01-21")), D("2024-12-20"), "registered before 2024-01-22"),
    (dict(registered_on=None), D("2024-12-20"), "project not registered"),
    (dict(filed_on=D("2016-05-01")), D("2024-12-31"), None),                                  # old CCER, last usable day
    (dict(filed_on=D("2016-05-01")), D("2025-01-01"), "usable only until 2024-12-31"),
    (dict(registered_on=D("2024-12-03"), under_ets_quota_management=True), D("2024-12-20"), "under ETS quota management"),
])
def test_eligibility(project, on, why):
    got = ccer_eligible(PACK, 2023, ut(**project), on)
    assert (got is None) if why is None else (why in got)
