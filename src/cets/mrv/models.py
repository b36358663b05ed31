"""MRV data: verified unit-year data and verification results (incl. resolution of 不符合 conclusions),
random verification assignments with their outcome and deadlines, verifier evaluations, key-emitter
list decisions and publications, data-quality control plans, monthly filings and annual reports.
No logic here: the rules live in the pure modules (calc, verification, lists, deadlines) and the
writes in services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from django.db.models.lookups import LessThanOrEqual

from cets.core.fields import ExactDecimalField
from cets.parties.models import Facility, GeneratingUnit, Organisation
from cets.rules.markets import PRIMARY_MARKET


class UnitYearData(models.Model):
    """A generating unit's verified data for one year: the inputs the allocation formula needs.

    ``generation_mwh`` 发电量 (MWh), ``heat_supplied_gj`` 供热量 (GJ), ``load_factor`` 负荷（出力）系数
    (fraction 0–1), ``verified_emissions_t`` 核查排放量 (tonnes CO2e, direct combustion).
    """

    unit = models.ForeignKey(GeneratingUnit, on_delete=models.PROTECT, related_name="year_data")
    year = models.PositiveSmallIntegerField()
    generation_mwh = ExactDecimalField(max_digits=16, decimal_places=3)
    heat_supplied_gj = ExactDecimalField(max_digits=16, decimal_places=3)
    load_factor = ExactDecimalField(max_digits=7, decimal_places=6)
    verified_emissions_t = models.BigIntegerField()
    # The inputs the 2019–2022 power plans also need (供电量 basis, 供热比 for the heat-supply factor); null
    # where the year's verification did not record them (a 2019–2022 pack then refuses with A0102).
    supplied_mwh = ExactDecimalField(max_digits=16, decimal_places=3, null=True, blank=True, help_text="供电量 electricity supplied (MWh)")
    heat_ratio = ExactDecimalField(max_digits=7, decimal_places=6, null=True, blank=True, help_text="供热比 heat ratio (fraction 0–1)")
    source = models.CharField(max_length=40, default="verified", help_text="verified | demo-generated")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="unit_year_unique"),
            models.CheckConstraint(condition=Q(verified_emissions_t__gte=0), name="unit_year_emissions_nonneg"),
        ]


class FacilityYearData(models.Model):
    """A facility's verified figures for one year (steel, cement, aluminium): ``verified_emissions_t``
    tonnes CO2e (int) of the facility; ``intensity_emissions_t`` the part of them its sector's allocation
    intensity counts (steel E_ironmaking + E_sintering; cement the clinker line's emissions; aluminium anode
    and PFC emissions) and ``output_t`` the product it is divided by (steel ironmaking product, clinker,
    molten aluminium), in tonnes (int) — the 2025–2026 draft plan §四(二)3; 0 for a sector whose accounting has no output
    (:attr:`cets.mrv.accounting_industry.IndustryRules.output_required`, e.g. Beijing services)."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="year_data")
    year = models.PositiveSmallIntegerField()
    verified_emissions_t = models.BigIntegerField()
    intensity_emissions_t = models.BigIntegerField()
    output_t = models.BigIntegerField()
    source = models.CharField(max_length=40, default="verified", help_text="verified | demo-generated")
    # the verification whose per-facility figures these are (cets.mrv.facility_services.facility_year_data_from_verification);
    # null for data loaded otherwise (demo)
    assignment = models.ForeignKey("VerificationAssignment", null=True, blank=True, on_delete=models.PROTECT, related_name="facility_year_data")

    class Meta:
        ordering = ["facility_id", "year"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "year"], name="facility_year_unique"),
            models.CheckConstraint(condition=Q(verified_emissions_t__gte=0) & Q(intensity_emissions_t__gte=0) & Q(output_t__gte=0)
                                   & Q(intensity_emissions_t__lte=models.F("verified_emissions_t")), name="facility_year_figures"),
        ]


class VerificationRecord(models.Model):
    """One verification of one entity's report by one body (核查技术服务机构信息公开表).

    Loaded from the official disclosures; ``conforming`` is the conclusion 符合 (True) / 不符合 (False).
    A 不符合 conclusion blocks the entity's final allocation of ``year`` until it is resolved
    (``resolved_at`` set by the entity's provincial authority: re-verified as conforming, or the
    emissions determined by the authority), see :func:`cets.mrv.selectors.verification_blocks`.
    """

    class Resolution(models.TextChoices):
        REVERIFIED = "reverified", "整改后复核符合 rectified and re-verified"
        DETERMINED = "determined", "主管部门核定排放量 emissions determined by the authority"

    year = models.PositiveSmallIntegerField()
    sector = models.CharField(max_length=24)
    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="verifications")
    verifier = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="verified")
    list_id = models.CharField(max_length=40)
    on_time = models.BooleanField()
    conforming = models.BooleanField()
    source = models.CharField(max_length=200, blank=True)
    resolution = models.CharField(max_length=12, choices=Resolution.choices, blank=True)
    resolution_note = models.CharField(max_length=500, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["year", "entity", "verifier", "list_id"], name="verification_unique"),
            # only a 不符合 conclusion is resolved, and a resolution has its kind, date and author together
            models.CheckConstraint(condition=Q(resolved_at__isnull=True, resolution="", resolved_by__isnull=True)
                                   | Q(conforming=False, resolved_at__isnull=False, resolved_by__isnull=False) & ~Q(resolution=""),
                                   name="verification_resolution_consistent"),
        ]
        indexes = [models.Index(fields=["year", "conforming"], name="verification_year_conf")]


class ReportPreparer(models.Model):
    """A technical service body that helped prepare (编制) an entity's report of ``year``: it may not
    verify that report (《碳排放权交易管理暂行条例》 Art. 13)."""

    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="report_preparers")
    year = models.PositiveSmallIntegerField()
    body = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="reports_prepared")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "year", "body"], name="report_preparer_unique")]


class VerificationAssignment(models.Model):
    """One verification (``regular``) or spot check (``spot_check``, a second verification) of an
    entity's ``year`` report and its outcome. The body is drawn at random (双随机) by the province
    (``commissioned_by`` null, ``seed`` the draw's seed) or, in a market whose accounting pack says
    ``verification.selection = "commissioned"`` (Beijing: 京环发〔2024〕8号 三(二) "重点碳排放单位自行委托核查机构"),
    commissioned by the entity itself (``commissioned_by`` = the entity, ``seed`` empty).

    Deadlines are working days (core.workdays) from the market's accounting pack ``[verification]``:
    ``notify_by`` = completion + 7 (Regulations Art. 12), ``objection_by`` = notification + 7 and
    ``decision_by`` = objection + 10 (Measures Art. 27). Emissions are tonnes CO2e (int),
    generation MWh, heat GJ. ``flagged``: a spot check that differs enough to flag the first verifier.
    """

    class Kind(models.TextChoices):
        REGULAR = "regular", "核查 verification"
        SPOT_CHECK = "spot_check", "抽查 spot check"

    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    sector = models.CharField(max_length=24)
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.REGULAR)
    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="verification_assignments")
    body = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="assignments")
    province = models.CharField(max_length=2)
    seed = models.CharField(max_length=80)
    assigned_at = models.DateTimeField()
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    commissioned_by = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                        help_text="the entity that commissioned the body itself (自行委托, Beijing); null: drawn at random by the province")
    # outcome recorded by the body
    verified_emissions_t = models.BigIntegerField(null=True, blank=True)
    generation_mwh = ExactDecimalField(max_digits=16, decimal_places=3, null=True, blank=True)
    heat_supplied_gj = ExactDecimalField(max_digits=16, decimal_places=3, null=True, blank=True)
    conforming = models.BooleanField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    notify_by = models.DateField(null=True, blank=True)
    notified_on = models.DateField(null=True, blank=True)
    objection_by = models.DateField(null=True, blank=True)
    objection_on = models.DateField(null=True, blank=True)
    objection_text = models.CharField(max_length=1000, blank=True)
    decision_by = models.DateField(null=True, blank=True)
    decided_on = models.DateField(null=True, blank=True)
    objection_upheld = models.BooleanField(null=True, blank=True)
    flagged = models.BooleanField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["year", "entity", "kind", "market"], name="assignment_unique"),
            models.CheckConstraint(condition=Q(verified_emissions_t__isnull=True) | Q(verified_emissions_t__gte=0), name="assignment_emissions_nonneg"),
            models.CheckConstraint(condition=Q(completed_on__isnull=True) | Q(conforming__isnull=False, verified_emissions_t__isnull=False,
                                                                             notify_by__isnull=False), name="assignment_outcome_complete"),
            models.CheckConstraint(condition=Q(notified_on__isnull=True) | Q(completed_on__isnull=False, objection_by__isnull=False),
                                   name="assignment_notified_after_outcome"),
            models.CheckConstraint(condition=Q(objection_on__isnull=True) | Q(notified_on__isnull=False, decision_by__isnull=False),
                                   name="assignment_objection_after_notice"),
        ]


class VerifierEvaluation(models.Model):
    """A published yearly evaluation of a verification body in a province (环办气候函〔2025〕140号 §二(九)):
    shares 0–1 for timeliness (及时性), compliance (合规性) and quality (工作质量); null = no basis."""

    year = models.PositiveSmallIntegerField()
    province = models.CharField(max_length=2, blank=True, help_text="blank = nationwide")
    body = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="evaluations")
    verifications = models.PositiveIntegerField()
    timeliness = ExactDecimalField(max_digits=5, decimal_places=4)
    compliance = ExactDecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    quality = ExactDecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    spot_checks = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "province", "body"], name="verifier_evaluation_unique")]


class DataQualityPlan(models.Model):
    """One version of an entity's data-quality control plan (数据质量控制方案) for ``year``
    (Regulations Art. 11): submitted by the entity before ``due_on`` (the pack's ``reporting.dq_plan_due``),
    technically reviewed by the province (approved, or returned with comments for a new version)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "已提交 submitted"
        APPROVED = "approved", "已通过 approved"
        RETURNED = "returned", "退回修改 returned"

    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="dq_plans")
    # steel, cement, aluminium: one plan per facility (seed 003 §二(四)); null: the entity's plan (power)
    facility = models.ForeignKey(Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="dq_plans")
    year = models.PositiveSmallIntegerField()
    version = models.PositiveSmallIntegerField()
    summary = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    due_on = models.DateField(null=True, blank=True)
    submitted_on = models.DateField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_on = models.DateField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "year", "version", "market"], condition=Q(facility__isnull=True), name="dq_plan_version_unique"),
            models.UniqueConstraint(fields=["facility", "year", "version", "market"], condition=Q(facility__isnull=False),
                                    name="dq_plan_facility_version_unique"),
            models.CheckConstraint(condition=Q(status="submitted") | Q(reviewed_on__isnull=False, reviewed_by__isnull=False),
                                   name="dq_plan_reviewed_has_reviewer"),
        ]


class PlanComment(models.Model):
    """A review comment on a plan version (technical review, 技术审核)."""

    plan = models.ForeignKey(DataQualityPlan, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)


class MonthlyFiling(models.Model):
    """One unit's month (月度信息化存证): the unit-month figures, its fuel lines and evidence, due
    ``due_on`` = month end + the pack's ``reporting.monthly_filing_days`` calendar days (40 national,
    20 Beijing); the authority's review due ``review_due`` where the pack sets a window (Beijing 10).
    Generation, supply, purchased and green electricity in MWh, heat GJ, hours h, capacity MW.
    ``evidence``: list of {"name", "sha256"} of the supporting files."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "已存证 submitted"
        ACCEPTED = "accepted", "审核通过 accepted"
        RETURNED = "returned", "退回 returned"

    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="monthly_filings")
    unit = models.ForeignKey(GeneratingUnit, on_delete=models.PROTECT, related_name="monthly_filings")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    generation_mwh = ExactDecimalField(max_digits=16, decimal_places=3)
    supplied_mwh = ExactDecimalField(max_digits=16, decimal_places=3)
    heat_supplied_gj = ExactDecimalField(max_digits=16, decimal_places=3)
    operating_hours = ExactDecimalField(max_digits=7, decimal_places=2)
    rated_capacity_mw = ExactDecimalField(max_digits=10, decimal_places=3)
    purchased_electricity_mwh = ExactDecimalField(max_digits=16, decimal_places=3, default=0)
    green_electricity_mwh = ExactDecimalField(max_digits=16, decimal_places=3, default=0)
    evidence = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=200, blank=True)
    due_on = models.DateField()
    submitted_on = models.DateField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    review_due = models.DateField(null=True, blank=True)
    reviewed_on = models.DateField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    review_comment = models.CharField(max_length=1000, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "year", "month", "market"], name="monthly_filing_unique"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="monthly_filing_month"),
            # compared as numbers on both databases (ExactDecimalField is TEXT on SQLite: '950' > '1000' as text)
            models.CheckConstraint(condition=LessThanOrEqual(Cast("supplied_mwh", models.DecimalField(max_digits=16, decimal_places=3)),
                                                             Cast("generation_mwh", models.DecimalField(max_digits=16, decimal_places=3))),
                                   name="monthly_filing_supply_le_generation"),
        ]
        indexes = [models.Index(fields=["year", "market", "entity"], name="monthly_filing_scope")]


class MonthlyFuelLine(models.Model):
    """One fuel of a monthly filing: ``fuel_consumed`` t (10^4 Nm3 for gases); ``ncv`` GJ per unit,
    ``carbon_content`` tC/GJ, ``oxidation_rate`` fraction — null when not measured (the pack's default applies)."""

    filing = models.ForeignKey(MonthlyFiling, on_delete=models.CASCADE, related_name="fuels")
    fuel = models.CharField(max_length=20)
    fuel_consumed = ExactDecimalField(max_digits=18, decimal_places=4)
    ncv = ExactDecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    carbon_content = ExactDecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    oxidation_rate = ExactDecimalField(max_digits=6, decimal_places=4, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["filing", "fuel"], name="monthly_fuel_unique")]


class AnnualReport(models.Model):
    """An entity's annual emission report generated from its monthly filings with the year's accounting
    pack (:func:`cets.mrv.calc.unit_year_emissions`): ``emissions_t`` tonnes CO2e (int); ``units``: per
    unit emissions and production; ``missing``: unit-months without a filing. Signed off by the entity;
    due ``due_on`` (the pack's ``reporting.annual_report_due``, 03-31 nationally)."""

    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="annual_reports")
    year = models.PositiveSmallIntegerField()
    pack_id = models.CharField(max_length=80)
    emissions_t = models.BigIntegerField()
    units = models.JSONField(default=list)
    # steel, cement, aluminium: the report's sector and per-facility results (facility_id, emissions_t,
    # intensity_emissions_t, output_t, details) from cets.mrv.accounting_industry; blank / empty for the generating
    # units' report (cets.mrv.services.annual_report_generate), which keeps ``units``
    sector = models.CharField(max_length=24, blank=True)
    facilities = models.JSONField(default=list, blank=True)
    missing = models.JSONField(default=list)
    generated_at = models.DateTimeField()
    due_on = models.DateField()
    signed_on = models.DateField(null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "year", "market", "sector"], name="annual_report_unique"),
            models.CheckConstraint(condition=Q(emissions_t__gte=0), name="annual_report_emissions_nonneg"),
        ]


class FacilityMonthlyFiling(models.Model):
    """One steel, cement or aluminium facility's month (月度信息化存证, 环办气候函〔2025〕140号 §二(五)): the activity lines
    the sector's accounting guideline needs (:class:`FacilityActivityLine`), due ``due_on`` (month end + the accounting
    pack's ``reporting.monthly_filing_days`` calendar days from ``reporting.monthly_filing_from``; earlier months by the
    cycle pack's back-filling step; null where no text sets a date), reviewed by the province.
    ``evidence``: list of {"name", "sha256"} of the supporting files."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "已存证 submitted"
        ACCEPTED = "accepted", "审核通过 accepted"
        RETURNED = "returned", "退回 returned"

    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="facility_filings")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="monthly_filings")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    pack_id = models.CharField(max_length=80)
    evidence = models.JSONField(default=list, blank=True)
    due_on = models.DateField(null=True, blank=True)
    submitted_on = models.DateField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    reviewed_on = models.DateField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    review_comment = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["facility_id", "year", "month"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "year", "month", "market"], name="facility_filing_unique"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="facility_filing_month"),
        ]


class FacilityActivityLine(models.Model):
    """One activity line of a facility's month, as a row of ``cets mrv compute`` (README "MRV input formats"):
    ``source`` (the sector's source codes), ``part`` (steel process or co-firing unit), ``material``, ``quantity`` in the
    material's unit (t, 10^4 Nm3, MW·h, GJ; null on a parameter row), measured ``ncv`` GJ/unit, ``carbon_content`` tC/GJ,
    ``oxidation_rate``, ``measured_value`` — null where the guideline's default applies."""

    filing = models.ForeignKey(FacilityMonthlyFiling, on_delete=models.CASCADE, related_name="lines")
    source = models.CharField(max_length=24)
    part = models.CharField(max_length=40, blank=True)
    material = models.CharField(max_length=40)
    quantity = ExactDecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    ncv = ExactDecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    carbon_content = ExactDecimalField(max_digits=12, decimal_places=8, null=True, blank=True)
    oxidation_rate = ExactDecimalField(max_digits=8, decimal_places=6, null=True, blank=True)
    measured_value = ExactDecimalField(max_digits=16, decimal_places=8, null=True, blank=True)

    class Meta:
        ordering = ["filing_id", "id"]
        constraints = [models.UniqueConstraint(fields=["filing", "source", "part", "material"], name="facility_line_unique")]


class FacilityVerification(models.Model):
    """The verification body's figures for one facility of a regular verification (核查, per facility): verified
    emissions, the part the sector's allocation intensity counts and its denominator, tonnes (int) — what
    :class:`FacilityYearData` takes once the province hands the verification to allocation."""

    assignment = models.ForeignKey(VerificationAssignment, on_delete=models.PROTECT, related_name="facility_figures")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="verifications")
    verified_emissions_t = models.BigIntegerField()
    intensity_emissions_t = models.BigIntegerField()
    output_t = models.BigIntegerField()

    class Meta:
        ordering = ["assignment_id", "facility_id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "facility"], name="facility_verification_unique"),
            models.CheckConstraint(condition=Q(verified_emissions_t__gte=0) & Q(intensity_emissions_t__gte=0) & Q(output_t__gte=0)
                                   & Q(intensity_emissions_t__lte=models.F("verified_emissions_t")), name="facility_verification_figures"),
        ]


class GeneralReport(models.Model):
    """A general reporting unit's (一般报告单位) annual emission report and its district's data-quality check
    (京环发〔2024〕8号 三(一)2: filed through the platform to the district bureau by the cycle pack's
    ``general_reports`` date — 2024-07-15 for 2023 — and checked by the district within 30 natural days of that date,
    ``general_reports_check``). ``emissions_t`` tonnes CO2e (int); the evidence file is kept by name and SHA-256.
    ``due_on`` / ``check_due_on`` from the pack; ``late`` filed after ``due_on``. A returned report may be filed again
    (status back to ``submitted``); an accepted one may not."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "已报送 submitted"
        ACCEPTED = "accepted", "检查通过 accepted"
        RETURNED = "returned", "退回 returned"

    market = models.CharField(max_length=16)
    year = models.PositiveSmallIntegerField()
    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="general_reports")
    emissions_t = models.BigIntegerField()
    evidence_name = models.CharField(max_length=200)
    evidence_sha256 = models.CharField(max_length=64)
    due_on = models.DateField()
    submitted_on = models.DateField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    late = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    check_due_on = models.DateField()
    checked_on = models.DateField(null=True, blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    comment = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["market", "year", "entity"], name="general_report_unique"),
            models.CheckConstraint(condition=Q(emissions_t__gte=0), name="general_report_emissions_nonneg"),
        ]


class PcerProject(models.Model):
    """A Beijing carbon-inclusion (碳普惠) project (京环发〔2024〕8号 三(三)): its owner, methodology (a key of the
    offsets pack's ``pcer.methodologies``) and location; registered by the owner, approved by the Beijing bureau."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "已申请 submitted"
        APPROVED = "approved", "已备案 approved"

    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="pcer_projects")
    name = models.CharField(max_length=200)
    methodology = models.CharField(max_length=40)
    location = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class PcerPeriod(models.Model):
    """One monitoring period of a PCER project: the owner's activity data, the calculator's reduction (int t CO2e,
    with the pack id and SHA-256) and the bureau's confirmation (a person)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "已提交 submitted"
        CONFIRMED = "confirmed", "已确认 confirmed"

    project = models.ForeignKey(PcerProject, on_delete=models.PROTECT, related_name="periods")
    start = models.DateField()
    end = models.DateField()
    activity = models.JSONField()
    pack_id = models.CharField(max_length=80)
    pack_sha256 = models.CharField(max_length=64)
    reduction_t = models.BigIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The registry's four-eyes steps of the issuance (cets.mrv.pcer_services.pcer_issuance_propose): creating the
    # reduction as PCER-{vintage} units in Beijing's total account, then issuing them to the owner's Beijing account.
    create_proposal = models.ForeignKey("registry.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    issue_proposal = models.ForeignKey("registry.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    @property
    def issued(self) -> bool:
        """The reduction is in the owner's account (the issuance proposal was approved and executed)."""
        return self.issue_proposal is not None and self.issue_proposal.status == "executed"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "start"], name="pcer_period_once"),
                       models.CheckConstraint(condition=Q(reduction_t__gte=0), name="pcer_reduction_nonneg")]
