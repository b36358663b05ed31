"""Account opening for natural persons and institutions (draft Measures Art. 14, 18): KYC fields and documents,
the registry's review with four eyes, the holder and account on approval, refusals, and the identity number shown
only masked."""

from __future__ import annotations

import pytest

from cets.core.errors import CetsError
from tests.conftest import uscc_for

PID = "11010519850102123X"   # valid (GB 11643 check worked by hand in tests/core/test_resident_id.py)
MASKED = "110105********123X"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"
KYC_PERSON = {"phone": "13800000000", "address": "北京市朝阳区某路1号", "occupation": "工程师", "funds_source": "工资收入",
              "bank_account": "6222020000000000000", "risk_acknowledged": True}
KYC_INST = {"legal_representative": "张三", "contact_person": "李四", "phone": "01000000000", "address": "上海市浦东新区某路2号",
            "business_scope": "投资管理", "bank_account": "3100000000000000", "risk_acknowledged": True}


def submit_person(**over):
    from cets.registry.services import application_submit

    args = dict(holder_kind="individual", name="王小明", resident_id=PID, kyc=dict(KYC_PERSON), username="wangxm",
                password="a-long-password-1", documents=[("identity_card", "id.png", PNG)])
    args.update(over)
    return application_submit(**args)


def test_an_individual_applies_one_operator_proposes_another_approves_and_the_account_opens(world):
    from cets.parties.models import Organisation, Role
    from cets.registry.models import AccountApplication, AccountKind, Proposal
    from cets.registry.services import application_propose, proposal_approve

    app = submit_person()
    assert app.status == AccountApplication.Status.SUBMITTED and app.documents.count() == 1
    assert app.identifier == MASKED
    p = application_propose(reference=app.reference, actor=world.registry_a)
    assert p.kind == "account_application" and PID not in str(p.payload) and MASKED in str(p.payload)
    with pytest.raises(CetsError) as e:  # the proposer cannot approve (four eyes)
        proposal_approve(proposal_id=p.pk, approver=world.registry_a)
    assert e.value.code == "R0501"
    assert not Organisation.objects.filter(resident_id=PID).exists()
    p = proposal_approve(proposal_id=p.pk, approver=world.registry_b)
    assert p.status == Proposal.Status.EXECUTED
    app.refresh_from_db()
    person = Organisation.objects.get(resident_id=PID)
    assert (app.status, person.kind, person.province, person.region_code) == ("approved", "individual", "11", "110105")
    assert app.account.kind == AccountKind.INDIVIDUAL and app.account.holder == person and PID not in app.account.number
    user = person.members.get().user
    assert (user.username, user.membership.role) == ("wangxm", Role.TRADER) and user.check_password("a-long-password-1")
    assert p.result["holder"] == MASKED


def test_an_institution_opens_an_institution_account(world):
    from cets.registry.services import application_propose, application_submit, proposal_approve

    code = uscc_for(77, "9131000")
    app = application_submit(holder_kind="institution", name="某投资机构", uscc=code, kyc=dict(KYC_INST), username="fund1",
                             password="a-long-password-1", documents=[("business_licence", "licence.pdf", PDF)])
    p = application_propose(reference=app.reference, actor=world.registry_b)
    proposal_approve(proposal_id=p.pk, approver=world.registry_a)
    app.refresh_from_db()
    assert (app.account.kind, app.holder.uscc, app.holder.province) == ("institution", code, "31")


def test_rejecting_the_proposal_rejects_the_application_and_opens_nothing(world):
    from cets.parties.models import Organisation
    from cets.registry.services import application_propose, proposal_reject

    app = submit_person()
    p = application_propose(reference=app.reference, actor=world.registry_a)
    proposal_reject(proposal_id=p.pk, approver=world.registry_b, reason="证件不清晰")
    app.refresh_from_db()
    assert app.status == "rejected" and not Organisation.objects.filter(resident_id=PID).exists()
    submit_person()  # a rejected application does not block a new one


@pytest.mark.parametrize(("over", "code"), [
    ({"resident_id": "110105198501021231"}, "L0304"),            # wrong check character
    ({"resident_id": "110105198502301230"}, "L0303"),            # 30 February
    ({"resident_id": "12345"}, "L0301"),
    ({"kyc": {**KYC_PERSON, "phone": ""}}, "R0901"),
    ({"kyc": {**KYC_PERSON, "risk_acknowledged": False}}, "R0901"),
    ({"documents": []}, "R0902"),                                  # no identity document
    ({"documents": [("identity_card", "id.exe", b"MZ\x90\x00")]}, "R0903"),
    ({"documents": [("identity_card", "big.png", PNG + b"\x00" * (5 * 1024 * 1024))]}, "S0201"),
    ({"documents": [("identity_card", "id.png", PNG)] * 7}, "R0903"),
    ({"username": "ra"}, "R0904"),                                 # too short (and taken)
    ({"username": "ra-taken"}, None),
    ({"password": "short"}, "R0905"),
    ({"holder_kind": "entity"}, "R0106"),
])
def test_refusals_change_nothing_and_never_show_the_whole_number(world, over, code):
    from cets.registry.models import AccountApplication

    if code is None:
        assert submit_person(**over).status == "submitted"
        return
    with pytest.raises(CetsError) as e:
        submit_person(**over)
    assert e.value.code == code
    assert PID not in str(e.value) and "110105198501021231" not in str(e.value)
    assert AccountApplication.objects.count() == 0


def test_one_open_application_per_number_and_no_second_holder(world):
    from cets.registry.services import application_propose, proposal_approve

    app = submit_person()
    with pytest.raises(CetsError) as e:
        submit_person(username="other")
    assert (e.value.code, MASKED in str(e.value), PID in str(e.value)) == ("R0906", True, False)
    proposal_approve(proposal_id=application_propose(reference=app.reference, actor=world.registry_a).pk, approver=world.registry_b)
    with pytest.raises(CetsError) as e:
        submit_person(username="other")
    assert e.value.code == "L0306"


def test_only_registry_operators_review_and_search_by_the_whole_number(world):
    from cets.registry.services import application_propose, application_reject, application_search

    app = submit_person()
    with pytest.raises(CetsError) as e:
        application_propose(reference=app.reference, actor=world.entity_sd1_user)
    assert e.value.code == "R0502"
    assert list(application_search(actor=world.registry_a, q=PID)) == [app]
    assert list(application_search(actor=world.registry_a, q=PID[:10])) == []  # no listing by a fragment
    application_reject(reference=app.reference, reason="资料不全", actor=world.registry_a)
    with pytest.raises(CetsError) as e:
        application_propose(reference=app.reference, actor=world.registry_a)
    assert e.value.code == "R0907"


def test_the_individual_s_account_has_statements_and_holder_protection_like_an_entity(world):
    """A statement (and its XLSX) names the holder masked; a restricted account sends nothing (R0104); reopening
    it needs a second operator (R0506 alone)."""
    import datetime as dt
    import io

    from openpyxl import load_workbook

    from cets.registry.models import AccountKind, AccountStatus, Position, TransferKind
    from cets.registry.reports import account_statement, statement_xlsx
    from cets.registry.services import (
        Leg,
        account_status_set,
        application_propose,
        proposal_approve,
        system_account,
        transfer_post,
    )

    app = submit_person()
    proposal_approve(proposal_id=application_propose(reference=app.reference, actor=world.registry_a).pk, approver=world.registry_b)
    app.refresh_from_db()
    acc = app.account
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    transfer_post(key="to-person", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(acc, Position.REGISTRY), quantity=100)
    today = dt.date.today()
    s = account_statement(acc, today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    assert s.holder_uscc == MASKED
    wb = load_workbook(io.BytesIO(statement_xlsx(s)))
    cells = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None)
    assert MASKED in cells and PID not in cells
    from cets.registry.reports import statement_html

    html = statement_html(s)
    assert MASKED in html and PID not in html and "resident ID" in html
    account_status_set(account=acc, status=AccountStatus.RESTRICTED, reason="court order", actor=world.registry_a)
    with pytest.raises(CetsError) as e:
        transfer_post(key="out", kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(acc, Position.REGISTRY),
                      credit=Leg(world.accounts[next(iter(world.accounts))], Position.REGISTRY), quantity=10)
    assert e.value.code == "R0104"
    with pytest.raises(CetsError) as e:
        account_status_set(account=acc, status=AccountStatus.OPEN, reason="x", actor=world.registry_a)
    assert e.value.code == "R0506"


def test_the_api_enters_reviews_and_approves_with_four_eyes(world):
    import base64
    import json

    from tests.conftest import client_for, signing_code

    a, b = client_for(world.registry_a, verified=True), client_for(world.registry_b, verified=True)
    body = {"holder_kind": "individual", "name": "王小明", "resident_id": PID, "kyc": KYC_PERSON, "username": "wangxm",
            "password": "a-long-password-1", "documents": [{"kind": "identity_card", "file_name": "id.png",
                                                             "content_base64": base64.b64encode(PNG).decode()}]}
    r = a.post("/api/v1/registry/applications", json.dumps(body), content_type="application/json")
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["identity"] == MASKED and PID not in r.content.decode() and out["submitted_by"] == "ra"
    r = client_for(world.registry_a).post("/api/v1/registry/applications", json.dumps(dict(body, username="x2")), content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (403, "R0505")  # no TOTP, no registry operation
    r = a.post("/api/v1/registry/applications", json.dumps(dict(body, documents=[{"kind": "identity_card", "file_name": "x", "content_base64": "@@"}],
                                                               username="x3", resident_id="440524188001010014")), content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (422, "R0903")
    r = a.post("/api/v1/registry/applications", json.dumps(dict(body, resident_id=PID[:-1] + "1")), content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (422, "L0304") and PID[:-1] + "1" not in r.content.decode()
    found = a.post("/api/v1/registry/applications/search", json.dumps({"q": PID}), content_type="application/json").json()
    assert [x["reference"] for x in found] == [out["reference"]]
    assert client_for(world.entity_sd1_user).get("/api/v1/registry/applications").status_code == 403
    p = a.post(f"/api/v1/registry/applications/{out['reference']}/propose", json.dumps({"note": "ok"}), content_type="application/json").json()
    r = a.post(f"/api/v1/registry/proposals/{p['id']}/approve", json.dumps({"otp_token": signing_code(world.registry_a)}), content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (422, "R0501")
    assert b.post(f"/api/v1/registry/proposals/{p['id']}/approve", json.dumps({"otp_token": signing_code(world.registry_b)}),
                  content_type="application/json").status_code == 200
    done = a.get(f"/api/v1/registry/applications/{out['reference']}").json()
    assert done["status"] == "approved" and done["account"].startswith("NATIONAL-ID-")
