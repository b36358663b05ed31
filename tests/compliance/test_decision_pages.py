"""The province's compliance decisions as pages: surrender approve / return, rectification order (the
deadline is validated, never silently replaced), fine, the blocked verification case; the registry
operator issues the notices. Every refusal shows its code; no input gives a 500."""

import datetime as dt
from unittest import mock

import pytest
from django.test import Client

from cets.compliance.models import Obligation, PenaltyDecision, RectificationOrder, SurrenderApplication
from cets.compliance.services import surrender_submit
from tests.compliance.helpers import issue
from tests.conftest import SD_1, client_for, when

pytestmark = pytest.mark.usefixtures("long_sessions")  # the tests move the clock

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def pending(world):
    issue(world, SD_1, world.cea, 120_000)
    ob = Obligation.objects.create(entity=world.sd1, year=2023, pack_id="national/power-2023-2024", obligation_t=100_000, offset_cap_t=5_000,
                                   deadline=when("2024-12-31").date())
    a = surrender_submit(key="s1", entity=world.sd1, year=2023, unit_type_code="CEA-2023", quantity=60_000, actor=world.entity_sd1_user,
                         at=when("2024-12-20", 9))
    b = surrender_submit(key="s2", entity=world.sd1, year=2023, unit_type_code="CEA-2023", quantity=1_000, actor=world.entity_sd1_user,
                         at=when("2024-12-20", 9))
    return ob, a, b


def _clock(day: str):
    at = when(day, 10).astimezone(dt.UTC)
    return mock.patch("django.utils.timezone.now", lambda: at)


def test_province_approves_and_returns_surrenders(world, pending):
    ob, a, b = pending
    p = client_for(world.province_sd, verified=True)
    page = p.get("/compliance/surrenders/", **EN).content.decode()
    assert f'data-application="{a.pk}"' in page
    assert f"/compliance/surrenders/{a.pk}/approve/" in page
    with _clock("2024-12-21"):
        r = p.post(f"/compliance/surrenders/{a.pk}/approve/", {"next": "/compliance/surrenders/"})
        assert r.status_code == 302
        p.post(f"/compliance/surrenders/{b.pk}/reject/")
    assert SurrenderApplication.objects.get(pk=a.pk).status == "approved"
    assert SurrenderApplication.objects.get(pk=b.pk).status == "rejected"
    again = p.post(f"/compliance/surrenders/{a.pk}/approve/", follow=True, **EN).content.decode()
    assert "R0605" in again  # already decided: the service's refusal, shown
    # another province, an entity, an unknown id: refused with a code, never a 500
    z = client_for(world.province_zj, verified=True)
    assert f'data-application="{a.pk}"' not in z.get("/compliance/surrenders/?status=").content.decode()
    assert "R0502" in z.post(f"/compliance/surrenders/{a.pk}/approve/", follow=True, **EN).content.decode()
    assert client_for(world.entity_sd1_user, verified=True).get("/compliance/surrenders/").status_code == 404
    assert "R0605" in p.post("/compliance/surrenders/999999/approve/", follow=True, **EN).content.decode()
    assert p.post(f"/compliance/surrenders/{a.pk}/explode/").status_code == 404
    assert p.get("/compliance/surrenders/?year=abc&status=zzz&page=-3").status_code == 200
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.province_sd)
    assert c.post(f"/compliance/surrenders/{b.pk}/approve/").status_code == 403


def test_rectification_deadline_is_validated_and_fine_input_never_500(world, pending):
    ob, a, b = pending
    p = client_for(world.province_sd, verified=True)
    with _clock("2025-01-10"):
        page = p.get(f"/compliance/obligations/{ob.pk}/", **EN).content.decode()
        assert 'id="rectify-by">2025-02-28<' in page
        assert 'name="deadline"' not in page
        r = p.post(f"/compliance/obligations/{ob.pk}/rectify/", {"reference": "鲁环责〔2025〕1号", "deadline": "2024-01-01"}, follow=True, **EN)
        assert "another date cannot be used" in r.content.decode()
        assert not RectificationOrder.objects.exists()
        for bad in ({"reference": "", "deadline": ""}, {"reference": "x" * 500}, {"reference": "r", "deadline": "2025-02-30"}):
            assert p.post(f"/compliance/obligations/{ob.pk}/rectify/", bad, follow=True).status_code == 200
        assert not RectificationOrder.objects.exists()
    with _clock("2025-03-05"):  # the pack's deadline has passed: refused, not issued with a past deadline
        r = p.post(f"/compliance/obligations/{ob.pk}/rectify/", {"reference": "鲁环责〔2025〕1号"}, follow=True, **EN)
        assert "no order is issued with a past deadline" in r.content.decode()
        assert not RectificationOrder.objects.exists()
    with _clock("2025-01-10"):
        r = p.post(f"/compliance/obligations/{ob.pk}/rectify/", {"reference": "鲁环责〔2025〕1号", "deadline": "2025-02-28"}, follow=True, **EN)
        assert "Rectification order issued." in r.content.decode()
        assert RectificationOrder.objects.get().deadline == dt.date(2025, 2, 28)
        for bad in ({"reference": "r", "reason": "x", "multiple": "abc"}, {"reference": "r", "reason": "x", "multiple": "Infinity"},
                    {"reference": "r", "reason": "x", "amount_yuan": "1e30"}, {"reference": "r", "reason": "x", "multiple": "99"}, {}):
            assert p.post(f"/compliance/obligations/{ob.pk}/fine/", bad, follow=True).status_code == 200
        assert not PenaltyDecision.objects.exists()


def test_registry_issues_notices_from_the_overview(world, pending):
    ra = client_for(world.registry_a, verified=True)
    page = ra.get("/compliance/2023/", **EN).content.decode()
    assert "/compliance/2023/notices/issue/" in page
    r = ra.post("/compliance/2023/notices/issue/", follow=True, **EN)
    assert r.status_code == 200
    assert "compliance notices issued" in r.content.decode()
    p = client_for(world.province_sd, verified=True)
    assert "R0502" in p.post("/compliance/2023/notices/issue/", follow=True, **EN).content.decode()
    assert "/notices/issue/" not in p.get("/compliance/2023/").content.decode()
    assert p.get("/compliance/2023/?status=late&page=x").status_code == 200


def test_province_resolves_a_blocked_case(world):
    from cets.mrv.models import VerificationRecord
    from cets.parties.models import Organisation

    body = Organisation.objects.create(kind=Organisation.Kind.VERIFIER, name="核查机构", uscc="91110000000000001X")
    rec = VerificationRecord.objects.create(year=2023, sector="power", entity=world.sd1, verifier=body, list_id="L1", on_time=True, conforming=False)
    p = client_for(world.province_sd, verified=True)
    page = p.get("/mrv/blocked/", **EN).content.decode()
    assert f"/mrv/blocked/{rec.pk}/resolve/" in page
    assert p.post(f"/mrv/blocked/{rec.pk}/resolve/", {"resolution": "nonsense"}, follow=True).status_code == 200
    assert "R0502" in client_for(world.province_zj, verified=True).post(f"/mrv/blocked/{rec.pk}/resolve/", {"resolution": "determined"}, follow=True,
                                                           **EN).content.decode()
    r = p.post(f"/mrv/blocked/{rec.pk}/resolve/", {"resolution": "determined", "note": "核定"}, follow=True, **EN)
    assert "Case resolved" in r.content.decode()
    rec.refresh_from_db()
    assert rec.resolution == "determined"
    assert rec.resolved_by == world.province_sd
    assert "V0202" in p.post(f"/mrv/blocked/{rec.pk}/resolve/", {"resolution": "determined"}, follow=True, **EN).content.decode()
    assert p.post("/mrv/blocked/999999/resolve/", {"resolution": "determined"}).status_code == 404
