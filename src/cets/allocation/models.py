"""Allocation results per unit and entity, with every input and intermediate value kept."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from cets.core.fields import ExactDecimalField
from cets.parties.models import GeneratingUnit, Organisation


class UnitAllocation(models.Model):
    """One unit's allocation for one year (plan 附3/附4): inputs, factor, parts and pre-allocation."""

    unit = models.ForeignKey(GeneratingUnit, on_delete=models.PROTECT, related_name="allocations")
    year = models.PositiveSmallIntegerField()
    pack_id = models.CharField(max_length=80)
    # inputs
    category = models.CharField(max_length=3)
    generation_mwh = ExactDecimalField(max_digits=16, decimal_places=3)
    heat_supplied_gj = ExactDecimalField(max_digits=16, decimal_places=3)
    load_factor = ExactDecimalField(max_digits=7, decimal_places=6)
    electricity_benchmark = ExactDecimalField(max_digits=10, decimal_places=6)
    heat_benchmark = ExactDecimalField(max_digits=10, decimal_places=6)
    verified_emissions_t = models.BigIntegerField()
    prev_verified_emissions_t = models.BigIntegerField()
    # results
    ff = ExactDecimalField(max_digits=10, decimal_places=6)
    electricity_allowance_t = models.BigIntegerField()
    heat_allowance_t = models.BigIntegerField()
    gas_topup_t = models.BigIntegerField()
    unit_allowance_t = models.BigIntegerField()
    pre_allocation_t = models.BigIntegerField()

    class Meta:
        ordering = ["unit_id"]
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="unit_allocation_unique")]


class EntityAllocation(models.Model):
    """One entity's allocation for one year (plan §三, §五) and how far it has been issued.

    Field names follow the seed notices: 预分配配额量 ``pre_allocation_t``, 应发配额量
    ``final_allocation_t``, 实发 ``issue_delta_t`` (final − pre, negative = claw-back, 多退少补).
    """

    class Stage(models.TextChoices):
        COMPUTED = "computed", "已核算 computed"
        PRE_ISSUED = "pre_issued", "已预分配 pre-allocation issued"
        FINAL_ISSUED = "final_issued", "已核定发放 final allocation issued"

    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="allocations")
    year = models.PositiveSmallIntegerField()
    pack_id = models.CharField(max_length=80)
    verified_emissions_t = models.BigIntegerField()
    pre_allocation_t = models.BigIntegerField()
    initial_allocation_t = models.BigIntegerField()
    shortfall_topup_t = models.BigIntegerField()
    final_allocation_t = models.BigIntegerField()
    issue_delta_t = models.BigIntegerField()
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.COMPUTED)
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity_id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "year"], name="entity_allocation_unique"),
            models.CheckConstraint(condition=Q(final_allocation_t=models.F("initial_allocation_t") + models.F("shortfall_topup_t")), name="entity_allocation_final_sum"),
            models.CheckConstraint(condition=Q(issue_delta_t=models.F("final_allocation_t") - models.F("pre_allocation_t")), name="entity_allocation_delta"),
        ]
