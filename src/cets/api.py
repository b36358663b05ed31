"""The JSON API, ``/api/v1`` (django-ninja), OpenAPI at ``/api/v1/docs``.

Authentication: the Django session (log in through the web pages), with CSRF required on unsafe
methods. Every endpoint applies the same role and jurisdiction scope as the pages: an entity outside
the caller's scope answers 404. Refusals carry the check code: ``{"code": "R0302", "message_zh":
..., "message_en": ...}``.

No input reaches a 500 (``tests/api/test_fuzz.py`` runs schemathesis over every operation). The handlers
below turn what escapes a view into an answer: :class:`CetsError` → 422 (403 for R0502/R0505, which are
also recorded as security events), an unknown id (``ObjectDoesNotExist``, ``Http404``) → 404, no rule
pack for the market, sector and year (``PackError``) → 422 S0101, a value the database cannot store
(``DataError``, ``OverflowError``) → 422 S0102, an idempotency key already used for another request
(``IntegrityError`` left after a service's own retry) → 409 S0103, a Django ``ValidationError`` → 422
with its messages. Request bodies and query strings with a NUL character are refused (400 or 422) before any
view runs, since PostgreSQL text cannot hold one. Swagger UI at ``/api/v1/docs`` is served from
django-ninja's own static files, so the page loads no script from another origin.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.parser import Parser
from ninja.security import django_auth
from pydantic import Field

from cets.allocation.models import EntityAllocation, UnitAllocation
from cets.compliance.models import Obligation
from cets.compliance.selectors import status_of
from cets.core.checks import S0101, S0102, S0103
from cets.core.errors import CetsError
from cets.parties.access import membership_of
from cets.parties.security import event_record
from cets.parties.selectors import entities_visible, entity_get, units_of
from cets.registry.selectors import account_of, holdings_of
from cets.rules.packs import PackError


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _nul_refused(where: str):
    return NinjaValidationError([{"type": "string_pattern_mismatch", "loc": [where], "msg": "NUL character (\\u0000) not allowed"}])


class NulFreeParser(Parser):
    """JSON bodies, query strings and forms with a NUL character are refused (400 or 422) before the view: PostgreSQL
    text cannot hold one, and no field of this API has a use for it."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if _has_nul(data):
            raise _nul_refused("body")
        return data

    def parse_querydict(self, data, list_fields, request):
        # only text values: an uploaded file (request.FILES passes here too) is binary and is not read here
        if any("\x00" in k or any(isinstance(v, str) and "\x00" in v for v in data.getlist(k)) for k in data):
            raise _nul_refused("query")
        return super().parse_querydict(data, list_fields, request)


api = NinjaAPI(title="cets API", version="1", urls_namespace="api-v1", auth=django_auth, parser=NulFreeParser(),
               docs=Swagger(settings={"persistAuthorization": False}),
               description="全国碳排放权交易平台 API · China carbon emissions trading platform")


def _refusal(request, check, status: int, detail: str = ""):
    return api.create_response(request, CetsError(check, detail).as_dict(), status=status)


@api.exception_handler(CetsError)
def _cets_error(request, exc: CetsError):
    if exc.code in ("R0502", "R0505"):
        event_record(request=request, kind="permission_refused", code=exc.code, detail=exc.detail)
        return api.create_response(request, exc.as_dict(), status=403)
    return api.create_response(request, exc.as_dict(), status=422)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"code": "404", "message_zh": "未找到", "message_en": "not found"}, status=404)


@api.exception_handler(ObjectDoesNotExist)
def _does_not_exist(request, exc):
    """An id that names nothing (or nothing the caller may see) is a 404, as for entities out of scope."""
    return _not_found(request, exc)


@api.exception_handler(PackError)
def _no_pack(request, exc: PackError):
    return _refusal(request, S0101, 422, str(exc)[:300])


@api.exception_handler(DataError)
def _data_error(request, exc):
    return _refusal(request, S0102, 422)


@api.exception_handler(OverflowError)
def _overflow(request, exc):
    """SQLite's answer to an integer beyond 64 bits (PostgreSQL's is a DataError)."""
    return _refusal(request, S0102, 422)


@api.exception_handler(IntegrityError)
def _integrity(request, exc):
    """A unique constraint met after the service's own idempotent retry: the key was used for another request."""
    return _refusal(request, S0103, 409)


@api.exception_handler(DjangoValidationError)
def _django_validation(request, exc: DjangoValidationError):
    return api.create_response(request, {"detail": [{"type": "value_error", "loc": ["body"], "msg": m} for m in exc.messages]}, status=422)


class MeOut(Schema):
    username: str
    role: str | None
    organisation: str | None
    province: str | None


class EntityOut(Schema):
    uscc: str
    name: str
    province: str
    region_code: str
    jurisdiction: str = ""  # a named district-level jurisdiction of ours (e.g. 11ETDA 北京经济技术开发区), '' = its GB/T district


class JurisdictionIn(Schema):
    """A named jurisdiction's code of the market files (``11ETDA``), or '' for the district of the GB/T region code."""

    jurisdiction: str = Field(max_length=6)


class UnitOut(Schema):
    code: str
    category: str
    rated_capacity_mw: str


class UnitAllocationOut(Schema):
    unit: str
    category: str
    generation_mwh: str
    heat_supplied_gj: str
    load_factor: str
    electricity_benchmark: str
    heat_benchmark: str
    ff: str
    electricity_allowance_t: int
    heat_allowance_t: int
    gas_topup_t: int
    unit_allowance_t: int
    pre_allocation_t: int
    verified_emissions_t: int
    prev_verified_emissions_t: int


class AllocationOut(Schema):
    year: int
    pack_id: str
    stage: str
    verified_emissions_t: int
    pre_allocation_t: int
    initial_allocation_t: int
    shortfall_topup_t: int
    final_allocation_t: int
    issue_delta_t: int
    units: list[UnitAllocationOut]


class HoldingOut(Schema):
    account: str
    unit_type: str
    position: str
    quantity_t: int


class ComplianceOut(Schema):
    year: int
    obligation_t: int
    offset_cap_t: int
    deadline: dt.date
    status: str
    surrendered_t: int
    surrendered_by_deadline_t: int
    outstanding_t: int


@api.get("/me", response=MeOut, tags=["parties"])
def me(request):
    m = membership_of(request.user)
    return MeOut(username=request.user.username, role=m.role if m else None, organisation=m.organisation.name if m else None,
                 province=(m.province or None) if m else None)


@api.get("/entities", response=list[EntityOut], tags=["parties"])
@paginate(LimitOffsetPagination)
def entities(request, search: str = "", province: str = ""):
    """Key emitting entities in the caller's jurisdiction."""
    return entities_visible(user=request.user, search=search, province=province)


@api.get("/entities/{uscc}", response=EntityOut, tags=["parties"])
def entity(request, uscc: str):
    return entity_get(user=request.user, uscc=uscc)


@api.post("/entities/{uscc}/jurisdiction", response=EntityOut, tags=["parties"])
def entity_jurisdiction(request, uscc: str, body: JurisdictionIn):
    """The province's authority puts the entity under a named district-level jurisdiction (北京经济技术开发区 ``11ETDA``,
    京政发〔2024〕6号 Art. 4) or back under its GB/T district (R0502, S0401, S0402)."""
    from cets.parties.access import require_second_factor
    from cets.parties.services import organisation_jurisdiction_set

    require_second_factor(request.user)
    return organisation_jurisdiction_set(organisation=entity_get(user=request.user, uscc=uscc), jurisdiction=body.jurisdiction, actor=request.user)


@api.get("/entities/{uscc}/units", response=list[UnitOut], tags=["parties"])
def entity_units(request, uscc: str):
    e = entity_get(user=request.user, uscc=uscc)
    return [UnitOut(code=u.code, category=u.category, rated_capacity_mw=str(u.rated_capacity_mw)) for u in units_of(entity=e)]


@api.get("/entities/{uscc}/allocations", response=list[AllocationOut], tags=["allocation"])
def entity_allocations(request, uscc: str):
    """Allocation per year with every unit line and the formula's inputs (2023–2024 plan 附3/附4, §三)."""
    e = entity_get(user=request.user, uscc=uscc)
    out = []
    for a in EntityAllocation.objects.filter(entity=e).order_by("year"):
        lines = UnitAllocation.objects.filter(unit__entity=e, year=a.year).select_related("unit").order_by("unit__code")
        out.append(AllocationOut(
            year=a.year, pack_id=a.pack_id, stage=a.stage, verified_emissions_t=a.verified_emissions_t, pre_allocation_t=a.pre_allocation_t,
            initial_allocation_t=a.initial_allocation_t, shortfall_topup_t=a.shortfall_topup_t, final_allocation_t=a.final_allocation_t,
            issue_delta_t=a.issue_delta_t,
            units=[UnitAllocationOut(
                unit=u.unit.code, category=u.category, generation_mwh=str(u.generation_mwh), heat_supplied_gj=str(u.heat_supplied_gj),
                load_factor=str(u.load_factor), electricity_benchmark=str(u.electricity_benchmark), heat_benchmark=str(u.heat_benchmark),
                ff=str(u.ff), electricity_allowance_t=u.electricity_allowance_t, heat_allowance_t=u.heat_allowance_t, gas_topup_t=u.gas_topup_t,
                unit_allowance_t=u.unit_allowance_t, pre_allocation_t=u.pre_allocation_t, verified_emissions_t=u.verified_emissions_t,
                prev_verified_emissions_t=u.prev_verified_emissions_t) for u in lines],
        ))
    return out


@api.get("/entities/{uscc}/holdings", response=list[HoldingOut], tags=["registry"])
def entity_holdings(request, uscc: str):
    e = entity_get(user=request.user, uscc=uscc)
    acc = account_of(holder_id=e.pk)
    if acc is None:
        return []
    return [HoldingOut(account=acc.number, unit_type=h.unit_type.code, position=h.position, quantity_t=h.quantity) for h in holdings_of(account=acc)]


@api.get("/entities/{uscc}/compliance", response=list[ComplianceOut], tags=["compliance"])
def entity_compliance(request, uscc: str):
    """Compliance status per year, computed from approved surrenders (on_time / late / incomplete / open)."""
    e = entity_get(user=request.user, uscc=uscc)
    out = []
    for ob in Obligation.objects.filter(entity=e).order_by("year"):
        s = status_of(obligation=ob)
        out.append(ComplianceOut(year=ob.year, obligation_t=ob.obligation_t, offset_cap_t=ob.offset_cap_t, deadline=ob.deadline, status=s.status,
                                 surrendered_t=s.surrendered_t, surrendered_by_deadline_t=s.surrendered_by_deadline_t, outstanding_t=s.outstanding_t))
    return out


from cets.compliance.api import router as compliance_router  # noqa: E402
from cets.registry.api import router as registry_router  # noqa: E402
from cets.registry.api_reports import router as reports_router  # noqa: E402

api.add_router("/registry/reports", reports_router)
api.add_router("/registry", registry_router)
api.add_router("/compliance", compliance_router)
from cets.trading.api import router as trading_router  # noqa: E402

api.add_router("/trading", trading_router)
from cets.mrv.api import router as mrv_router  # noqa: E402

api.add_router("/mrv", mrv_router)

from cets.allocation.api import router as allocation_router  # noqa: E402

api.add_router("/allocation", allocation_router)

from cets.supervision.api import public_router  # noqa: E402
from cets.supervision.api import router as supervision_router  # noqa: E402

api.add_router("/supervision", supervision_router)
from cets.parties.api import router as notifications_router  # noqa: E402
from cets.parties.api import security_router  # noqa: E402

api.add_router("/notifications", notifications_router)
api.add_router("/security/second-factor", security_router)
api.add_router("/public", public_router)
