"""Every surrender that breaks a rule is refused with its check code and changes nothing: no journal
entry, no holding moved, no application recorded."""

import datetime as dt

import pytest

from cets.compliance.models import Obligation, SurrenderApplication
from cets.compliance.services import surrender_submit
from cets.core.errors import CetsError
from cets.parties.models import Organisation
from cets.registry.models import CcerProject, Holding, Instrument, Transfer
from cets.registry.services import vintage_create
from tests.compliance.helpers import issue
from tests.conftest import SD_1, when


def state():
    return (Transfer.objects.count(), SurrenderApplication.objects.count(),
            sorted(Holding.objects.values_list("account_id", "unit_type_id", "position", "quantity")))


@pytest.fixture
def setup(world):
    from cets.registry.services import system_accounts_ensure

    system_accounts_ensure(market="ccer")
    owner = Organisation.objects.create(kind=Organisation.Kind.INSTITUTION, name="项目业主 project owner", uscc="91110000000000001X")
    D = dt.date.fromisoformat
    projects = {
        "ok": CcerProject.objects.create(code="A210001", name="ok", owner=owner, registered_on=D("2024-12-03")),
        "early": CcerProject.objects.create(code="E1", name="early", owner=owner, registered_on=D("2024-01-21")),
        "ets": CcerProject.objects.create(code="Q1", name="quota", owner=owner, registered_on=D("2024-12-03"), under_ets_quota_management=True),
        "own": CcerProject.objects.create(code="O1", name="own", owner=world.sd1, registered_on=D("2024-12-03")),
    }
    for name, p in projects.items():
        issue(world, SD_1, vintage_create(instrument=Instrument.CCER, vintage="2024", cap_t=10_000, key=f"ccer-{name}", project=p), 10_000)
    issue(world, SD_1, world.cea, 900)
    issue(world, SD_1, vintage_create(instrument=Instrument.CEA, vintage="2024", cap_t=1_000, key="cea24"), 1_000)
    # obligation 1,000 t → offset cap 5% = 50 t (Measures Art. 29)
    Obligation.objects.create(entity=world.sd1, year=2023, pack_id="national/power-2023-2024", obligation_t=1_000, offset_cap_t=50,
                              deadline=dt.date(2024, 12, 31))
    return world


@pytest.mark.parametrize(("change", "code"), [
    (dict(actor="entity_zj1_user"), "R0502"),            # not the entity's user
    (dict(actor="province_sd"), "R0502"),                # the province approves, it does not apply
    (dict(year=2022), "R0606"),                          # no obligation for the year
    (dict(unit_type_code="CEA-2099"), "R0201"),          # unknown unit type
    (dict(unit_type_code="CEA-2024"), "R0601"),          # 2024 vintage not for 2023 (plan §五(三))
    (dict(unit_type_code="CCER-E1-2024", quantity=10), "R0603"),       # registered before 2024-01-22
    (dict(unit_type_code="CCER-Q1-2024", quantity=10), "R0603"),       # project under ETS quota management
    (dict(unit_type_code="CCER-O1-2024", quantity=10), "R0603"),       # the entity's own project
    (dict(unit_type_code="CCER-A210001-2024", quantity=51), "R0602"),  # above the 5% cap of 50 t
    (dict(quantity=1_001), "R0604"),                     # more than the obligation
    (dict(quantity=901), "R0302"),                       # more than the 900 t held
])
def test_refused_and_nothing_changes(setup, change, code):
    w = setup
    kw = dict(key="k", entity=w.sd1, year=2023, unit_type_code="CEA-2023", quantity=100, actor=w.entity_sd1_user, at=when("2024-12-20"))
    if "actor" in change:
        change = dict(change, actor=getattr(w, change["actor"]))
    before = state()
    with pytest.raises(CetsError) as e:
        surrender_submit(**dict(kw, **change))
    assert e.value.code == code, e.value
    assert state() == before


def test_cap_counts_what_is_already_applied(setup):
    w = setup
    kw = dict(entity=w.sd1, year=2023, unit_type_code="CCER-A210001-2024", actor=w.entity_sd1_user, at=when("2024-12-20"))
    surrender_submit(key="c1", quantity=30, **kw)
    before = state()
    with pytest.raises(CetsError) as e:
        surrender_submit(key="c2", quantity=21, **kw)  # 30 + 21 = 51 > 50
    assert e.value.code == "R0602"
    assert state() == before
    assert surrender_submit(key="c3", quantity=20, **kw).quantity == 20  # 30 + 20 = 50: the cap itself is allowed
