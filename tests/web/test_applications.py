"""Account opening pages (issue 17): the public form with documents, the registry's review and four eyes on the
pages, and the identity number never shown unmasked — in any page, API answer or export that the holder's
counterparties or the public can see, nor on the registry's own pages."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cets.registry.models import AccountApplication
from tests.browser import totp_token
from tests.conftest import SD_1, client_for

PID = "11010519850102123X"
MASKED = "110105********123X"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def msgs(r):
    return [str(m) for m in r.context["messages"]]


def form(**over):
    d = {"holder_kind": "individual", "name": "王小明", "resident_id": PID, "phone": "13800000000", "address": "北京市朝阳区某路1号",
         "occupation": "工程师", "funds_source": "工资收入", "bank_account": "6222020000000000000", "username": "wangxm",
         "password": "a-long-password-1", "risk_acknowledged": "on", "identity_card": SimpleUploadedFile("id.png", PNG, "image/png")}
    d.update(over)
    return d


def person_client() -> Client:
    c = Client()
    # a holder's user signs in with its dynamic code (else it is held on /security/second-factor/)
    r = c.post("/login/", {"username": "wangxm", "password": "a-long-password-1", "otp_token": totp_token("wangxm") or ""})
    assert r.status_code == 302, r.content[:300]
    return c


def open_by_pages(world) -> AccountApplication:
    anon = Client()
    assert anon.get("/registry/apply/").status_code == 200
    r = anon.post("/registry/apply/", form(), follow=True)
    app = AccountApplication.objects.get()
    assert any(app.reference in m for m in msgs(r))
    a, b = client_for(world.registry_a, verified=True), client_for(world.registry_b, verified=True)
    assert 'id="applications-waiting"' in a.get("/registry/").content.decode()  # the registry sees one is waiting
    page = a.post("/registry/applications/", {"q": PID}).content.decode()
    assert app.reference in page and MASKED in page
    assert a.post(f"/registry/applications/{app.reference}/decide/", {"action": "propose", "note": "证件核对无误"}).status_code == 302
    app.refresh_from_db()
    r = a.post("/registry/decide/", {"proposal": app.proposal_id, "decision": "approve", "otp_token": totp_token(world.registry_a.username)},
               follow=True)  # the proposer cannot
    assert any(m.startswith("R0501") for m in msgs(r))
    r = b.post("/registry/decide/", {"proposal": app.proposal_id, "decision": "approve", "otp_token": totp_token(world.registry_b.username)},
               follow=True)
    app.refresh_from_db()
    assert app.status == "approved"
    return app


def test_public_form_review_and_four_eyes_open_the_account(world):
    app = open_by_pages(world)
    c = person_client()
    assert app.account.number in c.get("/registry/").content.decode()


def test_refusals_show_their_code_and_unverified_or_other_roles_cannot_review(world):
    anon = Client()
    r = anon.post("/registry/apply/", form(resident_id="110105198501021231"), follow=True)
    assert any(m.startswith("L0304") for m in msgs(r)) and AccountApplication.objects.count() == 0
    body = r.content.decode()
    assert "110105198501021231" not in body  # the typed number is not echoed back
    r = anon.post("/registry/apply/", form(identity_card=SimpleUploadedFile("id.exe", b"MZ\x90\x00", "image/png")), follow=True)
    assert any(m.startswith("R0903") for m in msgs(r))
    anon.post("/registry/apply/", form())
    ref = AccountApplication.objects.get().reference
    assert anon.get("/registry/applications/").status_code == 302  # login
    assert client_for(world.entity_sd1_user).get("/registry/applications/").status_code == 404
    assert client_for(world.entity_sd1_user).get(f"/registry/applications/{ref}/").status_code == 404
    r = client_for(world.registry_a).post(f"/registry/applications/{ref}/decide/", {"action": "propose"}, follow=True)
    assert any(m.startswith("R0505") for m in msgs(r))
    doc = AccountApplication.objects.get().documents.get()
    assert client_for(world.entity_sd1_user).get(f"/registry/applications/{ref}/documents/{doc.pk}/").status_code == 404
    r = client_for(world.registry_a).get(f"/registry/applications/{ref}/documents/{doc.pk}/")
    assert r.status_code == 200 and r.content == PNG and r["Content-Disposition"].startswith("attachment")


def test_the_whole_identity_number_never_appears(world, settings):
    """After the account is open and has traded in the registry: every page the operators, a counterparty and the
    public open, every API answer and every export shows the number masked or not at all."""
    from cets.registry.models import AccountKind, Position, TransferKind
    from cets.registry.services import Leg, system_account, transfer_post

    app = open_by_pages(world)
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    transfer_post(key="to-person", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(app.account, Position.REGISTRY), quantity=100)
    transfer_post(key="person-to-entity", kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(app.account, Position.REGISTRY),
                  credit=Leg(world.accounts[SD_1], Position.REGISTRY), quantity=40)
    person = person_client()
    op = client_for(world.registry_a, verified=True)
    seen = []
    urls = {
        op: ["/registry/", "/registry/applications/", f"/registry/applications/{app.reference}/",
             f"/api/v1/registry/accounts/{app.account.number}", f"/api/v1/registry/accounts/{app.account.number}/journal",
             f"/api/v1/registry/reports/accounts/{app.account.number}/statement?date_from=2000-01-01&date_to=2100-01-01",
             f"/api/v1/registry/reports/accounts/{app.account.number}/statement.xlsx?date_from=2000-01-01&date_to=2100-01-01",
             "/api/v1/registry/applications", f"/api/v1/registry/applications/{app.reference}"],
        client_for(world.entity_sd1_user): ["/", "/registry/", "/trading/", "/trading/orders/",
                                            f"/api/v1/registry/accounts/{world.accounts[SD_1].number}/journal",
                                            f"/api/v1/registry/reports/accounts/{world.accounts[SD_1].number}/statement?date_from=2000-01-01&date_to=2100-01-01"],
        person: ["/", "/registry/", "/trading/", "/trading/funds/",
                 f"/api/v1/registry/reports/accounts/{app.account.number}/statement?date_from=2000-01-01&date_to=2100-01-01"],
        Client(): ["/public/", "/registry/apply/", "/public/holder-changes/"],
    }
    r = op.post("/registry/applications/", {"q": PID})  # the search by the whole number
    assert r.status_code == 200 and MASKED.encode() in r.content and PID.encode() not in r.content
    for client, paths in urls.items():
        for path in paths:
            r = client.get(path)
            body = r.content if isinstance(r.content, bytes) else b""
            if path.endswith(".xlsx") or "statement.xlsx" in path:
                import io
                import zipfile

                with zipfile.ZipFile(io.BytesIO(body)) as z:
                    body = b"".join(z.read(n) for n in z.namelist())
            seen.append((path, r.status_code))
            assert PID.encode() not in body, path
            assert PID.lower().encode() not in body, path
    assert all(code < 500 for _, code in seen), seen
    assert any(code == 200 for _, code in seen)
