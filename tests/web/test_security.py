"""Issue 16 defences: sign-in throttling and lockout (django-axes), the admin's second factor, security
events for auditors, idle sessions, password change, response headers, Swagger UI without a CDN."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.oath import TOTP

from cets.parties.models import Organisation, Role, SecurityEvent
from cets.parties.services import member_create, totp_device_ensure
from tests.conftest import client_for

PW = "test-password-123"


@pytest.fixture(autouse=True)
def _axes_clean(db):
    from axes.utils import reset

    reset()


def _code(device) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def test_five_failures_lock_the_account_even_for_the_right_password(world):
    c = Client()
    for _ in range(5):
        c.post("/login/", {"username": "mee", "password": "wrong-password"})
    r = c.post("/login/", {"username": "mee", "password": PW})
    assert r.status_code == 429
    assert "S0301" in r.content.decode()
    assert "_auth_user_id" not in c.session
    assert SecurityEvent.objects.filter(kind="login_failed", username="mee").count() >= 5
    assert SecurityEvent.objects.filter(kind="locked_out", code="S0301", username="mee").exists()


def test_failures_from_one_address_lock_the_address(world):
    c = Client()
    for i in range(5):
        c.post("/login/", {"username": f"nobody{i}", "password": "x"})
    r = Client().post("/login/", {"username": "psd", "password": PW})  # another account, same address
    assert r.status_code == 429


def test_admin_login_needs_the_totp_code_of_a_user_with_a_device(world):
    op = world.registry_a
    op.is_staff = True
    op.save()
    device, _ = totp_device_ensure(user=op)
    c = Client()
    r = c.post("/admin/login/", {"username": "ra", "password": PW, "next": "/admin/"})
    assert r.status_code == 200
    assert "_auth_user_id" not in c.session  # the password alone is not enough
    assert SecurityEvent.objects.filter(kind="totp_failed", code="S0302", username="ra").exists()
    r = c.post("/admin/login/", {"username": "ra", "password": PW, "otp_token": _code(device), "next": "/admin/"})
    assert r.status_code == 302
    assert c.get("/admin/").status_code == 200
    # a staff session of that user without the second factor does not open the admin
    unverified = Client()
    unverified.force_login(op)
    assert unverified.get("/admin/").status_code == 302


def test_admin_login_with_password_only_for_staff_without_a_device(world):
    u = world.mee
    u.is_staff = True
    u.save()
    c = Client()
    assert c.post("/admin/login/", {"username": "mee", "password": PW, "next": "/admin/"}).status_code == 302
    assert c.get("/admin/").status_code == 200


def test_auditor_reads_security_events_others_get_404(world):
    org = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="审计")
    auditor = member_create(username="aud", organisation=org, role=Role.AUDITOR, password=PW)
    Client().post("/login/", {"username": "esd1", "password": "wrong"})
    # a refused API call (R0502) is recorded too
    r = client_for(world.entity_sd1_user, verified=True).post("/api/v1/registry/vintages", {"key": "k", "instrument": "CEA", "vintage": "2030", "cap_t": 1},
                                               content_type="application/json")
    assert r.status_code == 403
    assert r.json()["code"] == "R0502"
    page = client_for(auditor).get("/security-events/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "esd1" in text
    assert "R0502" in text
    assert "/api/v1/registry/vintages" in text
    assert client_for(auditor).get("/security-events/?kind=login_failed").content.decode().count("<tr>") >= 2
    assert client_for(world.entity_sd1_user).get("/security-events/").status_code == 404
    assert client_for(auditor).post("/security-events/").status_code == 405  # read-only


def test_idle_session_timeout_settings(settings):
    from cets import settings as cets_settings

    assert cets_settings.SESSION_COOKIE_AGE == 30 * 60
    assert cets_settings.SESSION_SAVE_EVERY_REQUEST is True


def test_password_change_linked_and_working(world):
    c = Client()  # a role without the second factor (an entity's user is first held on /security/second-factor/)
    assert c.post("/login/", {"username": "mee", "password": PW}).status_code == 302
    assert 'href="/password/"' in c.get("/").content.decode()
    r = c.post("/password/", {"old_password": PW, "new_password1": "a-new-Secret-2025", "new_password2": "a-new-Secret-2025"})
    assert r.status_code == 302
    assert r["Location"] == "/password/done/"
    assert c.get("/").status_code == 200  # still signed in
    assert Client().post("/login/", {"username": "mee", "password": "a-new-Secret-2025"}).status_code == 302
    assert SecurityEvent.objects.filter(kind="password_changed", username="mee").exists()


def test_headers_csp_without_inline_and_permissions_policy(world):
    r = client_for(world.mee).get("/")
    csp = r["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "camera=()" in r["Permissions-Policy"]
    page = r.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert " style=" not in page
    assert " onchange=" not in page


def test_hsts_when_https(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "from cets import settings as s; print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE)"],
                         env={"CETS_HTTPS": "1", "CETS_VAR_DIR": str(tmp_path), "CETS_SECRET_KEY": "x", "PATH": ""}, capture_output=True, text=True)
    assert out.stdout.split() == ["31536000", "True"], out.stderr


def test_api_docs_use_only_same_origin_assets(world):
    r = client_for(world.mee).get("/api/v1/docs")
    assert r.status_code == 200
    page = r.content.decode()
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any(ref.endswith("swagger-ui-bundle.js") for ref in refs)
    assert all(ref.startswith("/") and not ref.startswith("//") for ref in refs), refs
    assert not re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))", page)


def test_admin_holds_out_a_second_factor_role_without_a_device(world):
    """A staff registry operator who has not enrolled a TOTP device cannot reach the admin with its password alone
    (S0303): neither through /admin/login/ nor with a session opened on /login/."""
    op = world.registry_a
    op.is_staff = True
    op.save()
    c = Client()
    r = c.post("/admin/login/", {"username": "ra", "password": PW, "next": "/admin/"})
    assert r.status_code == 200
    assert "S0303" in r.content.decode()
    assert "_auth_user_id" not in c.session
    assert SecurityEvent.objects.filter(code="S0303", username="ra").exists()
    session = Client()
    session.force_login(op)
    assert session.get("/admin/").status_code == 302
    device, _ = totp_device_ensure(user=op)
    r = c.post("/admin/login/", {"username": "ra", "password": PW, "otp_token": _code(device), "next": "/admin/"})
    assert r.status_code == 302
    assert c.get("/admin/").status_code == 200
