"""Issue 16: a user enrols its own second factor (``/security/second-factor/``, the parties services
``totp_device_enrol_start`` / ``totp_device_enrol_confirm``, ``/api/v1/security/second-factor``): the right code
confirms the device and verifies the session, a wrong one is refused (L0501) and confirms nothing, replacing a device
needs a current code of the old one (L0502), and a role that needs the factor is held on the page after signing in
without a device while one that does not is not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from cets.core.errors import CetsError
from cets.parties.models import SecurityEvent
from cets.parties.security import ENROL_PENDING
from cets.parties.services import totp_device_enrol_confirm, totp_device_enrol_start, totp_device_ensure
from tests.web.conftest import PASSWORD, with_password

PAGE = "/security/second-factor/"


@pytest.fixture(autouse=True)
def _axes_clean(db):
    from axes.utils import reset

    reset()


def code_of(device, *, later: int = 0) -> str:
    t = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    t.time = t.time + later * device.step
    return f"{t.token():06d}"


def wrong_code(device) -> str:
    right = {code_of(device, later=k) for k in (-1, 0, 1)}
    return next(c for c in (f"{i:06d}" for i in range(1000)) if c not in right)


def unthrottle(device) -> None:
    """Move ``device``'s last failure 5 minutes back, past django-otp's throttling delay (as if the user waited)."""
    device.refresh_from_db()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=device.throttling_failure_timestamp - dt.timedelta(minutes=5))


def pending_device(c: Client) -> TOTPDevice:
    return TOTPDevice.objects.get(pk=c.session[ENROL_PENDING], confirmed=False)


def test_enrol_with_the_right_code_confirms_the_device_and_verifies_the_session(web):
    c = Client()
    c.force_login(web.entity_sd1)
    page = c.get(PAGE).content.decode()
    assert 'id="totp-start"' in page
    r = c.post(PAGE, {"action": "start"})
    assert r.status_code == 200
    device = pending_device(c)
    body = r.content.decode()
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert secret in body and "otpauth://totp/" in body
    assert c.get("/api/v1/security/second-factor").json() == {"active": False, "verified": False}
    r = c.post(PAGE, {"action": "confirm", "code": code_of(device), "next": "/holder/"})
    assert r.status_code == 302 and r["Location"] == "/holder/"
    device.refresh_from_db()
    assert device.confirmed
    assert c.get("/api/v1/security/second-factor").json() == {"active": True, "verified": True}
    assert SecurityEvent.objects.filter(kind="totp_enrolled", user=web.entity_sd1).count() == 1
    assert 'id="totp-active"' in c.get(PAGE).content.decode()


def test_a_wrong_code_is_refused_and_nothing_is_confirmed(web):
    c = Client()
    c.force_login(web.entity_sd1)
    c.post(PAGE, {"action": "start"})
    device = pending_device(c)
    r = c.post(PAGE, {"action": "confirm", "code": wrong_code(device)})
    assert r.status_code == 200
    assert "L0501" in r.content.decode()
    assert not TOTPDevice.objects.filter(user=web.entity_sd1, confirmed=True).exists()
    assert SecurityEvent.objects.filter(kind="totp_failed", code="L0501", user=web.entity_sd1).exists()
    assert not SecurityEvent.objects.filter(kind="totp_enrolled").exists()
    for bad in ("", "12345", "abcdef", "1234567", " 12345"):
        with pytest.raises(CetsError) as e:
            totp_device_enrol_confirm(user=web.entity_sd1, device_id=device.pk, code=bad)
        assert e.value.code == "L0501"
    assert c.get("/api/v1/security/second-factor").json() == {"active": False, "verified": False}


def test_confirm_needs_a_device_started_by_this_session_of_this_user(web):
    mine = totp_device_enrol_start(user=web.entity_sd1)
    device = TOTPDevice.objects.get(pk=mine.device_id)
    for user, device_id in ((web.registry_a, mine.device_id), (web.entity_sd1, None), (web.entity_sd1, True), (web.entity_sd1, mine.device_id + 999)):
        with pytest.raises(CetsError) as e:
            totp_device_enrol_confirm(user=user, device_id=device_id, code=code_of(device))
        assert e.value.code == "L0503"
    other = Client()  # the same user in another session has not started it: nothing to confirm there
    other.force_login(web.entity_sd1)
    r = other.post(PAGE, {"action": "confirm", "code": code_of(device)})
    assert "L0503" in r.content.decode()
    device.refresh_from_db()
    assert not device.confirmed


def test_replacing_a_device_needs_a_current_code_of_the_old_one(web):
    user = web.registry_a
    old, _ = totp_device_ensure(user=user)
    c = Client()
    c.force_login(user)
    page = c.get(PAGE).content.decode()
    assert 'id="totp-active"' in page and 'id="totp-replace"' in page and 'id="totp-start"' not in page
    for bad in ("", wrong_code(old)):
        r = c.post(PAGE, {"action": "start", "current_code": bad}, follow=True)
        assert "L0502" in r.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=False).exists()  # nothing started
    assert SecurityEvent.objects.filter(kind="totp_failed", code="L0502", user=user).count() == 2
    # django-otp throttles after a failure (1 s, doubling): at once even the right code is refused
    assert "L0502" in c.post(PAGE, {"action": "start", "current_code": code_of(old)}, follow=True).content.decode()
    unthrottle(old)
    r = c.post(PAGE, {"action": "start", "current_code": code_of(old)})
    new = pending_device(c)
    assert new.pk != old.pk and TOTPDevice.objects.filter(pk=old.pk, confirmed=True).exists()  # the old one works until confirmed
    c.post(PAGE, {"action": "confirm", "code": code_of(new)})
    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed")) == [(new.pk, True)]
    ev = SecurityEvent.objects.get(kind="totp_enrolled", user=user)
    assert ev.detail == "replaced 1"


def test_api_enrols_in_two_steps_and_refuses_replacement_without_the_old_code(web):
    c = Client()
    c.force_login(web.entity_sd1)
    r = c.post("/api/v1/security/second-factor/confirm", {"code": "123456"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "L0503"
    r = c.post("/api/v1/security/second-factor/start", {}, content_type="application/json")
    assert r.status_code == 200
    secret, uri = r.json()["secret"], r.json()["uri"]
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    device = pending_device(c)
    r = c.post("/api/v1/security/second-factor/confirm", {"code": wrong_code(device)}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "L0501"
    for bad in ({"code": 123456}, {"code": "12345a"}, {}):
        assert c.post("/api/v1/security/second-factor/confirm", bad, content_type="application/json").status_code == 422
    unthrottle(device)
    r = c.post("/api/v1/security/second-factor/confirm", {"code": code_of(device)}, content_type="application/json")
    assert r.status_code == 200 and r.json() == {"active": True, "verified": True}
    r = c.post("/api/v1/security/second-factor/start", {}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "L0502"
    assert TOTPDevice.objects.filter(user=web.entity_sd1).count() == 1
    assert Client().post("/api/v1/security/second-factor/start", {}, content_type="application/json").status_code == 401


def test_a_role_that_needs_the_factor_is_held_on_the_page_until_it_enrols(web):
    with_password(web.entity_sd1)
    c = Client()
    r = c.post("/login/", {"username": "w-esd1", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == f"{PAGE}?next=%2F"
    page = c.get(r["Location"]).content.decode()
    assert 'id="enrol-required"' in page
    for path in ("/", "/holder/", "/registry/", "/entities/"):
        r = c.get(path)
        assert r.status_code == 302 and r["Location"].startswith(PAGE), path
    assert c.get("/api/v1/security/second-factor").status_code == 200  # the API is not held (it refuses on its own)
    assert c.get("/public/holder-changes/").status_code == 200
    c.post(PAGE, {"action": "start"})
    device = pending_device(c)
    r = c.post(PAGE, {"action": "confirm", "code": code_of(device), "next": "/holder/"})
    assert r["Location"] == "/holder/"
    assert c.get("/holder/").status_code == 200
    assert c.get("/").status_code == 200


def test_the_hold_speaks_both_languages(web):
    with_password(web.entity_sd1)
    c = Client()
    c.post("/login/", {"username": "w-esd1", "password": PASSWORD})
    zh = c.get(PAGE, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "动态口令" in zh and "绑定" in zh
    c.post("/i18n/setlang/", {"language": "en", "next": PAGE})
    en = c.get(PAGE).content.decode()
    assert "before you continue, enrol a second factor" in en


def test_a_role_that_does_not_need_it_is_not_held(web):
    with_password(web.mee)
    c = Client()
    r = c.post("/login/", {"username": "w-mee", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/"
    assert c.get("/").status_code == 200
    assert c.get("/entities/").status_code == 200
    page = c.get(PAGE).content.decode()  # it may still enrol one of its own
    assert 'id="enrol-required"' not in page and 'id="totp-start"' in page


def test_a_user_with_a_device_signs_in_with_its_code_and_is_not_held(web):
    with_password(web.entity_sd1)
    device, _ = totp_device_ensure(user=web.entity_sd1)
    c = Client()
    r = c.post("/login/", {"username": "w-esd1", "password": PASSWORD, "otp_token": code_of(device)})
    assert r.status_code == 302 and r["Location"] == "/"
    assert c.get("/holder/").status_code == 200
