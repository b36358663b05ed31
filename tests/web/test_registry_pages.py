"""Registry operation pages: forms post through the services; refusals show their code; operators
need a TOTP-verified session; four eyes holds on the page too."""

from django.test import Client

from cets.registry.models import AccountKind, Holding, Position, Proposal, TransferKind, UnitType
from cets.registry.services import IssuanceLine, Leg, issuance_propose, system_account, transfer_post
from tests.browser import totp_token
from tests.conftest import SD_1, SD_2, client_for


def msgs(r):
    return [str(m) for m in r.context["messages"]]


def test_holder_transfers_from_the_page_and_sees_codes(world):
    from cets.registry.models import TrustedAccount
    from tests.conftest import when

    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    transfer_post(key="seed", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(world.accounts[SD_1], Position.REGISTRY), quantity=100)
    c = client_for(world.entity_sd1_user, verified=True)
    page = c.get("/registry/")
    assert page.status_code == 200
    assert world.accounts[SD_1].number in page.content.decode()
    form = {"key": "web-k1", "to_account": world.accounts[SD_2].number, "unit_type": "CEA-2023", "quantity": "30"}
    r = c.post("/registry/transfer/", form, follow=True)
    assert any(m.startswith("R0801") for m in msgs(r))  # not on the trusted account list
    TrustedAccount.objects.create(account=world.accounts[SD_1], trusted=world.accounts[SD_2], added_by=world.entity_sd1_user,
                                  added_at=when("2024-01-02"), active_from=when("2024-01-02"), pack_id="test")
    r = c.post("/registry/transfer/", form, follow=True)
    assert any("web-k1" in m for m in msgs(r))
    r = c.post("/registry/transfer/", dict(form, key="web-k2", quantity="71"), follow=True)
    assert any(m.startswith("R0302") for m in msgs(r))
    r = c.post("/registry/transfer/", form, follow=True)  # a double submit posts once
    assert Holding.objects.get(account=world.accounts[SD_1], position="pending").quantity == 30  # held until the delay ends
    r = c.post("/registry/freeze/", {"key": "x", "account": world.accounts[SD_1].number, "unit_type": "CEA-2023", "quantity": "1",
                                     "court_ref": "x"})
    assert r.status_code == 404  # not a holder's action


def test_operator_pages_need_totp_and_four_eyes(world):
    p = issuance_propose(key="batch-web", unit_type=world.cea, lines=[IssuanceLine(world.accounts[SD_1].number, 500)], actor=world.registry_a)
    r = client_for(world.registry_b).post("/registry/decide/", {"proposal": p.pk, "decision": "approve"}, follow=True)
    assert any(m.startswith("R0505") for m in msgs(r))
    a = client_for(world.registry_a, verified=True)
    assert "your own proposal" in a.get("/registry/").content.decode() or "本人提议" in a.get("/registry/").content.decode()
    r = a.post("/registry/decide/", {"proposal": p.pk, "decision": "approve", "otp_token": totp_token(world.registry_a.username)}, follow=True)
    assert any(m.startswith("R0501") for m in msgs(r))
    b = client_for(world.registry_b, verified=True)
    r = b.post("/registry/decide/", {"proposal": p.pk, "decision": "approve", "otp_token": totp_token(world.registry_b.username)}, follow=True)
    assert Proposal.objects.get(pk=p.pk).status == "executed"
    assert Holding.objects.get(account=world.accounts[SD_1], position="registry").quantity == 500


def test_registry_forms_need_csrf(world):
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.entity_sd1_user)
    r = c.post("/registry/transfer/", {"key": "k", "to_account": "x", "unit_type": "CEA-2023", "quantity": "1"})
    assert r.status_code == 403


def test_operator_creates_a_vintage_and_proposes_issuance_from_the_page(world):
    from cets.registry.services import proposal_approve

    a = client_for(world.registry_a, verified=True)
    a.post("/registry/vintage/", {"key": "v1", "instrument": "CEA", "vintage": "2026", "cap_t": "5000"}, follow=True)
    v = Proposal.objects.get(key="v1")  # creating units is a four-eyes proposal: nothing exists until a second operator approves
    assert (v.kind, v.status) == ("vintage_create", "proposed")
    assert not UnitType.objects.filter(code="CEA-2026").exists()
    proposal_approve(proposal_id=v.pk, approver=world.registry_b)
    assert UnitType.objects.filter(code="CEA-2026").exists()
    a.post("/registry/issuance/", {"key": "iss-web", "account": world.accounts[SD_1].number, "unit_type": "CEA-2026", "quantity": "700",
                                       "reason": "2026 预分配"}, follow=True)
    p = Proposal.objects.get(key="iss-web")
    assert p.status == "proposed"
    assert p.payload["lines"][0]["quantity"] == 700


def test_entity_applies_to_surrender_from_the_page(world):
    from cets.compliance.models import Obligation, SurrenderApplication
    from tests.conftest import when

    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    transfer_post(key="seed", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(world.accounts[SD_1], Position.REGISTRY), quantity=100)
    Obligation.objects.create(entity=world.sd1, year=2023, pack_id="national/power-2023-2024", obligation_t=80, offset_cap_t=4,
                              deadline=when("2024-12-31").date())
    c = client_for(world.entity_sd1_user, verified=True)
    r = c.post("/registry/surrender/", {"key": "sur-web", "year": "2023", "unit_type": "CEA-2023", "quantity": "81"}, follow=True)
    assert any(m.startswith("R0604") for m in msgs(r))
    c.post("/registry/surrender/", {"key": "sur-web2", "year": "2023", "unit_type": "CEA-2023", "quantity": "80"}, follow=True)
    assert SurrenderApplication.objects.get(key="sur-web2").status == "submitted"


def test_published_holder_changes_are_public(world):
    from django.test import Client

    # the registry proposes from its page; the province sees it on its registry page and in its inbox, and approves
    a = client_for(world.registry_a, verified=True)
    a.post("/registry/holder_change/", {"key": "hc", "kind": "merger", "from_uscc": world.sd2.uscc, "to_uscc": world.sd1.uscc,
                                          "reason": "鲁环函〔2025〕9号"}, follow=True)
    p = Proposal.objects.get(key="hc")
    assert p.status == "proposed"
    sd = client_for(world.province_sd, verified=True)
    page = sd.get("/registry/").content.decode()
    assert "hc" in page
    assert "changes of holder awaiting your approval" in sd.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "changes of holder" not in client_for(world.province_zj).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    sd.post("/registry/decide/", {"proposal": p.pk, "decision": "approve", "otp_token": totp_token(world.province_sd.username)}, follow=True)
    assert Proposal.objects.get(key="hc").status == "executed"

    r = Client().get("/public/holder-changes/")
    assert r.status_code == 200
    assert "鲁环函〔2025〕9号" in r.content.decode()


def test_authority_without_an_account_sees_an_explanation(world):
    r = client_for(world.province_sd).get("/registry/")
    assert r.status_code == 200
    assert r.context["account"] is None


def test_account_closure_is_proposed_from_the_page_and_refused_while_units_are_held(world):
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    transfer_post(key="seed", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(world.accounts[SD_1], Position.REGISTRY), quantity=1)
    a = client_for(world.registry_a, verified=True)
    r = a.post("/registry/account_close/", {"key": "close-1", "account": world.accounts[SD_1].number}, follow=True)
    assert any(m.startswith("R0109") for m in msgs(r))
    a.post("/registry/account_close/", {"key": "close-2", "account": world.accounts[SD_2].number}, follow=True)
    assert Proposal.objects.get(key="close-2").kind == "account_close"


def test_the_compliance_steps_of_the_registry_page_are_routed_to_compliance(world):
    from django.urls import resolve

    assert resolve("/registry/forced_surrender/").func.__module__ == "cets.compliance.views_registry"
    assert resolve("/registry/surrender/").func.__module__ == "cets.compliance.views_registry"
    assert resolve("/registry/deduction/").func.__module__ == "cets.registry.views.operations"
    a = client_for(world.registry_a, verified=True)
    r = a.post("/registry/forced_surrender/", {"key": "fs-x", "entity_uscc": "91000000000000000X", "year": "2023", "reason": "鲁环函"}, follow=True)
    assert any(m.startswith("R0101") for m in msgs(r))
    assert client_for(world.entity_sd1_user, verified=True).post("/registry/forced_surrender/", {"key": "k"}).status_code == 404
    assert a.post("/registry/surrender/", {"key": "k"}).status_code == 404  # an operator holds no account to surrender from
