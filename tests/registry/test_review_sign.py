"""Review-then-sign on the registry page (issue 15): the second person sees a readable summary of a proposal —
kind in words, proposer, reason, each leg with holders, unit type, tonnes and the holdings before and after — and
signs with the TOTP code of its own device. A wrong or missing code is refused (R1201), a user without a confirmed
device cannot sign (R1202), and a refused signature executes nothing."""

from __future__ import annotations

from cets.registry.models import AccountKind, Holding, Position, Proposal, TransferKind
from cets.registry.review import proposal_summary
from cets.registry.services import IssuanceLine, Leg, deduction_propose, issuance_propose, operator_transfer_propose, system_account, transfer_post
from tests.browser import totp_token
from tests.conftest import SD_1, SD_2, client_for


def msgs(r):
    return [str(m) for m in r.context["messages"]]


def _seed(world, quantity: int) -> None:
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    transfer_post(key="seed", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(world.accounts[SD_1], Position.REGISTRY), quantity=quantity)


def _total(account) -> int:
    return sum(Holding.objects.filter(account=account).values_list("quantity", flat=True))


def test_summary_of_an_operator_transfer_gives_holders_and_holdings_before_and_after(world):
    _seed(world, 500)
    p = operator_transfer_propose(key="ot-1", from_account=world.accounts[SD_1], to_account=world.accounts[SD_2], unit_type=world.cea,
                                  quantity=120, reason="（2025）鲁01执123号", actor=world.registry_a)
    s = proposal_summary(p)
    assert (s.kind_zh, s.kind_en) == ("登记机构划转", "operator transfer of a holder's units")
    assert "（2025）鲁01执123号" in s.reason
    [leg] = s.legs
    assert (leg.unit_type, leg.quantity) == ("CEA-2023", 120)
    # by hand: SD_1 holds 500 (120 of them held in its pending position since the proposal), SD_2 holds nothing
    assert (leg.source.number, leg.source.holder, leg.source.before, leg.source.after) == (world.accounts[SD_1].number, world.sd1.name, 500, 380)
    assert (leg.target.number, leg.target.holder, leg.target.before, leg.target.after) == (world.accounts[SD_2].number, world.sd2.name, 0, 120)


def test_summary_of_an_issuance_counts_lines_and_tonnes(world):
    p = issuance_propose(key="iss-3", unit_type=world.cea, actor=world.registry_a, lines=[
        IssuanceLine(world.accounts[SD_1].number, 1_000, "2023 预分配"), IssuanceLine(world.accounts[SD_2].number, 2_500, "2023 预分配"),
        IssuanceLine(world.accounts[SD_1].number, -300, "多退少补")])
    s = proposal_summary(p)
    assert (s.lines, s.total_t) == (3, 3_200)
    assert [(leg.target.number, leg.quantity, leg.target.before, leg.target.after) for leg in s.legs] == [
        (world.accounts[SD_1].number, 1_000, 0, 1_000), (world.accounts[SD_2].number, 2_500, 0, 2_500), (world.accounts[SD_1].number, -300, 0, -300)]
    page = client_for(world.registry_b, verified=True).get("/registry/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "3 lines, +3,200 t in total" in page and "issuance or claw-back" in page
    assert "{&#x27;" not in page and "{'" not in page  # no raw dict


def test_a_wrong_code_executes_nothing_and_the_right_one_signs(world):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _seed(world, 500)
    p = deduction_propose(key="ded-1", account=world.accounts[SD_1], unit_type=world.cea, quantity=30, decision_ref="鲁环罚〔2025〕1号",
                          actor=world.registry_a)
    b = client_for(world.registry_b, verified=True)
    for bad in ("", "12345", "abcdef", "0" * 9, "１２３４５６"):
        r = b.post("/registry/decide/", {"proposal": p.pk, "decision": "approve", "otp_token": bad}, follow=True)
        assert r.status_code == 200
        assert any(m.startswith("R1201") for m in msgs(r)) or any("otp_token" in m for m in msgs(r))
    right = totp_token(world.registry_b.username)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    r = b.post("/registry/decide/", {"proposal": p.pk, "decision": "approve", "otp_token": wrong}, follow=True)
    assert any(m.startswith("R1201") for m in msgs(r))
    assert Proposal.objects.get(pk=p.pk).status == "proposed"
    assert _total(world.accounts[SD_1]) == 500
    # after a failure the device refuses every code for a while (django-otp throttling: 1 s, doubling); let it pass
    TOTPDevice.objects.filter(user=world.registry_b).update(throttling_failure_timestamp=None)
    r = b.post("/registry/decide/", {"proposal": p.pk, "decision": "approve", "otp_token": right}, follow=True)
    assert Proposal.objects.get(pk=p.pk).status == "executed"
    assert any(m.startswith("Signed and executed") or m.startswith("已签署并执行") for m in msgs(r))
    assert _total(world.accounts[SD_1]) == 470
    # the same code again (replay) is refused even for another proposal
    q = deduction_propose(key="ded-2", account=world.accounts[SD_1], unit_type=world.cea, quantity=1, decision_ref="x", actor=world.registry_a)
    r = b.post("/registry/decide/", {"proposal": q.pk, "decision": "approve", "otp_token": right}, follow=True)
    assert any(m.startswith("R1201") for m in msgs(r)) and Proposal.objects.get(pk=q.pk).status == "proposed"


def test_an_approver_without_a_confirmed_device_cannot_sign(world):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _seed(world, 50)
    p = deduction_propose(key="ded-3", account=world.accounts[SD_1], unit_type=world.cea, quantity=5, decision_ref="x", actor=world.registry_a)
    b = client_for(world.registry_b, verified=True)
    TOTPDevice.objects.filter(user=world.registry_b).update(confirmed=False)
    r = b.post("/registry/decide/", {"proposal": p.pk, "decision": "approve", "otp_token": "123456"}, follow=True)
    assert any(m.startswith("R0505") for m in msgs(r))  # its session is no longer verified by a confirmed device
    assert Proposal.objects.get(pk=p.pk).status == "proposed"
    # a session verified some other way still cannot sign without a TOTP device of its own
    from cets.registry.checks import R1202
    from cets.registry.signing import signing_refusal

    assert signing_refusal(world.registry_b, "123456") is R1202


def test_messages_say_proposed_and_waiting_then_rejected(world):
    _seed(world, 100)
    a = client_for(world.registry_a, verified=True)
    r = a.post("/registry/deduction/", {"key": "ded-web", "account": world.accounts[SD_1].number, "unit_type": "CEA-2023", "quantity": "10",
                                        "reason": "鲁环罚〔2025〕2号"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert any(m.startswith("Proposed and waiting for a second approval") and "ded-web" in m for m in msgs(r))
    p = Proposal.objects.get(key="ded-web")
    r = client_for(world.registry_b, verified=True).post("/registry/decide/", {"proposal": p.pk, "decision": "reject", "reason": "duplicate"},
                                                         follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert any(m.startswith("Rejected") for m in msgs(r))
    assert Proposal.objects.get(pk=p.pk).status == "rejected" and _total(world.accounts[SD_1]) == 100
    r = client_for(world.registry_b, verified=True).post("/registry/decide/", {"proposal": "99999999999999999999", "decision": "approve"}, follow=True)
    assert r.status_code == 200  # out of range: a form error, never a 500


def test_the_review_is_in_one_language(world):
    _seed(world, 100)
    deduction_propose(key="ded-zh", account=world.accounts[SD_1], unit_type=world.cea, quantity=10, decision_ref="鲁环罚〔2025〕3号", actor=world.registry_a)
    b = client_for(world.registry_b, verified=True)
    zh = b.get("/registry/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "核减" in zh and "签署并执行" in zh and "100 → 100" not in zh and "100 → 90" in zh
    assert "deduction on a decision" not in zh and "deducted (cancelled)" not in zh
    en = b.get("/registry/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "deduction on a decision" in en and "deducted (cancelled)" in en and "Sign and execute" in en


def test_an_out_of_range_quantity_is_a_form_error_and_proposes_nothing(world):
    a = client_for(world.registry_a, verified=True)
    for q in ("100000000000000000000", "-100000000000000000000", "1000000000000000"):
        r = a.post("/registry/issuance/", {"key": f"big-{len(q)}-{q[0]}", "account": world.accounts[SD_1].number, "unit_type": "CEA-2023",
                                           "quantity": q, "reason": "x"}, follow=True)
        assert r.status_code == 200 and any(m.startswith("quantity:") for m in msgs(r))
    assert not Proposal.objects.filter(key__startswith="big-").exists()
