"""The inbox on each dashboard: what waits on the reader now, by role and jurisdiction (issue 15)."""

import datetime as dt

from cets.compliance.models import Obligation
from cets.registry.models import AccountKind, Position, Proposal, TransferKind
from cets.registry.services import Leg, proposal_approve, system_account, transfer_post, vintage_create_propose
from cets.web.selectors import inbox
from tests.conftest import SD_1, when


def test_the_second_operator_sees_the_proposal_and_the_proposer_does_not(world):
    vintage_create_propose(key="v-inbox", instrument="CEA", vintage="2027", cap_t=1_000, actor=world.registry_a)
    mine = [i.en for i in inbox(user=world.registry_a, year=2023, today=dt.date(2024, 1, 10))]
    theirs = {i.en: i.count for i in inbox(user=world.registry_b, year=2023, today=dt.date(2024, 1, 10))}
    assert "proposals awaiting your approval (four eyes)" not in mine
    assert theirs["proposals awaiting your approval (four eyes)"] == 1


def test_the_province_sees_its_surrenders_and_the_entity_what_it_still_owes(world):
    from cets.compliance.services import surrender_submit

    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    transfer_post(key="seed-inbox", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(world.accounts[SD_1], Position.REGISTRY), quantity=500)
    Obligation.objects.create(entity=world.sd1, year=2023, pack_id="national/power-2023-2024", obligation_t=800, offset_cap_t=40,
                              deadline=dt.date(2024, 12, 31))
    surrender_submit(key="s-inbox", entity=world.sd1, year=2023, unit_type_code="CEA-2023", quantity=300, actor=world.entity_sd1_user,
                     at=when("2024-12-01"))
    sd = {i.en: i for i in inbox(user=world.province_sd, year=2023, today=dt.date(2024, 12, 2))}
    zj = {i.en for i in inbox(user=world.province_zj, year=2023, today=dt.date(2024, 12, 2))}
    assert sd["surrender applications to decide"].count == 1
    assert "surrender applications to decide" not in zj  # another province's application is not in its inbox
    owed = {i.en: i for i in inbox(user=world.entity_sd1_user, year=2023, today=dt.date(2024, 12, 2))}
    assert owed["still to surrender for 2023 (t)"].count == 800  # applied, not yet approved: nothing surrendered
    assert owed["still to surrender for 2023 (t)"].due == "2024-12-31"
    assert owed["still to surrender for 2023 (t)"].late is False


def test_the_dashboard_shows_the_inbox(world, client):
    vintage_create_propose(key="v-inbox-2", instrument="CEA", vintage="2027", cap_t=1_000, actor=world.registry_a)
    client.force_login(world.registry_b)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="inbox"' in page
    assert "proposals awaiting your approval (four eyes)" in page
    p = Proposal.objects.get(key="v-inbox-2")
    proposal_approve(proposal_id=p.pk, approver=world.registry_b)
    assert "proposals awaiting your approval" not in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
