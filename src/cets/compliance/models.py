"""Surrender obligations and surrender applications. Compliance status is computed from these
events (see :mod:`cets.compliance.status`), never stored as a flag that could drift."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cets.parties.models import Organisation
from cets.registry.models import UnitType
from cets.rules.markets import PRIMARY_MARKET


class Obligation(models.Model):
    """应清缴配额量: what an entity must surrender for one year, by when, and its offset cap.

    ``obligation_t`` = verified emissions (power: direct combustion only from 2023, plan §五(三));
    ``offset_cap_t`` = floor(offset_cap × obligation) (Measures Art. 29: ≤ 5%), on the whole obligation.
    An entity on several sector lists of a market has one obligation for the year with ``sectors`` giving
    each sector's share (2025 notice 环办气候函〔2025〕140号: one notice, one surrender).
    The market is the pack's (``national/…``, ``beijing/…``). Beijing (pack ``beijing/compliance-…``):
    ``offset_cap_t`` caps PCER + CCER together (2023: 5% of the determined emissions, 京环发〔2024〕8号 三(四)),
    ``offset_basis_t`` is what it is a share of (the obligation or the allocation, per the pack);
    ``nonlocal_ccer_cap_t`` caps the CCERs of projects outside Beijing only when the pack sets such a cap
    (null otherwise: the 2023 notice sets none); both are null for the national market.
    """

    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="obligations")
    market = models.CharField(max_length=16, default=PRIMARY_MARKET, help_text="the pack's market: one obligation per entity, market and year")
    year = models.PositiveSmallIntegerField()
    pack_id = models.CharField(max_length=80)
    obligation_t = models.BigIntegerField()
    sectors = models.JSONField(default=dict, blank=True, help_text="per-sector breakdown of obligation_t: {sector: tonnes (int)}")
    offset_cap_t = models.BigIntegerField()
    offset_basis_t = models.BigIntegerField(null=True, blank=True, help_text="Beijing: tonnes the offset caps are shares of")
    nonlocal_ccer_cap_t = models.BigIntegerField(null=True, blank=True, help_text="Beijing: cap on CCERs of projects outside Beijing (t)")
    deadline = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity_id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "market", "year"], name="obligation_unique_market"),
            models.CheckConstraint(condition=Q(obligation_t__gte=0) & Q(offset_cap_t__gte=0), name="obligation_nonneg"),
            models.CheckConstraint(
                condition=Q(nonlocal_ccer_cap_t__isnull=True) | (Q(nonlocal_ccer_cap_t__gte=0) & Q(nonlocal_ccer_cap_t__lte=models.F("offset_cap_t"))),
                name="obligation_nonlocal_cap_within_total",
            ),
        ]


class SurrenderApplication(models.Model):
    """An entity's application to surrender units against an obligation (plan 附6).

    Submitting moves the units to the pending position; the province's approval moves them to the
    surrender account; a rejection returns them. ``decided_at`` is the business time of the decision.
    ``collected``: recorded by the Beijing automatic collection after the deadline (京环发〔2024〕8号 三(四)
    "逾期未完成的，管理平台将自动收缴"), not by the entity: the obligation's outcome is then "collected".
    """

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "已提交 submitted"
        APPROVED = "approved", "已确认 approved"
        REJECTED = "rejected", "已退回 rejected"

    key = models.CharField(max_length=120, unique=True)
    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, related_name="surrenders")
    unit_type = models.ForeignKey(UnitType, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    pending_transfer_key = models.CharField(max_length=120)
    final_transfer_key = models.CharField(max_length=120, blank=True)
    collected = models.BooleanField(default=False, help_text="taken by the automatic collection after the deadline (Beijing), not surrendered by the entity")

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="surrender_quantity_positive")]


class CarryOverApplication(models.Model):
    """An entity's application to carry old-vintage allowances over into the target vintage (plan 附5)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "已提交 submitted"
        PROCESSED = "processed", "已结转 processed"
        REJECTED = "rejected", "已退回 rejected"

    key = models.CharField(max_length=120, unique=True)
    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="carry_overs")
    unit_type = models.ForeignKey(UnitType, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    pack_id = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    hold_transfer_key = models.CharField(max_length=120)
    retire_transfer_key = models.CharField(max_length=120, blank=True)
    issue_transfer_key = models.CharField(max_length=120, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="carry_over_quantity_positive")]


class RectificationOrder(models.Model):
    """责令限期改正: the authority orders an entity that did not surrender in full by the deadline to do so
    by ``deadline`` (Regulations 2024 Art. 24; notice 国环规气候〔2024〕1号 §三(三): 2023 → 2025-02-28,
    2024 → 2026-02-28). ``unsurrendered_t`` tonnes CO2e (int) outstanding when the order was issued."""

    obligation = models.OneToOneField(Obligation, on_delete=models.PROTECT, related_name="rectification")
    reference = models.CharField(max_length=120, help_text="文号 of the order")
    deadline = models.DateField()
    unsurrendered_t = models.BigIntegerField()
    authority = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(unsurrendered_t__gt=0), name="rectification_unsurrendered_positive")]


class PenaltyDecision(models.Model):
    """行政处罚决定: the fine for not surrendering in full by the deadline.

    ``basis`` ``price_multiple`` (Regulations 2024 Art. 24): ``fine_fen`` = ``multiple`` ×
    ``unsurrendered_t`` × ``price_fen`` (the average price of ``price_from``…``price_to``, formed from
    ``price_volume_t`` t and ``price_amount_fen`` fen of counted trades); ``fixed_range`` (Measures 2021
    Art. 40): ``fine_fen`` chosen in the range, ``multiple`` and the price empty. ``min_fen``/``max_fen``
    are the lawful range at decision time; ``reason`` why this multiple (or amount) was chosen.
    Money in fen (int). Published (``published_at``) by the deciding authority (notice §三(四))."""

    obligation = models.OneToOneField(Obligation, on_delete=models.PROTECT, related_name="penalty")
    pack_id = models.CharField(max_length=80)
    basis = models.CharField(max_length=20)
    reference = models.CharField(max_length=120, help_text="处罚决定书文号")
    unsurrendered_t = models.BigIntegerField()
    price_from = models.DateField(null=True, blank=True)
    price_to = models.DateField(null=True, blank=True)
    price_fen = models.BigIntegerField(null=True, blank=True)
    price_volume_t = models.BigIntegerField(null=True, blank=True)
    price_amount_fen = models.BigIntegerField(null=True, blank=True)
    multiple = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    min_fen = models.BigIntegerField()
    max_fen = models.BigIntegerField()
    fine_fen = models.BigIntegerField()
    reason = models.CharField(max_length=500)
    authority = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unsurrendered_t__gt=0) & Q(min_fen__lte=models.F("fine_fen")) & Q(fine_fen__lte=models.F("max_fen")), name="penalty_fine_in_range"
            ),
        ]


class ComplianceNotice(models.Model):
    """履约通知书: issued by the registry with the final allocation (notice 国环规气候〔2024〕1号 §三(一)): the
    obligation (应清缴配额量, tonnes CO2e), the deadline and the CCER offset rules, as they stood when issued.

    ``delivered_to`` ``entity``: to the entity's account; ``province``: to the provincial authority, for
    entities whose allowances it holds (差异化管理, compliance risk; notice of 2023-07-17 §一), which
    forwards it to the entity (``forwarded_at``)."""

    class DeliveredTo(models.TextChoices):
        ENTITY = "entity", "重点排放单位 entity"
        PROVINCE = "province", "省级生态环境主管部门 provincial authority"

    obligation = models.OneToOneField(Obligation, on_delete=models.PROTECT, related_name="notice")
    number = models.CharField(max_length=60, unique=True)
    obligation_t = models.BigIntegerField()
    offset_cap_t = models.BigIntegerField()
    deadline = models.DateField()
    delivered_to = models.CharField(max_length=10, choices=DeliveredTo.choices)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()
    forwarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]


class ComplianceCertificate(models.Model):
    """履约完成证明: issued by the registry once the obligation is surrendered in full (notice 国环规气候〔2024〕1号
    §四(四)). ``outcome`` on_time / late and ``surrendered_t`` as at issue."""

    obligation = models.OneToOneField(Obligation, on_delete=models.PROTECT, related_name="certificate")
    number = models.CharField(max_length=60, unique=True)
    outcome = models.CharField(max_length=12)
    surrendered_t = models.BigIntegerField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]


class Borrowing(models.Model):
    """预支 (2021–2022 flexible compliance): the province's decision, submitted with documents, that
    ``entity`` borrows ``quantity_t`` tonnes CO2e of the ``from_vintage`` allowances for its ``year``
    obligation (notice of 2023-07-17 §三). ``gap_t`` = obligation − allocation and ``limit_t`` = the
    pack's share of the gap, as checked at submission. The borrowed quantity is withheld from the
    ``from_vintage`` issuance (AllocationAdjustment ``borrowing_repayment``, source ``compliance.borrowing:<id>``)."""

    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="borrowings")
    year = models.PositiveSmallIntegerField()
    pack_id = models.CharField(max_length=80)
    from_vintage = models.CharField(max_length=10)
    allocation_t = models.BigIntegerField()
    obligation_t = models.BigIntegerField()
    gap_t = models.BigIntegerField()
    limit_t = models.BigIntegerField()
    quantity_t = models.BigIntegerField()
    documents = models.JSONField(default=list, help_text="references of the documents submitted (正式文件、申报材料)")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "year"], name="borrowing_once_per_year"),
            models.CheckConstraint(condition=Q(quantity_t__gt=0) & Q(quantity_t__lte=models.F("limit_t")), name="borrowing_within_limit"),
        ]


class ReliefApplication(models.Model):
    """个性化纾困: the province applies, with documents, for an entity with major public-service duties
    (重大民生保障任务) that cannot comply; the national authority decides (notice of 2023-07-17 §三).

    Effects recorded on approval: ``deadline_extension`` (``new_deadline`` replaces the obligation's
    deadline in the status), ``additional_issuance`` (``quantity_t`` t to be issued by the allocation
    context), ``deduction_deferral`` (the deduction ``deferred_source`` is to be voided by the allocation
    context)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "已申请 submitted"
        APPROVED = "approved", "已批准 approved"
        REJECTED = "rejected", "未批准 rejected"

    class Effect(models.TextChoices):
        DEADLINE_EXTENSION = "deadline_extension", "延期履约 deadline extended"
        ADDITIONAL_ISSUANCE = "additional_issuance", "增发配额 additional issuance"
        DEDUCTION_DEFERRAL = "deduction_deferral", "暂缓核减 deduction deferred"

    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, related_name="reliefs")
    grounds = models.CharField(max_length=500)
    documents = models.JSONField(default=list)
    effect = models.CharField(max_length=24, choices=Effect.choices)
    new_deadline = models.DateField(null=True, blank=True)
    quantity_t = models.BigIntegerField(null=True, blank=True)
    deferred_source = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity_t__isnull=True) | Q(quantity_t__gt=0), name="relief_quantity_positive")]


class ReportingEnforcement(models.Model):
    """A unit that did not report (未按规定报送, 京环发〔2024〕8号 五(二)): the authority's order to correct within a
    deadline (责令限期改正: ``correct_by``, ``order_reference``) and, if the report is still missing after it, the fine
    decided within the pack's range (``fine_fen`` int fen, at most ``reporting_penalty.max_fine_fen``). ``duty`` is the
    cycle event of the missing report (``annual_reports``, ``verification`` for key emitting units; ``general_reports``
    for general reporting units), ``due_on`` its due date. cets.compliance.services.reporting."""

    class Status(models.TextChoices):
        ORDERED = "ordered", "已责令限期改正 ordered to correct"
        FINED = "fined", "已处罚款 fined"

    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="reporting_enforcements")
    market = models.CharField(max_length=16)
    year = models.PositiveSmallIntegerField()
    duty = models.CharField(max_length=40)
    due_on = models.DateField()
    pack_id = models.CharField(max_length=80)
    order_reference = models.CharField(max_length=120)
    ordered_on = models.DateField()
    correct_by = models.DateField()
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ORDERED)
    fine_fen = models.BigIntegerField(null=True, blank=True)
    fine_reference = models.CharField(max_length=120, blank=True)
    fined_on = models.DateField(null=True, blank=True)
    fined_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["entity", "market", "year", "duty"], name="reporting_enforcement_once"),
                       models.CheckConstraint(condition=Q(correct_by__gt=models.F("ordered_on")), name="reporting_correct_after_order"),
                       models.CheckConstraint(condition=Q(fine_fen__isnull=True) | Q(fine_fen__gt=0), name="reporting_fine_positive")]
