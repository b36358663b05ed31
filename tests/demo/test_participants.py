"""The demo's individual, institution and exchange member (issue 17): opened through the registry's reviewed
application, each with a CCER account and money in its CCER fund account, the person's first CCER received, a member
acting for the demo's key emitter; the logins are printed; a second run changes nothing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.mark.django_db
def test_the_demo_participants_are_opened_and_the_step_is_idempotent(world):
    import datetime as dt

    from cets.demo.participants import CCER_FUNDS_FEN, PERSON_ID, Participants
    from cets.demo.run import DemoResult
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create
    from cets.registry.models import Account, AccountKind, CcerProject, Holding, Instrument, Position, Transfer, TransferKind
    from cets.registry.services import Leg, account_open, system_account, system_accounts_ensure, transfer_post, vintage_create
    from cets.trading.models import ExchangeMember, FundAccount, MemberClient

    w = world
    system_accounts_ensure(market="ccer")
    owner = Organisation.objects.create(kind=Organisation.Kind.PROJECT_OWNER, name="测试风电项目业主")
    project = CcerProject.objects.create(code="P-DEMO", name="测试项目", owner=owner, registered_on=dt.date(2025, 3, 1))
    ut = vintage_create(instrument=Instrument.CCER, vintage="2025", cap_t=1_000, key="cap", project=project)
    acc = account_open(holder=owner, kind=AccountKind.CCER_HOLDING, market="ccer")
    transfer_post(key="iss", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(system_account("ccer", AccountKind.NATIONAL_TOTAL), Position.REGISTRY),
                  credit=Leg(acc, Position.REGISTRY), quantity=1_000)
    ex = member_create(username="exchange", organisation=Organisation.objects.create(kind=Organisation.Kind.EXCHANGE, name="交易机构"),
                       role=Role.EXCHANGE_OPERATOR, password="test-password-123")
    res = DemoResult()
    steps = SimpleNamespace(log=lambda *_: None, res=res, registry_a=w.registry_a, registry_b=w.registry_b, exchange=ex, demo_entity=w.sd1)
    Participants(steps).run()
    counts = (Transfer.objects.count(), FundAccount.objects.count(), Account.objects.count(), MemberClient.objects.count())
    Participants(steps).run()
    assert (Transfer.objects.count(), FundAccount.objects.count(), Account.objects.count(), MemberClient.objects.count()) == counts
    person = Organisation.objects.get(resident_id=PERSON_ID)
    kinds = dict(Account.objects.filter(holder=person).values_list("market", "kind"))
    assert kinds == {"national": "individual", "ccer": "individual"}
    assert FundAccount.objects.get(holder=person, market="ccer").available_fen == CCER_FUNDS_FEN["person-demo"]
    assert Holding.objects.get(account__holder=person, account__market="ccer", unit_type=ut, position=Position.REGISTRY).quantity == 100
    member = ExchangeMember.objects.get(market="national", code="M0001")
    assert MemberClient.objects.get(member=member).participant == w.sd1
    assert {"person-demo", "institution-demo", "member-demo"} <= {row[0] for row in res.logins}
    assert PERSON_ID not in str(res.logins)
