"""MRV writes: verification records and verified unit-year data; resolution of 不符合 conclusions;
random assignment of verification bodies, outcomes, notification, objections; verifier evaluation."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from cets.core.errors import CetsError, InputError, InputProblem
from cets.core.tables import read_table
from cets.core.uscc import InvalidUscc, validate_uscc
from cets.parties.access import DENIED, LOCAL_AUTHORITY_ROLES, district_of, require_role
from cets.parties.checks import L0101, L0102
from cets.parties.models import Organisation, Role
from cets.parties.selectors import list_published_sectors, list_rules, listed_entity_ids
from cets.parties.services import ImportResult, ListEntry, emitter_list_entries_ensure, emitter_list_replace, entities_ensure, import_batch_record
from cets.rules.markets import PRIMARY_MARKET, load_market

from .checks import (
    M0201,
    M0202,
    M0203,
    M0204,
    M0205,
    M0206,
    M0207,
    M0208,
    V0201,
    V0202,
    V0203,
    V0303,
    V0304,
    V0305,
    V0306,
    V0307,
    V0308,
    V0309,
    V0310,
    V0311,
    V0312,
    V0313,
    V0314,
    V0315,
)
from .models import (
    AnnualReport,
    DataQualityPlan,
    MonthlyFiling,
    MonthlyFuelLine,
    PlanComment,
    ReportPreparer,
    UnitYearData,
    VerificationAssignment,
    VerificationRecord,
    VerifierEvaluation,
)


def verification_records_upsert(*, records: Iterable[tuple[int, str, int, int, str, bool, bool]], source: str) -> int:
    """Insert verification records ``(year, sector, entity_id, verifier_id, list_id, on_time, conforming)``
    that do not exist yet; returns how many were created."""
    recs = list(records)
    existing = set(VerificationRecord.objects.filter(entity_id__in={r[2] for r in recs}).values_list("year", "entity_id", "verifier_id", "list_id"))
    new = []
    for y, s, e, v, lid, on_time, ok in recs:
        k = (y, e, v, lid)
        if k in existing:
            continue
        existing.add(k)
        new.append(VerificationRecord(year=y, sector=s, entity_id=e, verifier_id=v, list_id=lid, on_time=on_time, conforming=ok, source=source))
    VerificationRecord.objects.bulk_create(new, batch_size=1000)
    return len(new)


# -- the official verification disclosures (核查技术服务机构信息公开表) -------------------------------------

VERIFICATION_COLUMNS = ("verification_list_id", "year", "industry", "institution_name", "institution_uscc",
                        "target_entity_name", "target_uscc", "timeliness", "result")


@dataclass(frozen=True)
class _Row:
    line: int
    year: int
    sector: str
    name: str
    uscc: str
    verifier_name: str
    verifier_uscc: str
    list_id: str
    on_time: bool
    conforming: bool


def _read_verification_rows(path: Path, market: str) -> tuple[list[_Row], list[InputProblem], int]:
    """Parse and validate every row; return good rows, problems, and the number of data rows."""
    name = path.name
    problems: list[InputProblem] = []
    rows: list[_Row] = []
    registry = load_market(market)  # the industry names of the disclosures → the market's sectors
    _, reader, header_problems = read_table(path, VERIFICATION_COLUMNS)
    if header_problems:
        raise InputError(header_problems)
    total = 0
    for line, rec in enumerate(reader, start=2):
        total += 1

        def bad(fld: str, zh: str, en: str) -> None:
            problems.append(InputProblem(name, line, fld, rec.get(fld) or "", zh, en))

        try:
            year = int(rec["year"])
            if not 2005 <= year <= 2100:
                raise ValueError
        except (TypeError, ValueError):
            bad("year", "年份无效", "not a valid year")
            continue
        found = registry.sector_by_industry((rec["industry"] or "").strip())
        sector = found.code if found is not None else None
        if sector is None:
            bad("industry", "行业名称未知", "unknown industry")
            continue
        try:
            uscc = validate_uscc(rec["target_uscc"])
        except InvalidUscc as e:
            bad("target_uscc", f"统一社会信用代码无效：{e.problem.zh}", f"invalid unified social credit code: {e.problem.en}")
            continue
        if not (rec["target_entity_name"] or "").strip():
            bad("target_entity_name", "单位名称为空", "entity name is empty")
            continue
        try:
            verifier_uscc = validate_uscc(rec["institution_uscc"])
        except InvalidUscc as e:
            bad("institution_uscc", f"核查机构信用代码无效：{e.problem.zh}", f"invalid verification body credit code: {e.problem.en}")
            continue
        timeliness, result = (rec["timeliness"] or "").strip(), (rec["result"] or "").strip()
        if timeliness not in ("及时", "不及时"):
            bad("timeliness", "应为“及时”或“不及时”", "must be 及时 or 不及时")
            continue
        if result not in ("符合", "不符合"):
            bad("result", "应为“符合”或“不符合”", "must be 符合 or 不符合")
            continue
        rows.append(_Row(line, year, sector, rec["target_entity_name"].strip(), uscc, rec["institution_name"].strip(),
                         verifier_uscc, rec["verification_list_id"].strip(), timeliness == "及时", result == "符合"))
    return rows, problems, total


def disclosures_import(*, path: Path | str, sector: str | None = None, year: int | None = None, actor=None,
                       market: str = PRIMARY_MARKET) -> ImportResult:
    """Import the key emitting entities of the official verification disclosures (核查技术服务机构信息公开表).

    Input: CSV with the columns of ``verification_targets.csv`` (see data/README). Every row is
    validated (credit code per GB 32100, year, industry, conclusion); bad rows are reported with
    file, row, field and reason in Chinese and English and skipped. Rows of the requested ``sector``
    and ``year`` create one :class:`Organisation` per distinct credit code (province from its region
    code, GB/T 2260), one key-emitter list entry per (year, sector, entity), the verification bodies
    and one verification record per row. Re-running creates no duplicates. The database writes are
    one transaction. Raises :class:`InputError` if the file lacks a required column.
    """
    path = Path(path)
    rows, problems, total = _read_verification_rows(path, market)
    selected = [r for r in rows if (sector is None or r.sector == sector) and (year is None or r.year == year)]
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    with transaction.atomic():
        names: dict[str, str] = {}
        verifiers: dict[str, str] = {}
        for r in selected:
            names.setdefault(r.uscc, r.name)
            verifiers.setdefault(r.verifier_uscc, r.verifier_name)
        before = set(Organisation.objects.filter(uscc__in=list(names) + list(verifiers)).values_list("uscc", flat=True))
        orgs = entities_ensure(entities=list(names.items()))
        orgs |= entities_ensure(entities=list(verifiers.items()), kind=Organisation.Kind.VERIFIER)
        entries_created = emitter_list_entries_ensure(
            market=market, entries=[(r.year, r.sector, orgs[r.uscc].pk, orgs[r.uscc].province, path.name) for r in selected])
        verif_created = verification_records_upsert(
            records=[(r.year, r.sector, orgs[r.uscc].pk, orgs[r.verifier_uscc].pk, r.list_id, r.on_time, r.conforming) for r in selected],
            source=path.name,
        )
        counts = {
            "rows": total,
            "rows_valid": len(rows),
            "rows_selected": len(selected),
            "problems": len(problems),
            "entities": len(names),
            "entities_created": len(set(names) - before),
            "verifiers_created": len(set(verifiers) - before),
            "list_entries_created": entries_created,
            "verification_records_created": verif_created,
        }
        batch = import_batch_record(kind="entities", file_name=str(path), sha256=sha, parameters={"sector": sector, "year": year},
                                    counts=counts, problems=problems, actor=actor)
    return ImportResult(counts=counts, problems=problems, batch_id=batch.pk)


@transaction.atomic
def unit_year_data_upsert(*, rows: Sequence[UnitYearData]) -> int:
    """Insert unit-year rows whose (unit, year) does not exist yet; returns how many were created.
    Existing verified data is never overwritten here (a change of verified data is a new
    verification result, handled by dynamic adjustment)."""
    units = {r.unit_id for r in rows}
    have = set(UnitYearData.objects.filter(unit_id__in=units).values_list("unit_id", "year"))
    new = [r for r in rows if (r.unit_id, r.year) not in have]
    UnitYearData.objects.bulk_create(new, batch_size=1000)
    return len(new)





@transaction.atomic
def verification_resolve(*, record_id: int, actor, resolution: str, note: str = "", at: dt.datetime | None = None) -> VerificationRecord:
    """Resolve a 不符合 verification conclusion so that the entity's final allocation may be issued:
    ``resolution`` ``reverified`` (rectified and re-verified as conforming) or ``determined`` (the
    authority determined the emissions). Only the entity's provincial authority (or the national
    authority) may do it. Raises R0502 (role / jurisdiction), V0201 (conclusion is 符合), V0202
    (already resolved), V0203 (unknown resolution). ``at`` defaults to now."""
    rec = VerificationRecord.objects.select_for_update().select_related("entity").get(pk=record_id)
    require_role(actor, Role.PROVINCIAL_AUTHORITY, Role.NATIONAL_AUTHORITY, province=rec.entity.province)
    if resolution not in VerificationRecord.Resolution.values:
        raise CetsError(V0203, resolution)
    if rec.conforming:
        raise CetsError(V0201, rec.list_id)
    if rec.resolved_at is not None:
        raise CetsError(V0202, f"{rec.list_id} {rec.resolved_at:%Y-%m-%d}")
    rec.resolution, rec.resolution_note, rec.resolved_by = resolution, note[:500], actor
    rec.resolved_at = at or timezone.now()
    rec.save(update_fields=["resolution", "resolution_note", "resolved_by", "resolved_at"])
    return rec


# -- verification: random assignment (双随机), outcome, notification, objection, evaluation ------------------



def _verification_pack(market: str, sector: str, year: int):
    from cets.rules.packs import pack_for

    return pack_for(market, sector, year, kind="accounting")


RANDOM_DRAW, COMMISSIONED = "random_draw", "commissioned"


def verification_selection(market: str, sector: str, year: int) -> str:
    """How a market chooses the body for the regular verification of ``year``: ``"commissioned"`` (the entity
    commissions it, Beijing 京环发〔2024〕8号 三(二) "重点碳排放单位自行委托核查机构通过管理平台开展碳排放核查工作") or
    ``"random_draw"`` (the province draws it, 双随机: the national market). Read from the accounting pack's
    ``verification.selection`` for (market, sector, year), else from any accounting pack of the market for the
    year (the rule is the market's, not the sector's); ``"random_draw"`` when no pack says otherwise."""
    from cets.rules.packs import PackError, load_pack

    ids = []
    try:
        ids.append(_verification_pack(market, sector, year).id)
    except (PackError, KeyError, ValueError):
        pass
    try:
        ids += [e.pack for e in load_market(market).packs if e.kind == "accounting" and year in e.years]
    except (PackError, KeyError, ValueError):
        pass
    for pid in ids:
        sel = load_pack(pid).data.get("verification", {}).get("selection")
        if sel:
            return sel
    return RANDOM_DRAW


@transaction.atomic
def verification_commission(*, entity: Organisation, year: int, body: Organisation, actor, market: str, sector: str | None = None,
                            at: dt.datetime | None = None) -> VerificationAssignment:
    """The entity commissions ``body`` to verify its ``year`` report (自行委托, Beijing: 京环发〔2024〕8号 三(二)
    "重点碳排放单位自行委托核查机构通过管理平台开展碳排放核查工作"): a regular :class:`VerificationAssignment` with
    ``commissioned_by`` = the entity and no draw seed; the body then records its outcome as for a drawn one
    (:func:`verification_outcome_record`), and the bureau may still order a spot check
    (:func:`verification_assign` with ``kind="spot_check"``), flagged by the pack's rule (三(四)二 "抽查与核查
    排放量差异超过1000吨或10%以上的…予以提醒").

    Only a member of ``entity`` (R0502). Raises V0312 when the market draws bodies at random (the national
    market, 双随机: :func:`verification_selection`); V0315 ``body`` is not a verification body; V0314 the body
    helped prepare the report (Regulations Art. 13); V0303 the entity already has a regular verification of
    the year in the market. ``sector``: the caller's, else the entity's list entry of the market and year (M0308)."""
    from .duty_rules import entity_sector

    m = require_role(actor, Role.ENTITY)
    if m.organisation_id != entity.pk:
        raise CetsError(DENIED, "not a member of this entity")
    sector = entity_sector(market=market, year=year, entity=entity, sector=sector)
    if verification_selection(market, sector, year) != COMMISSIONED:
        raise CetsError(V0312, f"{market} {sector} {year}")
    if body.kind != Organisation.Kind.VERIFIER:
        raise CetsError(V0315, str(body.uscc or body.pk))
    if ReportPreparer.objects.filter(entity=entity, year=year, body=body).exists():
        raise CetsError(V0314, str(body.uscc or body.pk))
    if VerificationAssignment.objects.filter(year=year, kind=VerificationAssignment.Kind.REGULAR, market=market, entity=entity).exists():
        raise CetsError(V0303, entity.uscc)
    return VerificationAssignment.objects.create(market=market, sector=sector, year=year, kind=VerificationAssignment.Kind.REGULAR, entity=entity,
                                                 body=body, province=entity.province, seed="", assigned_at=at or timezone.now(), assigned_by=actor,
                                                 commissioned_by=entity)


@transaction.atomic
def report_preparer_record(*, entity: Organisation, year: int, body: Organisation, actor) -> ReportPreparer:
    """Record that ``body`` helped prepare ``entity``'s ``year`` report (it may then not verify it,
    Regulations Art. 13). By the entity itself or its provincial / the national authority (R0502)."""
    m = require_role(actor, Role.ENTITY, Role.PROVINCIAL_AUTHORITY, Role.NATIONAL_AUTHORITY, province=entity.province)
    if m.role == Role.ENTITY and m.organisation_id != entity.pk:
        raise CetsError(DENIED, "not the entity's own report")
    rp, _ = ReportPreparer.objects.get_or_create(entity=entity, year=year, body=body)
    return rp


@transaction.atomic
def verification_assign(*, year: int, province: str, entities: Sequence[Organisation], bodies: Sequence[Organisation], seed: str,
                        actor, kind: str = VerificationAssignment.Kind.REGULAR, market: str = PRIMARY_MARKET, sector: str | None = None,
                        at: dt.datetime | None = None) -> list[VerificationAssignment]:
    """The province draws a verification body for each of ``entities`` at random from ``bodies`` (双随机),
    reproducibly from ``seed`` (:func:`cets.mrv.verification.assign_bodies`), barring bodies that helped
    prepare the entity's report (Regulations Art. 13) and, for a spot check (``kind="spot_check"``, a
    second verification), the first verifier.

    Only the provincial authority of ``province`` (R0502); every entity must be of that province
    (R0502). Raises V0313 for a regular verification in a market where the entity commissions its body
    (Beijing, :func:`verification_commission`; spot checks are still drawn); V0303 if an entity already has
    an assignment of that kind and year, V0308 for a spot check without a completed verification,
    V0301/V0302 from the draw. Each assignment's sector is ``sector`` if the caller names it, else the entity's
    list entry of the market and year (M0308 if it has none or several). One transaction.
    """
    from .duty_rules import entity_sector
    from .verification import assign_bodies

    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=province)
    for e in entities:
        if e.province != province:
            raise CetsError(DENIED, f"{e.uscc} outside province {province}")
    sector_of = {e.pk: entity_sector(market=market, year=year, entity=e, sector=sector) for e in entities}
    for s in sorted(set(sector_of.values())):
        if kind == VerificationAssignment.Kind.REGULAR and verification_selection(market, s, year) == COMMISSIONED:
            raise CetsError(V0313, f"{market} {s} {year}")
    ids = [e.pk for e in entities]
    taken = set(VerificationAssignment.objects.filter(year=year, kind=kind, market=market, entity_id__in=ids).values_list("entity_id", flat=True))
    if taken:
        raise CetsError(V0303, ", ".join(sorted(e.uscc for e in entities if e.pk in taken)))
    conflicts: dict[str, set[str]] = {}
    key = {e.pk: str(e.uscc or e.pk) for e in entities}
    body_key = {b.pk: str(b.uscc or b.pk) for b in bodies}
    for ent_id, body_id in ReportPreparer.objects.filter(entity_id__in=ids, year=year).values_list("entity_id", "body_id"):
        conflicts.setdefault(key[ent_id], set()).add(body_key.get(body_id, f"#{body_id}"))
    if kind == VerificationAssignment.Kind.SPOT_CHECK:
        firsts = dict(VerificationAssignment.objects.filter(year=year, market=market, kind=VerificationAssignment.Kind.REGULAR,
                                                            entity_id__in=ids, completed_on__isnull=False).values_list("entity_id", "body_id"))
        missing = [e.uscc for e in entities if e.pk not in firsts]
        if missing:
            raise CetsError(V0308, ", ".join(missing))
        for ent_id, body_id in firsts.items():
            conflicts.setdefault(key[ent_id], set()).add(body_key.get(body_id, f"#{body_id}"))
    draw = assign_bodies(entities=list(key.values()), bodies=list(body_key.values()), conflicts=conflicts, seed=seed)
    body_by_key = {v: k for k, v in body_key.items()}
    when = at or timezone.now()
    made = [VerificationAssignment(market=market, sector=sector_of[ent_id], year=year, kind=kind, entity_id=ent_id, body_id=body_by_key[draw[k]],
                                   province=province, seed=seed, assigned_at=when, assigned_by=actor) for ent_id, k in key.items()]
    VerificationAssignment.objects.bulk_create(made)
    return list(VerificationAssignment.objects.filter(year=year, kind=kind, market=market, entity_id__in=ids).select_related("entity", "body"))


def _assignment(assignment_id: int) -> VerificationAssignment:
    return VerificationAssignment.objects.select_for_update().select_related("entity", "body").get(pk=assignment_id)


@transaction.atomic
def verification_outcome_record(*, assignment_id: int, actor, verified_emissions_t: int, generation_mwh: Decimal | None,
                                heat_supplied_gj: Decimal | None, conforming: bool, completed_on: dt.date) -> VerificationAssignment:
    """The assigned body records verified emissions (tonnes CO2e, int), production data (generation
    MWh, heat GJ) and the conclusion 符合 / 不符合 on ``completed_on``. Sets ``notify_by`` = completion +
    the pack's ``verification.notify_working_days`` working days (Regulations Art. 12). A regular
    verification becomes a :class:`VerificationRecord` (so a 不符合 blocks final allocation); a spot
    check is compared with the verification: ``flagged`` by the pack's spot-check rule where the
    market has one (Beijing, 京环发〔2024〕8号 §四(二)).

    Only a verifier member of the assigned body (R0502). Raises V0304 if already recorded, V0311 for
    emissions that are not whole tonnes ≥ 0.
    """
    from cets.core.calendar import add_working_days

    from .verification import SpotCheckRule, spot_check_flags

    a = _assignment(assignment_id)
    m = require_role(actor, Role.VERIFIER)
    if m.organisation_id != a.body_id:
        raise CetsError(DENIED, "not the assigned verification body")
    if a.completed_on is not None:
        raise CetsError(V0304, f"{a.entity.uscc} {a.year}")
    if not isinstance(verified_emissions_t, int) or isinstance(verified_emissions_t, bool) or verified_emissions_t < 0:
        raise CetsError(V0311, repr(verified_emissions_t))
    pack = _verification_pack(a.market, a.sector, a.year)
    a.verified_emissions_t, a.generation_mwh, a.heat_supplied_gj = verified_emissions_t, generation_mwh, heat_supplied_gj
    a.conforming, a.completed_on = conforming, completed_on
    a.notify_by = add_working_days(completed_on, int(pack.decimal("verification.notify_working_days")))
    if a.kind == VerificationAssignment.Kind.SPOT_CHECK:
        first = VerificationAssignment.objects.get(year=a.year, market=a.market, entity_id=a.entity_id, kind=VerificationAssignment.Kind.REGULAR)
        ver = pack.raw("verification")
        if "spot_check_abs_t" in ver:
            rule = SpotCheckRule(abs_t=int(pack.decimal("verification.spot_check_abs_t")), rel=pack.decimal("verification.spot_check_rel"),
                                 rel_inclusive=pack.flag("verification.spot_check_rel_inclusive"))
            a.flagged = spot_check_flags(verified_t=first.verified_emissions_t, spot_t=verified_emissions_t, rule=rule)
    else:
        VerificationRecord.objects.create(year=a.year, sector=a.sector, entity_id=a.entity_id, verifier_id=a.body_id, list_id=f"ASG-{a.pk}",
                                          on_time=True, conforming=conforming, source=f"assignment {a.pk} ({a.market})")
    a.save()
    return a


@transaction.atomic
def verification_notify(*, assignment_id: int, actor, on: dt.date) -> VerificationAssignment:
    """The province returns the result to the entity on ``on`` (告知); ``objection_by`` = ``on`` + the
    pack's ``verification.objection_working_days`` working days (Measures Art. 27). A notice after
    ``notify_by`` is kept and counted as late in the body's evaluation and on the dashboard.
    Only the entity's provincial authority (R0502); V0309 before the outcome, V0310 if already notified."""
    from cets.core.calendar import add_working_days

    a = _assignment(assignment_id)
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=a.entity.province)
    if a.completed_on is None:
        raise CetsError(V0309, f"{a.entity.uscc} {a.year}")
    if a.notified_on is not None:
        raise CetsError(V0310, f"{a.notified_on}")
    pack = _verification_pack(a.market, a.sector, a.year)
    a.notified_on = on
    a.objection_by = add_working_days(on, int(pack.decimal("verification.objection_working_days")))
    a.save(update_fields=["notified_on", "objection_by"])
    return a


@transaction.atomic
def verification_objection_file(*, assignment_id: int, actor, on: dt.date, text: str) -> VerificationAssignment:
    """The entity objects to its verification result on ``on`` (≤ ``objection_by``, else V0305; V0306
    before notification). ``decision_by`` = ``on`` + the pack's ``verification.decision_working_days``
    working days (Measures Art. 27). Only a user of the entity (R0502)."""
    from cets.core.calendar import add_working_days

    a = _assignment(assignment_id)
    m = require_role(actor, Role.ENTITY)
    if m.organisation_id != a.entity_id:
        raise CetsError(DENIED, "not the entity's own verification")
    if a.notified_on is None:
        raise CetsError(V0306, f"{a.entity.uscc} {a.year}")
    if a.objection_on is not None or on > a.objection_by:
        raise CetsError(V0305, f"objection by {a.objection_by}")
    pack = _verification_pack(a.market, a.sector, a.year)
    a.objection_on, a.objection_text = on, text[:1000]
    a.decision_by = add_working_days(on, int(pack.decimal("verification.decision_working_days")))
    a.save(update_fields=["objection_on", "objection_text", "decision_by"])
    return a


@transaction.atomic
def verification_objection_decide(*, assignment_id: int, actor, on: dt.date, upheld: bool) -> VerificationAssignment:
    """The province decides an objection on ``on`` (due ``decision_by``; a late decision is kept and
    shown as late). If the objection is upheld and the conclusion was 不符合, the conclusion is resolved
    as determined by the authority (the block on final allocation lifts). Only the entity's provincial
    authority (R0502); V0307 without a pending objection."""
    a = _assignment(assignment_id)
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=a.entity.province)
    if a.objection_on is None or a.decided_on is not None:
        raise CetsError(V0307, f"{a.entity.uscc} {a.year}")
    a.decided_on, a.objection_upheld = on, upheld
    a.save(update_fields=["decided_on", "objection_upheld"])
    if upheld and a.conforming is False:
        rec = VerificationRecord.objects.filter(list_id=f"ASG-{a.pk}", resolved_at__isnull=True).first()
        if rec is not None:
            verification_resolve(record_id=rec.pk, actor=actor, resolution=VerificationRecord.Resolution.DETERMINED,
                                 note=f"异议成立 objection upheld {on}")
    return a


@transaction.atomic
def verifier_evaluation_publish(*, year: int, province: str, actor, at: dt.datetime | None = None) -> int:
    """Evaluate every body that verified ``year`` reports of ``province``'s entities on timeliness,
    compliance and quality (:func:`cets.mrv.verification.evaluate_bodies`, 环办气候函〔2025〕140号 §二(九))
    and publish the scores (replacing an earlier publication of the same year and province).
    Only that provincial authority (R0502). Returns the number of bodies published."""
    from .selectors import verifier_evaluation_facts
    from .verification import evaluate_bodies

    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=province)
    facts, body_ids = verifier_evaluation_facts(year=year, province=province)
    scores = evaluate_bodies(facts)
    when = at or timezone.now()
    VerifierEvaluation.objects.filter(year=year, province=province).delete()
    VerifierEvaluation.objects.bulk_create([
        VerifierEvaluation(year=year, province=province, body_id=body_ids[s.body], verifications=s.verifications, timeliness=s.timeliness,
                           compliance=s.compliance, quality=s.quality, spot_checks=s.spot_checks, flagged=s.flagged,
                           published_at=when, published_by=actor) for s in scores])
    return len(scores)


# -- key-emitter lists (名录) ------------------------------------------------------------------------------

def _national_listed(*, year: int, sector: str, entity_ids) -> set[int]:
    return listed_entity_ids(market=PRIMARY_MARKET, year=year, sector=sector, entity_ids=entity_ids)


@transaction.atomic
def emitter_list_compile(*, market: str, year: int, sector: str, province: str, actor, entities: Sequence[Organisation],
                         closed_entity_ids: Iterable[int] = ()) -> dict[str, int]:
    """Decide the ``year`` list of ``market``/``sector`` for ``province`` over ``entities`` (candidates:
    the province's entities with emissions data or on an earlier list) by :func:`cets.parties.lists.list_decision`
    on their verified emissions (:func:`cets.mrv.selectors.entity_emissions_by_year`). For a pilot market
    an entity on the national list of the same year and sector is left off (``national_market``,
    Regulations Art. 29; 2025 notice §一(一)). National inclusions are added to the parties list.

    Only the provincial authority of ``province`` (R0502). Raises L0101 once published, L0102 for a
    sector outside the pack. Replaces an unpublished compilation. Returns counts by reason.
    """
    from cets.parties.lists import list_decision

    from .selectors import entity_emissions_by_year

    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=province)
    rules = list_rules(market, year)
    if sector not in rules.sectors:
        raise CetsError(L0102, sector)
    if sector in list_published_sectors(market=market, year=year, province=province):
        raise CetsError(L0101, f"{market} {year} {sector} {province}")
    for e in entities:
        if e.province != province:
            raise CetsError(DENIED, f"{e.uscc} outside province {province}")
    ids = [e.pk for e in entities]
    basis = year - rules.basis_offset
    emissions = entity_emissions_by_year(entity_ids=ids, years=range(basis - rules.removal_years + 1, basis + 1))
    before = listed_entity_ids(market=market, year=year - 1, sector=sector, entity_ids=ids)
    national_now = _national_listed(year=year, sector=sector, entity_ids=ids) if market != PRIMARY_MARKET else set()
    closed = set(closed_entity_ids)
    records, counts = [], {}
    for e in entities:
        d = list_decision(year=year, emissions=emissions.get(e.pk, {}), listed_before=e.pk in before, closed=e.pk in closed, rules=rules)
        included, reason = d.included, d.reason
        if included and e.pk in national_now:
            included, reason = False, "national_market"
        counts[reason] = counts.get(reason, 0) + 1
        records.append(ListEntry(entity_id=e.pk, included=included, reason=reason, basis_year=d.basis_year, basis_t=d.basis_t,
                                 source=rules.pack_id))
    emitter_list_replace(market=market, year=year, sector=sector, province=province, entries=records)
    return counts


# -- data-quality control plans, monthly filings, annual reports -------------------------------------------



def _own_entity(actor, entity: Organisation) -> None:
    m = require_role(actor, Role.ENTITY)
    if m.organisation_id != entity.pk:
        raise CetsError(DENIED, "not the entity's own data")


def _reporting(market: str, year: int, key: str):
    """An optional ``reporting.<key>`` of the year's accounting pack (power), as text; None if absent."""
    pack = _verification_pack(market, "power", year)
    return pack.raw("reporting").get(key)


@transaction.atomic
def dq_plan_submit(*, entity: Organisation, year: int, summary: str, actor, on: dt.date, market: str = PRIMARY_MARKET) -> DataQualityPlan:
    """The entity submits a new version of its ``year`` data-quality control plan (Regulations Art. 11);
    ``due_on`` from the pack's ``reporting.dq_plan_due`` (12-31 of the year before, national). A later
    version after approval is a change to the plan. Only the entity's own users (R0502)."""
    _own_entity(actor, entity)
    last = DataQualityPlan.objects.select_for_update().filter(entity=entity, year=year, market=market).order_by("-version").first()
    due = _reporting(market, year, "dq_plan_due")
    return DataQualityPlan.objects.create(market=market, entity=entity, year=year, version=(last.version + 1) if last else 1, summary=summary,
                                          due_on=dt.date.fromisoformat(due) if due else None, submitted_on=on, submitted_by=actor)


@transaction.atomic
def dq_plan_review(*, plan_id: int, actor, approve: bool, comment: str, on: dt.date) -> DataQualityPlan:
    """Technical review of a submitted plan version by the entity's provincial authority: approved, or
    returned with ``comment`` (the entity then submits a new version). R0502 outside jurisdiction;
    M0201 if the version is not awaiting review."""
    plan = DataQualityPlan.objects.select_for_update().select_related("entity").get(pk=plan_id)
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=plan.entity.province)
    if plan.status != DataQualityPlan.Status.SUBMITTED:
        raise CetsError(M0201, f"v{plan.version} {plan.status}")
    plan.status = DataQualityPlan.Status.APPROVED if approve else DataQualityPlan.Status.RETURNED
    plan.reviewed_on, plan.reviewed_by = on, actor
    plan.save(update_fields=["status", "reviewed_on", "reviewed_by"])
    if comment:
        PlanComment.objects.create(plan=plan, author=actor, text=comment)
    return plan


@transaction.atomic
def monthly_filings_upload(*, entity: Organisation, year: int, file_name: str, data: bytes, actor, on: dt.date, market: str = PRIMARY_MARKET,
                           evidence: Sequence[tuple[str, str]] = ()) -> dict[str, int]:
    """The entity uploads monthly data (the XLSX template, :mod:`cets.mrv.monthly_files`): every row is
    checked as ``cets mrv compute`` checks a CSV, plus: the credit code is the entity's, the unit is
    one of its units, and an accepted month is not overwritten. Any problem → :class:`InputError` listing
    every bad row, nothing written. Otherwise each unit-month becomes (or replaces) a filing due month
    end + the pack's ``reporting.monthly_filing_days`` calendar days; a filing after its due date is a
    late or back-filled (补报) one and stays flagged. ``evidence``: (file name, sha256) of the supporting
    files. Only the entity's own users (R0502). Returns counts (filings, late)."""
    from cets.core.errors import InputError, InputProblem
    from cets.parties.selectors import units_of

    from .calc import AccountingRules
    from .deadlines import monthly_filing_due, review_due
    from .monthly_files import read_monthly_xlsx
    from .tables import validate_monthly

    _own_entity(actor, entity)
    pack = _verification_pack(market, "power", year)
    rules = AccountingRules.from_pack(pack)
    header, records, problems = read_monthly_xlsx(data, file_name=file_name)
    rows: list = []
    if not problems:
        rows, problems = validate_monthly(file_name, header, records, rules)
    units = {u.code: u for u in units_of(entity=entity)}
    accepted = set(MonthlyFiling.objects.filter(entity=entity, year=year, market=market, status=MonthlyFiling.Status.ACCEPTED)
                   .values_list("unit__code", "month"))
    row_of = {}
    for rec in records:
        row_of.setdefault((rec.get("unit_id", "").strip(), rec.get("month", "").strip(), rec.get("fuel", "").strip()), int(rec["_row"]))
    for r in rows:
        n = row_of.get((r.unit_id, f"{r.year}-{r.month:02d}", r.fuel), 0)
        if r.entity_uscc != entity.uscc:
            problems.append(InputProblem(file_name, n, "entity_uscc", r.entity_uscc, "不是本单位的信用代码", "not this entity's credit code"))
        elif r.unit_id not in units:
            problems.append(InputProblem(file_name, n, "unit_id", r.unit_id, "本单位无此机组", "no such unit of this entity"))
        elif r.year != year:
            problems.append(InputProblem(file_name, n, "month", f"{r.year}-{r.month:02d}", f"应为{year}年的月份", f"month must be in {year}"))
        elif (r.unit_id, r.month) in accepted:
            problems.append(InputProblem(file_name, n, "month", f"{r.year}-{r.month:02d}", M0202.zh, M0202.en))
    if problems:
        raise InputError(problems)
    days = int(pack.decimal("reporting.monthly_filing_days"))
    rdays = pack.raw("reporting").get("monthly_review_days")
    by_month: dict[tuple[str, int], list] = {}
    for r in rows:
        by_month.setdefault((r.unit_id, r.month), []).append(r)
    late = 0
    for (code, month), rs in sorted(by_month.items()):
        MonthlyFiling.objects.filter(unit=units[code], year=year, month=month, market=market).delete()
        due = monthly_filing_due(year, month, days)
        late += on > due
        f0 = rs[0]
        f = MonthlyFiling.objects.create(
            market=market, entity=entity, unit=units[code], year=year, month=month, generation_mwh=f0.generation_mwh, supplied_mwh=f0.supplied_mwh,
            heat_supplied_gj=f0.heat_supplied_gj, operating_hours=f0.operating_hours, rated_capacity_mw=f0.rated_capacity_mw,
            purchased_electricity_mwh=f0.purchased_electricity_mwh, green_electricity_mwh=f0.green_electricity_mwh,
            evidence=[{"name": n, "sha256": h} for n, h in evidence], source=file_name[:200], due_on=due, submitted_on=on, submitted_by=actor,
            review_due=review_due(due, int(rdays) if rdays else None))
        MonthlyFuelLine.objects.bulk_create([MonthlyFuelLine(filing=f, fuel=r.fuel, fuel_consumed=r.fuel_consumed, ncv=r.ncv,
                                                             carbon_content=r.carbon_content, oxidation_rate=r.oxidation_rate) for r in rs])
    return {"filings": len(by_month), "late": late}


@transaction.atomic
def monthly_filing_review(*, filing_id: int, actor, accept: bool, comment: str, on: dt.date) -> MonthlyFiling:
    """The authority reviews a submitted monthly filing (accepted, or returned with ``comment`` for the
    entity to file again). Only an authority whose jurisdiction covers the entity: its province, or its
    district (Beijing: the district bureau checks monthly data, 京环发〔2024〕8号) — R0502; M0203 unless submitted."""
    f = MonthlyFiling.objects.select_for_update().select_related("entity").get(pk=filing_id)
    require_role(actor, *LOCAL_AUTHORITY_ROLES, province=f.entity.province, region_code=district_of(f.entity))
    if f.status != MonthlyFiling.Status.SUBMITTED:
        raise CetsError(M0203, f"{f.year}-{f.month:02d} {f.status}")
    f.status = MonthlyFiling.Status.ACCEPTED if accept else MonthlyFiling.Status.RETURNED
    f.reviewed_on, f.reviewed_by, f.review_comment = on, actor, comment[:1000]
    f.save(update_fields=["status", "reviewed_on", "reviewed_by", "review_comment"])
    return f


@transaction.atomic
def annual_report_generate(*, entity: Organisation, year: int, actor, market: str = PRIMARY_MARKET, at: dt.datetime | None = None) -> AnnualReport:
    """Generate (or regenerate, while unsigned) the entity's ``year`` annual emission report from its
    monthly filings with the year's accounting pack (:func:`cets.mrv.calc.unit_year_emissions`):
    total tonnes CO2e (int) and per-unit emissions, generation, supply, heat, load factor; unit-months
    without a filing are listed in ``missing``. Due date from ``reporting.annual_report_due`` (03-31,
    Measures Art. 25). The entity's own users or its provincial authority (R0502); M0204 without any
    filing, M0206 once signed."""
    from .calc import AccountingRules, MonthlyFuelRow, unit_year_emissions

    m = require_role(actor, Role.ENTITY, Role.PROVINCIAL_AUTHORITY, province=entity.province)
    if m.role == Role.ENTITY and m.organisation_id != entity.pk:
        raise CetsError(DENIED, "not the entity's own report")
    existing = AnnualReport.objects.select_for_update().filter(entity=entity, year=year, market=market, sector="").first()  # the units' report
    if existing and existing.signed_on:
        raise CetsError(M0206, f"{existing.signed_on}")
    pack = _verification_pack(market, "power", year)
    rules = AccountingRules.from_pack(pack)
    filings = list(MonthlyFiling.objects.filter(entity=entity, year=year, market=market).exclude(status=MonthlyFiling.Status.RETURNED)
                   .select_related("unit").prefetch_related("fuels"))
    if not filings:
        raise CetsError(M0204, f"{entity.uscc} {year}")
    rows = [MonthlyFuelRow(entity_uscc=entity.uscc, unit_id=f.unit.code, year=year, month=f.month, fuel=ln.fuel, fuel_consumed=ln.fuel_consumed,
                           ncv=ln.ncv, carbon_content=ln.carbon_content, oxidation_rate=ln.oxidation_rate, generation_mwh=f.generation_mwh,
                           supplied_mwh=f.supplied_mwh, heat_supplied_gj=f.heat_supplied_gj, operating_hours=f.operating_hours,
                           rated_capacity_mw=f.rated_capacity_mw, purchased_electricity_mwh=f.purchased_electricity_mwh,
                           green_electricity_mwh=f.green_electricity_mwh) for f in filings for ln in f.fuels.all()]
    results = unit_year_emissions(rows, rules)
    from cets.parties.selectors import units_of

    have = {(f.unit.code, f.month) for f in filings}
    missing = [f"{u.code} {year}-{mo:02d}" for u in units_of(entity=entity) for mo in range(1, 13) if (u.code, mo) not in have]
    def plain(d: Decimal) -> str:  # the same text whatever scale the database returned (SQLite / PostgreSQL)
        return format(d.normalize(), "f")

    units = [{"unit_id": r.unit_id, "emissions_t": r.emissions_t, "generation_mwh": plain(r.generation_mwh), "supplied_mwh": plain(r.supplied_mwh),
              "heat_supplied_gj": plain(r.heat_supplied_gj), "load_factor": format(r.load_factor, "f")} for r in results]
    values = dict(pack_id=pack.id, emissions_t=sum(r.emissions_t for r in results), units=units, missing=missing,
                  generated_at=at or timezone.now(), due_on=pack.date("reporting.annual_report_due"))
    if existing:
        for k, v in values.items():
            setattr(existing, k, v)
        existing.save()
        return existing
    return AnnualReport.objects.create(market=market, entity=entity, year=year, **values)


@transaction.atomic
def annual_report_sign(*, report_id: int, actor, on: dt.date) -> AnnualReport:
    """The entity signs off its annual report on ``on`` (a date after ``due_on`` stays flagged late).
    Only the entity's own users (R0502); M0205 while unit-months lack a filing; M0206 if signed."""
    rep = AnnualReport.objects.select_for_update().select_related("entity").get(pk=report_id)
    _own_entity(actor, rep.entity)
    if rep.signed_on:
        raise CetsError(M0206, f"{rep.signed_on}")
    if rep.missing:
        raise CetsError(M0205, f"{len(rep.missing)}: {', '.join(rep.missing[:3])}")
    rep.signed_on, rep.signed_by = on, actor
    rep.save(update_fields=["signed_on", "signed_by"])
    return rep




@transaction.atomic
def unit_year_data_from_verification(*, assignment_id: int, actor) -> int:
    """Hand the verified year to allocation: one :class:`UnitYearData` per unit (generation MWh, heat GJ,
    load factor, emissions tonnes CO2e) from the entity's signed annual report, once its regular
    verification is completed and conforming (or its 不符合 resolved) and the verified total equals the
    report's total (M0207 otherwise: a verified figure that differs cannot be split by unit here).
    The entity's provincial authority (R0502); M0208 if a precondition is missing. Existing unit-year
    data is never overwritten (:func:`unit_year_data_upsert`). Returns how many rows were created."""
    from cets.parties.selectors import units_of

    a = _assignment(assignment_id)
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=a.entity.province)
    rep = AnnualReport.objects.filter(entity_id=a.entity_id, year=a.year, market=a.market, sector="", signed_on__isnull=False).first()
    blocked = VerificationRecord.objects.filter(list_id=f"ASG-{a.pk}", conforming=False, resolved_at__isnull=True).exists()
    if a.kind != VerificationAssignment.Kind.REGULAR or a.completed_on is None or blocked or rep is None:
        raise CetsError(M0208, f"{a.entity.uscc} {a.year}")
    if a.verified_emissions_t != rep.emissions_t:
        raise CetsError(M0207, f"verified {a.verified_emissions_t} t, report {rep.emissions_t} t")
    units = {u.code: u for u in units_of(entity=a.entity)}
    rows = [UnitYearData(unit=units[u["unit_id"]], year=a.year, generation_mwh=Decimal(u["generation_mwh"]),
                         heat_supplied_gj=Decimal(u["heat_supplied_gj"]), load_factor=Decimal(u["load_factor"]),
                         verified_emissions_t=u["emissions_t"], source="verified") for u in rep.units]
    return unit_year_data_upsert(rows=rows)
