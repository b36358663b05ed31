"""Supervision records: credit records (Measures Art. 38), the blacklist (Art. 49), joint-punishment
notices and their dispatch register (Art. 46), reports from the public (Art. 40).

Fields named ``internal_note`` and a report's ``reporter_name``, ``reporter_contact`` and ``content``
are confidential: no public page, CSV or API shows them (``tests/supervision/test_public_crawl.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cets.parties.models import Organisation


class CreditRecord(models.Model):
    """One entry of the credit record (信用记录) of an entity or a verification body, recorded by an
    authority within its jurisdiction; public (Art. 38: 记入环境信息管理平台并予以公布)."""

    class Kind(models.TextChoices):
        LATE_REPORT = "late_report", "未按时报告 late report"
        NON_COMPLIANCE = "non_compliance", "未按时足额清缴 non-compliance"
        FALSE_REPORTING = "false_reporting", "虚报瞒报 false reporting"
        VERIFIER_WARNING = "verifier_warning", "核查机构警示 verifier warning"

    subject = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="credit_records")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.CharField(max_length=1000)
    source_reference = models.CharField("依据文号 source reference", max_length=200)
    recorded_on = models.DateField()
    province = models.CharField(max_length=2, blank=True, help_text="the subject's province ('' = national body)")
    authority = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    internal_note = models.CharField(max_length=1000, blank=True, help_text="confidential: never shown publicly")

    class Meta:
        ordering = ["-recorded_on", "-id"]


class BlacklistEntry(models.Model):
    """A 黑名单 decision of the national authority (Art. 49): its effect (barred from trading, or from
    verification work) runs from ``starts_on`` to ``ends_on`` (null = until lifted); public (曝光)."""

    class Effect(models.TextChoices):
        TRADING = "trading", "禁止参与交易 barred from trading"
        VERIFICATION = "verification", "禁止从事核查业务 barred from verification work"

    subject = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="blacklist_entries")
    decision_reference = models.CharField(max_length=200)
    reason = models.CharField(max_length=1000)
    effect = models.CharField(max_length=16, choices=Effect.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    lifted_on = models.DateField(null=True, blank=True)
    internal_note = models.CharField(max_length=1000, blank=True, help_text="confidential: never shown publicly")

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")), name="blacklist_period")]


class JointNotice(models.Model):
    """A joint-punishment notice (联合惩戒通报, Art. 46) about an entity penalised under Arts. 43–45, made
    by its provincial authority; :class:`NoticeDispatch` registers each department it was sent to."""

    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="joint_notices")
    penalty_reference = models.CharField(max_length=200)
    facts = models.CharField(max_length=2000)
    province = models.CharField(max_length=2)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_on = models.DateField()

    class Meta:
        ordering = ["-created_on", "-id"]


class NoticeDispatch(models.Model):
    """One sending of a joint notice to one department (市场监管、税务、金融等)."""

    class Department(models.TextChoices):
        MARKET_REGULATION = "market_regulation", "市场监管部门 market regulation"
        TAX = "tax", "税务部门 tax"
        FINANCE = "finance", "金融管理部门 financial regulation"
        CREDIT = "credit", "信用信息共享平台 credit information platform"

    notice = models.ForeignKey(JointNotice, on_delete=models.PROTECT, related_name="dispatches")
    department = models.CharField(max_length=20, choices=Department.choices)
    sent_on = models.DateField()
    letter_reference = models.CharField(max_length=200, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "department"], name="notice_dispatch_once")]


class PublicReport(models.Model):
    """A report from the public (举报, Measures Art. 40; Regulations Art. 18). Anyone files it; the receipt
    number is the filer's key to the status and the feedback. The reporter's identity and the content
    are seen only by the handling authority (the report's province, or its city for a municipal
    authority, or the national authority)."""

    class Status(models.TextChoices):
        RECEIVED = "received", "已受理 received"
        CLOSED = "closed", "已办结 closed"

    receipt = models.CharField(max_length=24, unique=True)
    subject_name = models.CharField(max_length=200)
    subject = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    province = models.CharField(max_length=2)
    city = models.CharField(max_length=4, blank=True)
    content = models.TextField()
    reporter_name = models.CharField(max_length=100, blank=True)
    reporter_contact = models.CharField(max_length=200, blank=True)
    filed_at = models.DateTimeField()
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    feedback = models.TextField(blank=True)
    closed_on = models.DateField(null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-filed_at"]
        indexes = [models.Index(fields=["province", "city", "status"], name="report_scope")]


class StabilisationAlert(models.Model):
    """A market-adjustment trigger that fired on a trading day (draft Measures Art. 23): the day's figure, the pack's
    threshold and the pack it came from. It goes to the national authority's inbox; the decision stays human — a
    person records it (no action with reasons, or the reserve proposal it led to), and the record is public."""

    class Trigger(models.TextChoices):
        PRICE_HIGH = "price_high", "价格高于触发值 price above the trigger"
        PRICE_LOW = "price_low", "价格低于触发值 price below the trigger"
        VOLUME_LOW = "volume_low", "成交量低于触发值 volume below the trigger"

    class Status(models.TextChoices):
        OPEN = "open", "待决定 open"
        DECIDED = "decided", "已决定 decided"

    market = models.CharField(max_length=16)
    day = models.DateField()
    trigger = models.CharField(max_length=12, choices=Trigger.choices)
    value = models.BigIntegerField(help_text="the day's figure: fen per tonne (price) or tonnes (volume)")
    threshold = models.BigIntegerField(help_text="the pack's trigger value, same unit")
    pack_id = models.CharField(max_length=80)
    pack_sha256 = models.CharField(max_length=64)
    raised_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    decision = models.CharField(max_length=1000, blank=True)
    decision_reference = models.CharField(max_length=200, blank=True)
    proposal_key = models.CharField(max_length=120, blank=True, help_text="the reserve proposal the decision led to, if any")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day", "trigger"]
        constraints = [models.UniqueConstraint(fields=["market", "day", "trigger"], name="one_alert_per_trigger_day")]
