"""Activity data and verification results per unit and year."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cets.core.fields import ExactDecimalField
from cets.parties.models import GeneratingUnit, Organisation


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
    source = models.CharField(max_length=40, default="verified", help_text="verified | demo-generated")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="unit_year_unique"),
            models.CheckConstraint(condition=Q(verified_emissions_t__gte=0), name="unit_year_emissions_nonneg"),
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
