"""Shared fixtures: a small world built with the platform's own services (no mocks)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings as hypothesis_settings

# In CI the property tests run the same examples every time (derandomize), so a red CI is a real failure
# and not a new example found by chance; locally they keep searching.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Real credit codes from data/cets-verification-entities (2023 power list): two in Shandong (37), one in Zhejiang (33).
SD_1 = "913700001630435316"
SD_2 = "91370100163155357D"
ZJ_1 = "91330800586289189R"


def uscc_for(i: int, prefix: str = "9137000") -> str:
    """A valid unified social credit code (GB 32100 check character) for test organisation ``i``."""
    from cets.core.uscc import check_character

    body = f"{prefix}{i:010d}"
    return body + check_character(body)


def when(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), SHANGHAI)


@dataclass
class World:
    sd1: object
    sd2: object
    zj1: object
    accounts: dict
    registry_a: object
    registry_b: object
    province_sd: object
    province_zj: object
    entity_sd1_user: object
    entity_zj1_user: object
    mee: object
    cea: object


@pytest.fixture
def world(db) -> World:
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create
    from cets.registry.models import Instrument
    from cets.registry.services import account_open, system_accounts_ensure, vintage_create

    system_accounts_ensure(market="national", provinces=["33", "37"])
    orgs = {}
    for code, name in ((SD_1, "山东测试一电厂"), (SD_2, "山东测试二电厂"), (ZJ_1, "浙江测试电厂")):
        orgs[code] = Organisation.objects.create(uscc=code, name=name, kind=Organisation.Kind.ENTITY, region_code=code[2:8], province=code[2:4])
    accounts = {code: account_open(holder=o) for code, o in orgs.items()}
    reg = Organisation.objects.create(kind=Organisation.Kind.REGISTRY, name="登记机构")
    mee_org = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="生态环境部")
    sd_auth = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="山东省生态环境厅", province="37")
    zj_auth = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="浙江省生态环境厅", province="33")
    pw = "test-password-123"
    w = World(
        sd1=orgs[SD_1], sd2=orgs[SD_2], zj1=orgs[ZJ_1], accounts=accounts,
        registry_a=member_create(username="ra", organisation=reg, role=Role.REGISTRY_OPERATOR, password=pw),
        registry_b=member_create(username="rb", organisation=reg, role=Role.REGISTRY_OPERATOR, password=pw),
        province_sd=member_create(username="psd", organisation=sd_auth, role=Role.PROVINCIAL_AUTHORITY, province="37", password=pw),
        province_zj=member_create(username="pzj", organisation=zj_auth, role=Role.PROVINCIAL_AUTHORITY, province="33", password=pw),
        entity_sd1_user=member_create(username="esd1", organisation=orgs[SD_1], role=Role.ENTITY, password=pw),
        entity_zj1_user=member_create(username="ezj1", organisation=orgs[ZJ_1], role=Role.ENTITY, password=pw),
        mee=member_create(username="mee", organisation=mee_org, role=Role.NATIONAL_AUTHORITY, password=pw),
        cea=vintage_create(instrument=Instrument.CEA, vintage="2023", cap_t=10_000_000, key="cap-test-2023"),
    )
    return w


def client_for(user, verified: bool = False):
    """A test client logged in as ``user``; ``verified`` adds a TOTP-verified session (django-otp)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from cets.parties.services import totp_device_ensure

    c = Client()
    c.force_login(user)
    if verified:
        device, _ = totp_device_ensure(user=user)
        s = c.session
        s[DEVICE_ID_SESSION_KEY] = device.persistent_id
        s.save()
    return c


def signing_code(user) -> str:
    """A TOTP code ``user`` signs an approval with (a confirmed device is created if it has none). A step the device
    has used already is refused (RFC 6238 replay), so after a use in the same 30 s the next step's code is given
    (within the device's tolerance of one step)."""
    import time

    from django_otp.oath import TOTP

    from cets.parties.services import totp_device_ensure

    device, _ = totp_device_ensure(user=user)
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if device.last_t is not None and device.last_t >= totp.t():
        totp.time = time.time() + device.step
    return f"{totp.token():06d}"


@pytest.fixture(scope="session", autouse=True)
def _live_server_one_request_at_a_time():
    """The browser tests' live server answers one request at a time. On SQLite the test database is in memory and the
    server's threads share the test's one connection: two requests at once (a page's htmx lookup while its form is
    posted) interleave their savepoints on it ("no such savepoint"), a race of the test rig, not of the platform
    (which opens a connection per thread). Django's non-threaded server closes each connection after its answer."""
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread

    class OneRequestAtATime(WSGIServer):
        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.connections_override = connections_override

    LiveServerThread.server_class = OneRequestAtATime


@pytest.fixture(autouse=True)
def _fast_password_hashing(request, settings):
    """Argon2 costs ~0.3 s a hash by design; tests that do not examine the hash use MD5 to stay fast.
    Tests marked ``argon2`` keep the production hasher."""
    if request.node.get_closest_marker("argon2") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def long_sessions(settings):
    """For tests that move the clock (``timezone.now`` patched to a past business day): a session saved at
    the patched time would be past the 30-minute idle timeout (SESSION_COOKIE_AGE) once the real clock
    returns (business days of 2024–2025 are years ago), so these tests keep sessions for ten years."""
    settings.SESSION_COOKIE_AGE = 10 * 365 * 24 * 3600
