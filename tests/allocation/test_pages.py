"""The allocation table submission pages: the province records sending its stamped tables, the registry
records receipt; the list shows due date, late flag and issue-by date, paginated and filtered by status.
Refusals show their codes; no input gives a 500."""

import datetime as dt
from unittest import mock

import pytest
from django.test import Client

from cets.allocation.models import AllocationSubmission
from cets.allocation.services import allocation_compute
from tests.allocation.test_sectors import POWER, two_lists  # noqa: F401 (fixture)
from tests.conftest import client_for, when

pytestmark = pytest.mark.usefixtures("long_sessions")  # the tests move the clock

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_province_records_and_registry_receives(two_lists):  # noqa: F811
    w = two_lists
    allocation_compute(year=2024, pack_id=POWER)
    p = client_for(w.province_sd)
    page = p.get("/allocation/submissions/", **EN).content.decode()
    assert "Record a submission" in page
    assert 'value="national:power"' in page
    at = when("2025-08-01", 10).astimezone(dt.UTC)
    with mock.patch("django.utils.timezone.now", lambda: at):
        for bad in ({"scope": "national:power", "year": "abc", "stage": "final"}, {"scope": "nope", "year": "2024", "stage": "final"},
                    {"scope": "national:power", "year": "99999999999999999999", "stage": "x"},
                    {"scope": "national:power", "year": "2024", "stage": "final", "sent_on": "2030-01-01"}, {}):
            assert p.post("/allocation/submissions/record/", bad).status_code == 200
        r = p.post("/allocation/submissions/record/", {"scope": "national:steel", "year": "2024", "stage": "final"}, **EN)
        assert "A0124" in r.content.decode()
        assert not AllocationSubmission.objects.exists()
        r = p.post("/allocation/submissions/record/", {"scope": "national:power", "year": "2024", "stage": "final"})
        assert r.status_code == 302
        s = AllocationSubmission.objects.get()
        listing = p.get("/allocation/submissions/?status=late", **EN).content.decode()
        assert f'data-submission="{s.pk}"' in listing
        assert "2025-07-31" in listing
        assert ">late<" in listing
        assert "/receive/" not in listing
        assert "R0502" in p.post(f"/allocation/submissions/{s.pk}/receive/", follow=True, **EN).content.decode()
        ra = client_for(w.registry_a)
        assert f"/allocation/submissions/{s.pk}/receive/" in ra.get("/allocation/submissions/?year=2024").content.decode()
        assert "Record a submission" not in ra.get("/allocation/submissions/", **EN).content.decode()
        r = ra.post(f"/allocation/submissions/{s.pk}/receive/", follow=True, **EN)
        assert "issue by 2025-08-15" in r.content.decode()
        assert "A0125" in ra.post(f"/allocation/submissions/{s.pk}/receive/", follow=True, **EN).content.decode()
        assert "A0126" in ra.post("/allocation/submissions/999999/receive/", follow=True, **EN).content.decode()
    assert AllocationSubmission.objects.get().issue_by == dt.date(2025, 8, 15)
    assert client_for(w.entity_sd1_user).get("/allocation/submissions/").status_code == 404
    assert p.get("/allocation/submissions/?year=x&status=zz&page=0").status_code == 200
    c = Client(enforce_csrf_checks=True)
    c.force_login(w.province_sd)
    assert c.post("/allocation/submissions/record/", {"scope": "national:power", "year": "2024", "stage": "pre"}).status_code == 403
