"""Registry API: the same checks as the services, codes in the error body, TOTP for operators."""

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from cets.parties.services import totp_device_ensure
from cets.registry.models import AccountKind, Holding, Position, TransferKind
from cets.registry.services import Leg, system_account, transfer_post
from tests.conftest import SD_1, SD_2, ZJ_1, client_for, signing_code, when

T_PAST = when("2024-01-02")


def trust(w, code=SD_1, other=SD_2):
    """``other``'s account on ``code``'s trusted account list, already active (holder protection)."""
    from cets.registry.models import TrustedAccount

    TrustedAccount.objects.create(account=w.accounts[code], trusted=w.accounts[other], added_by=w.entity_sd1_user, added_at=T_PAST,
                                  active_from=T_PAST, pack_id="test")


def seed(w, code=SD_1, q=1000):
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    transfer_post(key=f"seed-{code}", kind=TransferKind.ISSUE, unit_type=w.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(w.accounts[code], Position.REGISTRY), quantity=q)


def test_entity_transfers_and_overdraw_error_body(world):
    seed(world)
    trust(world)
    c = client_for(world.entity_sd1_user, verified=True)
    body = {"key": "api-t1", "from_account": world.accounts[SD_1].number, "to_account": world.accounts[SD_2].number, "unit_type": "CEA-2023",
            "quantity": 400}
    r = c.post("/api/v1/registry/transfers", body, content_type="application/json")
    assert r.status_code == 200
    assert r.json()["quantity_t"] == 400 and r.json()["status"] == "pending"  # held, executed after the delay
    assert Holding.objects.get(account=world.accounts[SD_1], position="pending").quantity == 400
    r = c.post("/api/v1/registry/transfers", dict(body, key="api-t2", quantity=601), content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "R0302"
    assert "quantity exceeds available balance" in r.json()["message_en"]
    assert r.json()["message_zh"]
    # another entity's account is not even visible
    r = c.post("/api/v1/registry/transfers", dict(body, key="api-t3", from_account=world.accounts[SD_2].number), content_type="application/json")
    assert r.status_code == 404


def test_operator_needs_a_verified_second_factor(world):
    seed(world)
    body = {"key": "frz1", "account": world.accounts[SD_1].number, "unit_type": "CEA-2023", "quantity": 10, "court_ref": "(2025)执1号"}
    r = client_for(world.registry_a).post("/api/v1/registry/freezes", body, content_type="application/json")
    assert r.status_code == 403
    assert r.json()["code"] == "R0505"
    r = client_for(world.registry_a, verified=True).post("/api/v1/registry/freezes", body, content_type="application/json")
    assert r.status_code == 200
    assert Holding.objects.get(account=world.accounts[SD_1], position="frozen").quantity == 10


def test_four_eyes_over_the_api(world):
    a, b = client_for(world.registry_a, verified=True), client_for(world.registry_b, verified=True)
    r = a.post("/api/v1/registry/proposals/issuance", {"key": "api-iss", "unit_type": "CEA-2023",
                                                       "lines": [{"account": world.accounts[ZJ_1].number, "quantity": 777}]},
               content_type="application/json")
    assert r.status_code == 200
    assert r.json()["status"] == "proposed"
    pid = r.json()["id"]
    url = f"/api/v1/registry/proposals/{pid}/approve"
    r = a.post(url, {"otp_token": signing_code(world.registry_a)}, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "R0501"
    r = b.post(url, {"otp_token": signing_code(world.registry_b)}, content_type="application/json")
    assert r.status_code == 200
    assert r.json()["result"]["issued_t"] == 777
    assert [p["status"] for p in a.get("/api/v1/registry/proposals").json()] == ["executed"]
    rec = {row["unit_type"]: row for row in b.get("/api/v1/registry/reconciliation").json()}
    assert rec["CEA-2023"]["issued_t"] == 777


def test_province_sees_its_entities_accounts_only(world):
    seed(world, ZJ_1)
    c = client_for(world.province_sd)
    assert c.get(f"/api/v1/registry/accounts/{world.accounts[SD_1].number}").status_code == 200
    assert c.get(f"/api/v1/registry/accounts/{world.accounts[ZJ_1].number}/holdings").status_code == 404
    assert c.get("/api/v1/registry/proposals").status_code == 403


@pytest.mark.django_db
def test_login_requires_the_totp_code_for_operators(world):
    from tests.web.conftest import PASSWORD

    device, _ = totp_device_ensure(user=world.registry_a)
    world.registry_a.set_password(PASSWORD)
    world.registry_a.save()
    c = Client()
    r = c.post("/login/", {"username": "ra", "password": PASSWORD})
    assert r.status_code == 200
    assert "_auth_user_id" not in c.session  # no code, no session
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    r = c.post("/login/", {"username": "ra", "password": PASSWORD, "otp_token": f"{token:06d}"})
    assert r.status_code == 302
    assert c.session.get(DEVICE_ID_SESSION_KEY) == device.persistent_id


def test_holders_need_a_verified_second_factor_to_move_units(world):
    """Issue 16 (holder protection): a stolen entity password alone cannot move units — the API and the page
    refuse a session not verified with the holder's TOTP device (R0505), and nothing moves."""
    seed(world)
    trust(world)
    body = {"key": "h2f", "from_account": world.accounts[SD_1].number, "to_account": world.accounts[SD_2].number, "unit_type": "CEA-2023",
            "quantity": 10}
    c = client_for(world.entity_sd1_user)
    r = c.post("/api/v1/registry/transfers", body, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (403, "R0505")
    r = c.post("/registry/transfer/", {"key": "h2f-web", "to_account": world.accounts[SD_2].number, "unit_type": "CEA-2023", "quantity": "10"},
               follow=True)
    assert any(str(m).startswith("R0505") for m in r.context["messages"])
    assert not Holding.objects.filter(account=world.accounts[SD_1], position="pending").exists()
    # signing in on /login/ asks the holder's TOTP code once it has a device; with it, the transfer goes through
    device, _ = totp_device_ensure(user=world.entity_sd1_user)
    login = Client()
    assert login.post("/login/", {"username": "esd1", "password": "test-password-123"}).status_code == 200  # no code: the form again
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    assert login.post("/login/", {"username": "esd1", "password": "test-password-123", "otp_token": f"{token:06d}"}).status_code == 302
    r = login.post("/api/v1/registry/transfers", body, content_type="application/json")
    assert r.status_code == 200 and Holding.objects.get(account=world.accounts[SD_1], position="pending").quantity == 10


def test_approving_over_the_api_is_signed_with_a_code_per_approval(world):
    """Review-then-sign through the API as on the page: without a code, with a wrong one, or with one already used
    the proposal is refused with R1201 and nothing is issued; an approver with no TOTP device gets R1202."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cets.registry.models import Proposal

    a, b = client_for(world.registry_a, verified=True), client_for(world.registry_b, verified=True)

    def propose(key):
        r = a.post("/api/v1/registry/proposals/issuance", {"key": key, "unit_type": "CEA-2023",
                                                           "lines": [{"account": world.accounts[ZJ_1].number, "quantity": 500}]},
                   content_type="application/json")
        assert r.status_code == 200, r.content
        return r.json()["id"]

    def issued():
        return sum(h.quantity for h in Holding.objects.filter(account=world.accounts[ZJ_1]))

    pid = propose("sign-1")
    url = f"/api/v1/registry/proposals/{pid}/approve"
    assert b.post(url, {}, content_type="application/json").status_code == 422  # the code is a required field
    right = signing_code(world.registry_b)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for token in ("", "12ab56", "1" * 40, wrong):
        r = b.post(url, {"otp_token": token}, content_type="application/json")
        assert (r.status_code, r.json()["code"]) == (422, "R1201"), token
    assert b.post(url, {"otp_token": 123456}, content_type="application/json").status_code == 422  # strict: a string
    assert Proposal.objects.get(pk=pid).status == "proposed" and issued() == 0
    device = TOTPDevice.objects.get(user=world.registry_b)
    assert device.throttling_failure_count == 1  # the wrong code counted: the device throttles repeated failures
    device.throttle_reset()  # as after the throttle's delay (1 s after one failure)
    r = b.post(url, {"otp_token": right}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["result"]["issued_t"] == 500 and issued() == 500
    # the same code cannot sign a second approval (RFC 6238 replay)
    pid2 = propose("sign-2")
    r = b.post(f"/api/v1/registry/proposals/{pid2}/approve", {"otp_token": right}, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (422, "R1201")
    assert Proposal.objects.get(pk=pid2).status == "proposed" and issued() == 500
    # an approver without a confirmed device cannot sign at all
    TOTPDevice.objects.filter(user=world.registry_b).update(confirmed=False)
    r = b.post(f"/api/v1/registry/proposals/{pid2}/approve", {"otp_token": right}, content_type="application/json")
    assert r.json()["code"] in ("R1202", "R0505")
    assert Proposal.objects.get(pk=pid2).status == "proposed" and issued() == 500
