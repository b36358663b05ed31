"""Login, logout and CSRF on the web pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import PASSWORD, SD_1, with_password

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/entities/", f"/entities/{SD_1}/"])
def test_pages_require_login(client, web, path):
    r = client.get(path)
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("web:login"))
    assert "next=" in r["Location"]


@pytest.mark.argon2
def test_login_with_argon2_password_and_csrf_token(web):
    assert with_password(web.mee).password.startswith("argon2$")  # the national authority signs in without a second factor
    c = Client(enforce_csrf_checks=True)
    page = c.get(reverse("web:login"))
    assert page.status_code == 200
    token = c.cookies["csrftoken"].value
    r = c.post(reverse("web:login"), {"username": "w-mee", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert r.status_code == 302
    assert r["Location"] == reverse("web:dashboard")
    assert c.get("/").status_code == 200


def test_login_with_wrong_password_shows_error(client, web):
    with_password(web.province_sd)
    r = client.post(reverse("web:login"), {"username": "w-psd", "password": "wrong-password-1"})
    assert r.status_code == 200
    assert "用户名或密码错误" in r.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_post_without_csrf_token_is_refused(web):
    with_password(web.province_sd)
    c = Client(enforce_csrf_checks=True)
    r = c.post(reverse("web:login"), {"username": "w-psd", "password": PASSWORD})
    assert r.status_code == 403
    assert "_auth_user_id" not in c.session


def test_logout_is_post_only_and_needs_csrf(web):
    c = Client(enforce_csrf_checks=True)
    c.force_login(web.province_sd)
    assert c.get(reverse("web:logout")).status_code == 405
    assert c.post(reverse("web:logout")).status_code == 403  # no token
    page = c.get("/")
    assert b'action="/logout/"' in page.content
    r = c.post(reverse("web:logout"), {"csrfmiddlewaretoken": c.cookies["csrftoken"].value})
    assert r.status_code == 302
    assert r["Location"] == reverse("web:login")
    assert c.get("/").status_code == 302


def test_language_switch_needs_csrf(web):
    c = Client(enforce_csrf_checks=True)
    c.force_login(web.province_sd)
    assert c.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 403
