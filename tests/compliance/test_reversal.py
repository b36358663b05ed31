"""A registry reversal (冲正) of an approved surrender reopens the obligation: status is recomputed from
the events, and the reversed quantity may be surrendered again."""

import datetime as dt

from cets.compliance.models import Obligation
from cets.compliance.reports import summary
from cets.compliance.selectors import status_of
from cets.registry.models import Holding
from cets.registry.services import proposal_approve, reversal_propose
from tests.compliance.helpers import issue, surrender
from tests.conftest import SD_1


def test_reversal_reopens_the_obligation(world):
    ob = Obligation.objects.create(entity=world.sd1, year=2023, pack_id="national/power-2023-2024", obligation_t=1_000, offset_cap_t=50,
                                   deadline=dt.date(2024, 12, 31))
    issue(world, SD_1, world.cea, 1_000)
    app = surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 1_000, "2024-12-20", "rv1")
    assert status_of(obligation=ob, today=dt.date(2025, 1, 5)).status == "on_time"
    from cets.compliance.services import compliance_certificate_issue
    from tests.conftest import client_for

    cert = compliance_certificate_issue(obligation_id=ob.pk, actor=world.registry_a)
    p = reversal_propose(key="rev-1", transfer_key=app.final_transfer_key, reason="误操作 surrendered in error", actor=world.registry_a)
    proposal_approve(proposal_id=p.pk, approver=world.registry_b)  # four eyes; the reversal is dated today (after the deadline)
    today = dt.date.today() + dt.timedelta(days=1)
    s = status_of(obligation=ob, today=today)
    assert (s.status, s.surrendered_t, s.outstanding_t) == ("incomplete", 0, 1_000)
    # before the reversal's date, history still shows the surrender
    assert status_of(obligation=ob, today=dt.date(2025, 1, 5)).status == "on_time"
    assert summary(province="37", year=2023, as_of=today).rows[0].status == "incomplete"
    r = client_for(world.entity_sd1_user).get(f"/compliance/certificates/{cert.pk}/pdf/")
    assert r.status_code == 409
    assert "C0901" in r.content.decode()  # the certificate no longer holds
    # the units are back in the entity's pending position; once returned to its registry position it can surrender again
    assert Holding.objects.get(account=world.accounts[SD_1], unit_type=world.cea, position="pending").quantity == 1_000
    issue(world, SD_1, world.cea, 999)
    again = surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 999, today.isoformat(), "rv2")  # not refused as R0604
    assert again.status == "approved"
    assert status_of(obligation=ob, today=today).outstanding_t == 1
