"""Allocation results per unit and entity, with every input and intermediate value kept."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cets.core.fields import ExactDecimalField
from cets.parties.models import Facility, GeneratingUnit, Organisation
from cets.rules.markets import PRIMARY_MARKET


class UnitAllocation(models.Model):
    """One unit's allocation for one year (plan 附3/附4): inputs, factor, parts and pre-allocation."""

    # No index of its own: the unique constraint below starts with this column and serves its look-ups (issue 19: one index
    # less to write for each of a national year's rows).
    unit = models.ForeignKey(GeneratingUnit, on_delete=models.PROTECT, related_name="allocations", db_index=False)
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


class FacilityAllocation(models.Model):
    """One facility's allocation for one year under a steel/cement/aluminium pack (the 2024–2025 plan; the
    2025–2026 draft §四(二)): A = E (2024, special cases, entities below the threshold) or
    ``floor(E × (1 + α))`` with α from the deviation X = (BP − I) / BP of the intensity I to the balance
    value BP. Tonnes CO2e (int); I, BP, X, α exact decimals."""

    # No index of its own: the unique constraint below starts with this column and serves its look-ups (issue 19: one index
    # less to write for each of a national year's rows).
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="allocations", db_index=False)
    year = models.PositiveSmallIntegerField()
    pack_id = models.CharField(max_length=80)
    verified_emissions_t = models.BigIntegerField()
    intensity = ExactDecimalField(max_digits=14, decimal_places=8, null=True, blank=True)
    balance_value = ExactDecimalField(max_digits=14, decimal_places=8, null=True, blank=True)
    deviation = ExactDecimalField(max_digits=16, decimal_places=10, null=True, blank=True)
    alpha = ExactDecimalField(max_digits=16, decimal_places=10)
    allocation_t = models.BigIntegerField()
    obligation_t = models.BigIntegerField()
    pre_allocation_t = models.BigIntegerField()
    special = models.CharField(max_length=24, blank=True)

    class Meta:
        ordering = ["facility_id"]
        constraints = [models.UniqueConstraint(fields=["facility", "year"], name="facility_allocation_unique")]


class EntityAllocation(models.Model):
    """One entity's allocation for one year (plan §三, §五) and how far it has been issued.

    Field names follow the seed notices: 预分配配额量 ``pre_allocation_t``, 应发配额量
    ``final_allocation_t``, 实发 ``issue_delta_t`` (final − pre, negative = claw-back, 多退少补).
    """

    class Stage(models.TextChoices):
        COMPUTED = "computed", "已核算 computed"
        PRE_ISSUED = "pre_issued", "已预分配 pre-allocation issued"
        FINAL_ISSUED = "final_issued", "已核定发放 final allocation issued"

    # No index of its own: the unique constraint below starts with this column and serves its look-ups (issue 19: one index
    # less to write for each of a national year's rows).
    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="allocations", db_index=False)
    market = models.CharField(max_length=16, default=PRIMARY_MARKET, help_text="the pack's market (rules/packs/<market>/)")
    sector = models.CharField(max_length=24, default="power", help_text="the pack's sector (the market's sector registry)")
    year = models.PositiveSmallIntegerField()
    pack_id = models.CharField(max_length=80)
    pack_sha256 = models.CharField(max_length=64, blank=True, help_text="hash of the pack file the figures were computed with")
    verified_emissions_t = models.BigIntegerField()
    pre_allocation_t = models.BigIntegerField()
    initial_allocation_t = models.BigIntegerField()
    shortfall_topup_t = models.BigIntegerField()
    final_allocation_t = models.BigIntegerField()
    issue_delta_t = models.BigIntegerField()
    # The seed notices' table figures (国环规气候〔2024〕1号 一(一), 二(一)); see cets.allocation.issuance.
    pre_allocation_computed_t = models.BigIntegerField(default=0, help_text="Σ unit pre-allocations before special treatment (t)")
    obligation_t = models.BigIntegerField(default=0, help_text="应清缴配额量 surrender obligation = verified emissions (t)")
    pre_adjustment_t = models.BigIntegerField(default=0, help_text="配额总调整量 adjustment deducted at pre-allocation (t)")
    pre_issue_t = models.BigIntegerField(default=0, help_text="预分配实发配额量 pre-allocation actually issued (t)")
    adjustments_total_t = models.BigIntegerField(default=0, help_text="配额调整总量 adjustments in force (t)")
    final_issue_t = models.BigIntegerField(default=0, help_text="实发配额量 final − adjustments − already issued (t; < 0 claw-back)")
    issued_t = models.BigIntegerField(default=0, help_text="issued so far through executed registry proposals (t, net of claw-back)")
    to_provincial_account = models.BooleanField(default=False, help_text="compliance risk: issued to the provincial account")
    special_note = models.CharField(max_length=400, blank=True, help_text="特别说明")
    source = models.CharField(max_length=120, default="computed", help_text="computed | imported:<file> (data tables)")
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.COMPUTED)
    proposal_key = models.CharField(max_length=120, blank=True, help_text="the registry proposal issuing the next stage, while it waits")
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity_id", "sector"]
        indexes = [models.Index(fields=["market", "sector", "year"], name="entity_allocation_scope")]
        constraints = [
            models.UniqueConstraint(fields=["entity", "market", "sector", "year"], name="entity_allocation_unique_sector"),
            models.CheckConstraint(
                condition=Q(final_allocation_t=models.F("initial_allocation_t") + models.F("shortfall_topup_t")), name="entity_allocation_final_sum"
            ),
            models.CheckConstraint(condition=Q(issue_delta_t=models.F("final_allocation_t") - models.F("pre_allocation_t")), name="entity_allocation_delta"),
        ]


class AllocationAdjustment(models.Model):
    """One decided change to an entity's issuance of one year (配额调整总量 in the seed notices' tables).

    ``quantity_t`` tonnes CO2e (int, > 0) is *withheld* from the year's issuance (实发 = 应发 − Σ
    adjustments, and a claw-back when the result is below what was already issued). Kinds:

    - ``arrears_deduction`` 核减: unsurrendered quantity of an earlier year deducted from this year
      (Regulations 2024 Art. 24; 2023–2024 plan §五; the pack can switch this off);
    - ``violation_deduction``: other deductions an authority decides (e.g. data fraud, Art. 22);
    - ``borrowing_repayment``: allowances borrowed from this year's vintage for an earlier year (预支,
      2021–2022 plan) are repaid out of this year's issuance;
    - ``relief``: hardship relief (个性化纾困) — a *negative* withholding is not allowed; relief that adds
      allowances is a separate issuance decision, relief that defers a deduction voids it.

    Rows are never edited: ``voided_at`` marks a withdrawn decision and the row stays as the record.
    ``source`` names the deciding record (``compliance.penalty:12``) so the chain can be followed.
    """

    class Kind(models.TextChoices):
        ARREARS_DEDUCTION = "arrears_deduction", "欠缴核减 arrears deduction"
        VIOLATION_DEDUCTION = "violation_deduction", "违规核减 violation deduction"
        BORROWING_REPAYMENT = "borrowing_repayment", "预支归还 borrowing repayment"

    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="allocation_adjustments")
    year = models.PositiveSmallIntegerField(help_text="the allocation year whose issuance is reduced")
    sector = models.CharField(max_length=24, blank=True, help_text="the sector allocation it is withheld from ('' = the entity's largest)")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    quantity_t = models.BigIntegerField()
    reason = models.CharField(max_length=300)
    source = models.CharField(max_length=80, help_text="the deciding record, e.g. compliance.deduction:12")
    decided_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField()
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["entity_id", "year", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity_t__gt=0), name="allocation_adjustment_positive"),
            models.UniqueConstraint(fields=["source", "kind", "year"], name="allocation_adjustment_source_unique"),
        ]


class SpecialTreatment(models.Model):
    """Differentiated treatment of an entity for one allocation year (seed notices 2023 and 2024 on
    差异化管理), shown as the tables' "special note" (特别说明):

    - ``all_shut`` 全部机组关停但主体存续: no pre-allocation;
    - ``compliance_risk`` 履约风险 (litigation, debt, judicial freeze, earlier arrears): allowances are
      issued into the provincial authority's account with the entity as beneficiary; the entity may
      not borrow;
    - ``deregistered`` 已注销: nothing is issued.
    """

    class Kind(models.TextChoices):
        ALL_SHUT = "all_shut", "机组全部关停 all units shut"
        COMPLIANCE_RISK = "compliance_risk", "存在履约风险 compliance risk"
        DEREGISTERED = "deregistered", "已注销 deregistered"

    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="special_treatments")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.CharField(max_length=300)
    decided_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField()
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["entity_id", "year", "id"]


class DynamicAdjustment(models.Model):
    """配额动态调整: an entity's allocation recomputed after its verification result changed (seed notice
    国环规气候〔2024〕1号 二(三): the province recomputes and reports to the registry within 3 working days of
    re-determining the result). Old and new figures are kept; the difference is issued or clawed back
    through a four-eyes registry proposal."""

    class Status(models.TextChoices):
        RECORDED = "recorded", "已核算 recorded"
        PROPOSED = "proposed", "已提交发放 proposed"
        EXECUTED = "executed", "已执行 executed"
        NO_CHANGE = "no_change", "无需调整 no change"
        CARRIED = "carried", "并入核定发放 carried into the final issuance"

    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="dynamic_adjustments")
    year = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=300)
    source = models.CharField(max_length=80, help_text="the record that changed the verification result, e.g. mrv.verification:12")
    redetermined_on = models.DateField(help_text="the day the province re-determined the verification result")
    deadline = models.DateField(help_text="3 working days after redetermined_on (seed notice 二(三))")
    recorded_on = models.DateField()
    old_verified_emissions_t = models.BigIntegerField()
    new_verified_emissions_t = models.BigIntegerField()
    old_final_allocation_t = models.BigIntegerField()
    new_final_allocation_t = models.BigIntegerField()
    delta_t = models.BigIntegerField(help_text="to issue (> 0) or claw back (< 0), tonnes")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECORDED)
    proposal_key = models.CharField(max_length=120, blank=True)
    recorded_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-recorded_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["entity", "year", "source"], name="dynamic_adjustment_source_unique")]

    @property
    def late(self) -> bool:
        return self.recorded_on > self.deadline


class TablePublication(models.Model):
    """The day a province notified its entities of the allocation data tables of a stage of a year (书面通知,
    Measures (trial) Art. 16 ¶1): the start of the entities' objection period."""

    class Stage(models.TextChoices):
        PRE = "pre", "预分配 pre-allocation"
        FINAL = "final", "核定 final allocation"

    year = models.PositiveSmallIntegerField()
    province = models.CharField(max_length=2)
    stage = models.CharField(max_length=8, choices=Stage.choices)
    published_on = models.DateField()
    published_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "province", "stage"], name="table_publication_unique")]


class AllocationObjection(models.Model):
    """An entity's objection (异议, 申请复核) to its allocation: filed within 7 working days of being notified
    (the tables' publication), decided by the province within 10 working days of receiving it
    (《碳排放权交易管理办法（试行）》 Art. 16 ¶2). Never deleted or edited after the decision: the record stays."""

    class Decision(models.TextChoices):
        PENDING = "pending", "待处理 pending"
        UPHELD = "upheld", "异议成立 upheld"
        REJECTED = "rejected", "异议不成立 rejected"

    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="allocation_objections")
    year = models.PositiveSmallIntegerField()
    stage = models.CharField(max_length=8, choices=TablePublication.Stage.choices)
    grounds = models.TextField()
    filed_on = models.DateField()
    filed_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    file_by = models.DateField(help_text="7 working days after the publication")
    decide_by = models.DateField(help_text="10 working days after filing")
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decision_reason = models.TextField(blank=True)
    decided_on = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-filed_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(filed_on__lte=models.F("file_by")), name="objection_filed_in_time")]

    @property
    def decided_late(self) -> bool:
        return self.decided_on is not None and self.decided_on > self.decide_by


class AllocationSubmission(models.Model):
    """A province's submission of a stage's allocation data tables to the registry (报送), and the registry's
    receipt: ``submitted_on`` against the pack's ``due`` (power 2024-10-24 for 2023, 2025-03-31 and 2025-07-31
    for 2024; industries 2025-09-30 — 2025 notice 环办气候函〔2025〕140号 三), ``received_on`` by the registry, and
    ``issue_by`` = receipt + the pack's working days (10: the registry issues within 10 working days of receipt)."""

    class Stage(models.TextChoices):
        PRE = "pre", "预分配 pre-allocation"
        FINAL = "final", "核定 final allocation"

    market = models.CharField(max_length=16)
    sector = models.CharField(max_length=24)
    year = models.PositiveSmallIntegerField()
    stage = models.CharField(max_length=8, choices=Stage.choices)
    province = models.CharField(max_length=2)
    due = models.DateField(null=True, blank=True, help_text="the pack's submission deadline (null if none is known)")
    submitted_on = models.DateField()
    submitted_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    entities = models.PositiveIntegerField()
    total_t = models.BigIntegerField(help_text="Σ of the stage's quantity over the submitted entities (t)")
    received_on = models.DateField(null=True, blank=True)
    received_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    issue_by = models.DateField(null=True, blank=True)
    proposal_key = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["market", "sector", "year", "stage", "province"]
        constraints = [models.UniqueConstraint(fields=["market", "sector", "year", "stage", "province"], name="allocation_submission_unique")]

    @property
    def late(self) -> bool:
        return self.due is not None and self.submitted_on > self.due


class AllocationBasis(models.Model):
    """The bureau's approval basis (核定依据) of one entity's free allocation for one year, for a market whose
    mechanism takes per-entity inputs (Beijing: 《北京市重点碳排放单位配额核定方法》, the sector's method and
    control factor, which no published text gives per entity — the bureau records them).

    ``method`` one of :data:`cets.allocation.beijing.METHODS`; ``base`` historical emissions (t) or the
    historical intensity / benchmark (t per unit of activity); ``activity`` the year's output; ``factor`` the
    control factor (控排系数); ``prev_allocation_t`` the previous year's approved allocation where the platform
    holds none (tonnes CO2e, int); ``prev_compliant`` whether the entity completed the previous compliance
    (decides the pre-allocation). The verified emissions come from MRV, not from here."""

    market = models.CharField(max_length=16)
    year = models.PositiveSmallIntegerField()
    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="allocation_bases")
    method = models.CharField(max_length=24)
    base = ExactDecimalField(max_digits=20, decimal_places=6)
    activity = ExactDecimalField(max_digits=20, decimal_places=6, default=0)
    factor = ExactDecimalField(max_digits=10, decimal_places=6, default=1)
    prev_allocation_t = models.BigIntegerField(default=0)
    prev_compliant = models.BooleanField(default=False)
    source = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["market", "year", "entity_id"]
        constraints = [
            models.UniqueConstraint(fields=["market", "year", "entity"], name="allocation_basis_unique"),
            models.CheckConstraint(condition=Q(prev_allocation_t__gte=0), name="allocation_basis_prev_nonneg"),
        ]


class PreIssue(models.Model):
    """One entity's pre-issued free allowances of one year in a pilot market (免费配额预发, 京环发〔2024〕8号 三(三)2: by
    07-15, before the emissions are determined by 09-15), with the basis it was computed from, so the unit can defend
    the number: ``prev_allocation_t`` (its previous year's approved allocation; ``prev_source`` names the record:
    ``allocation:<id>`` the platform's own ``year − 1`` allocation, ``basis:<id>`` the bureau's approval basis),
    ``share`` and ``rounding`` (the pack's ``allocation.pre_allocation_ratio`` and ``rounding.pre_allocation``),
    ``pre_allocation_t`` = rounding(share × prev) (0 if the previous compliance was not completed or the entity is
    under a special treatment), ``pre_adjustment_t`` (adjustments in force deducted as far as the pre-allocation
    reaches) and ``pre_issue_t`` = pre − adjustment, issued by the four-eyes proposal ``proposal_key``
    (kind ``free_allocation``). Tonnes CO2e (int). One per (market, year, entity) unless rejected; never edited but
    for its ``status`` (the proposal's outcome). The final allocation then issues final − adjustments − pre_issue_t
    (:class:`EntityAllocation`)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "已提议 proposed"
        EXECUTED = "executed", "已预发 pre-issued"
        REJECTED = "rejected", "已驳回 rejected"

    market = models.CharField(max_length=16)
    year = models.PositiveSmallIntegerField()
    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="pre_issues")
    sector = models.CharField(max_length=24, help_text="the sector its allocation is stored under")
    pack_id = models.CharField(max_length=80)
    pack_sha256 = models.CharField(max_length=64)
    prev_allocation_t = models.BigIntegerField(help_text="the previous year's approved free allocation (t)")
    prev_source = models.CharField(max_length=80, help_text="allocation:<id> (the platform's year − 1 allocation) or basis:<id>")
    prev_compliant = models.BooleanField()
    share = ExactDecimalField(max_digits=8, decimal_places=6)
    rounding = models.CharField(max_length=16)
    treatments = models.CharField(max_length=80, blank=True, help_text="special treatments in force, comma-separated")
    pre_allocation_t = models.BigIntegerField(help_text="rounding(share × prev), 0 when not eligible (t)")
    pre_adjustment_t = models.BigIntegerField(default=0, help_text="adjustments deducted at the pre-issue (t)")
    pre_issue_t = models.BigIntegerField(help_text="pre-issued = pre-allocation − adjustment (t)")
    account = models.CharField(max_length=32, blank=True, help_text="the account credited ('' when nothing is issued)")
    beneficiary = models.CharField(max_length=18, blank=True, help_text="credit code when issued into the provincial account")
    proposal_key = models.CharField(max_length=120)
    client_key = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["market", "year", "entity_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["market", "year", "entity"], condition=~Q(status="rejected"), name="pre_issue_one_per_year"),
            models.CheckConstraint(condition=Q(pre_issue_t=models.F("pre_allocation_t") - models.F("pre_adjustment_t")), name="pre_issue_sum"),
            models.CheckConstraint(condition=Q(pre_issue_t__gte=0, prev_allocation_t__gte=0), name="pre_issue_nonneg"),
        ]
