"""The registry (注册登记): accounts, unit types, holdings, the journal of transfers, proposals.

Invariants (checked by ``cets audit verify``, see :mod:`cets.registry.audit`):
- a holding's quantity is never negative (database CHECK);
- every change of a holding is a :class:`Transfer` in the append-only journal, written in the same
  transaction; replaying the journal reproduces every holding;
- units come into being only by a ``create`` transfer into the national total account and leave
  circulation only into surrender, cancellation and deduction accounts, so per unit type
  Σ holdings = Σ created;
- each transfer is hash-chained to the previous transfer of *each* account it touches
  (per-account chains: transfers between unrelated accounts never wait on one another).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cets.parties.models import Organisation
from cets.rules.markets import PRIMARY_MARKET


class AccountKind(models.TextChoices):
    NATIONAL_TOTAL = "national_total", "国家总量账户 national total"
    NATIONAL_RESERVE = "national_reserve", "国家储备账户 national reserve"
    AUCTION = "auction", "拍卖账户 auction"
    PROVINCIAL = "provincial", "省级主管部门账户 provincial authority"
    ENTITY = "entity", "重点排放单位账户 key emitting entity"
    INSTITUTION = "institution", "机构账户 institution"
    INDIVIDUAL = "individual", "个人账户 individual"
    CCER_HOLDING = "ccer_holding", "CCER持有账户 CCER holding"
    SURRENDER = "surrender", "清缴账户 surrender"
    CANCELLATION = "cancellation", "自愿注销账户 voluntary cancellation"
    DEDUCTION = "deduction", "核减账户 deduction"


# Accounts that units leave circulation into: nothing ever comes back out of them except by reversal.
RETIREMENT_KINDS = frozenset({AccountKind.SURRENDER, AccountKind.CANCELLATION, AccountKind.DEDUCTION})
# Accounts owned by the registry itself (one per market), not by a holder.
SYSTEM_KINDS = frozenset({AccountKind.NATIONAL_TOTAL, AccountKind.NATIONAL_RESERVE, AccountKind.AUCTION} | RETIREMENT_KINDS)


class AccountStatus(models.TextChoices):
    OPEN = "open", "正常 open"
    RESTRICTED = "restricted", "限制（不可转出） restricted"
    FROZEN = "frozen", "冻结 frozen"
    CLOSED = "closed", "注销 closed"


class Position(models.TextChoices):
    REGISTRY = "registry", "登记持仓 registry position"
    TRADING = "trading", "交易持仓 trading position"
    FROZEN = "frozen", "司法冻结 judicially frozen"
    PENDING = "pending", "待处理 pending"


class Instrument(models.TextChoices):
    CEA = "CEA", "全国碳排放配额 CEA"
    CCER = "CCER", "国家核证自愿减排量 CCER"
    BEA = "BEA", "北京碳排放配额 BEA"
    PCER = "PCER", "北京碳普惠减排量 PCER"


class Account(models.Model):
    """A registry account. ``head_hash``/``head_seq`` are the tip of this account's hash chain."""

    number = models.CharField(max_length=40, unique=True)
    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    holder = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    province = models.CharField(max_length=2, blank=True, db_index=True)
    status = models.CharField(max_length=12, choices=AccountStatus.choices, default=AccountStatus.OPEN)
    head_hash = models.CharField(max_length=64, default="")
    head_seq = models.BigIntegerField(default=0)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            # One registry account per holder and market (Registry rules; cn-ets-rules.md §4.1 [M]).
            models.UniqueConstraint(fields=["holder", "market"], condition=Q(holder__isnull=False), name="one_account_per_holder_market"),
            models.UniqueConstraint(
                fields=["kind", "market"],
                condition=Q(kind__in=["national_total", "national_reserve", "auction", "surrender", "cancellation", "deduction"]),
                name="one_system_account_per_market",
            ),
            models.UniqueConstraint(fields=["kind", "market", "province"], condition=Q(kind="provincial"), name="one_provincial_account"),
        ]

    def __str__(self) -> str:
        return self.number


class CcerProject(models.Model):
    """A CCER project of the national voluntary scheme (全国温室气体自愿减排注册登记系统)."""

    code = models.CharField(max_length=60, unique=True)
    name = models.CharField(max_length=300)
    project_type = models.CharField(max_length=100, blank=True)
    methodology = models.CharField(max_length=60, blank=True)
    province_name = models.CharField(max_length=40, blank=True)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="ccer_projects")
    registered_on = models.DateField(null=True, blank=True)
    # 备案 date of an old (pre-2017) CCER; null for projects registered under the 2023 Measures.
    filed_on = models.DateField(null=True, blank=True)
    under_ets_quota_management = models.BooleanField(default=False)


class UnitType(models.Model):
    """An instrument and vintage: ``CEA-2023``, ``CEA-2019-2020``, ``CCER-<project>-2024``."""

    code = models.CharField(max_length=80, unique=True)
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    vintage = models.CharField(max_length=9)
    project = models.ForeignKey(CcerProject, null=True, blank=True, on_delete=models.PROTECT, related_name="unit_types")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Holding(models.Model):
    """(account, unit type, position) → quantity in tonnes CO2e, never negative."""

    # (account, unit_type, position) is unique and indexed; no separate FK indexes.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holdings", db_index=False)
    unit_type = models.ForeignKey(UnitType, on_delete=models.PROTECT, related_name="holdings", db_index=False)
    position = models.CharField(max_length=10, choices=Position.choices)
    quantity = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "unit_type", "position"], name="holding_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="holding_nonnegative"),
        ]


class TransferKind(models.TextChoices):
    CREATE = "create", "创设 creation (cap)"
    ISSUE = "issue", "发放 issuance"
    CLAWBACK = "clawback", "收回 claw-back"
    TRANSFER = "transfer", "转移 transfer"
    POSITION_MOVE = "position_move", "持仓划转 position move"
    SURRENDER = "surrender", "清缴 surrender"
    FORCED_SURRENDER = "forced_surrender", "强制履约 forced surrender"
    CANCELLATION = "cancellation", "注销 cancellation"
    DEDUCTION = "deduction", "核减 deduction"
    FREEZE = "freeze", "冻结 freeze"
    RELEASE = "release", "解冻 release"
    REVERSAL = "reversal", "冲正 reversal"
    CARRY_OVER = "carry_over", "结转 carry-over (old vintage retired)"


class Transfer(models.Model):
    """One immutable journal entry. ``key`` is the client's idempotency key.

    ``debit_*`` is where units come from (null only for ``create``), ``credit_*`` where they go.
    ``effective_at`` is the business time (e.g. the surrender approval date); ``recorded_at`` is
    when the row was written. ``hash`` = sha256 over the content and both accounts' previous heads.
    """

    seq = models.BigAutoField(primary_key=True)
    key = models.CharField(max_length=120)  # unique: ``transfer_key_unique`` below
    kind = models.CharField(max_length=20, choices=TransferKind.choices)
    # Index budget: every journal insert maintains each index, so only the ones reads need exist:
    # (debit_account, seq) and (credit_account, seq) serve account journals and chain checks; key is unique by a
    # named constraint rather than ``unique=True``, which on PostgreSQL also builds a second, ``varchar_pattern_ops``
    # index for prefix LIKE that no read of the journal uses (issue 19; registry migration 0014).
    unit_type = models.ForeignKey(UnitType, on_delete=models.PROTECT, related_name="+", db_index=False)
    debit_account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    debit_position = models.CharField(max_length=10, choices=Position.choices, blank=True)
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False)
    credit_position = models.CharField(max_length=10, choices=Position.choices)
    quantity = models.BigIntegerField()
    reference = models.CharField(max_length=200, blank=True)
    # The entity a provincial authority account holds these units for (differentiated treatment, 2023–2024 plan §五).
    beneficiary = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    related = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    effective_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    debit_prev_hash = models.CharField(max_length=64, blank=True)
    credit_prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_quantity_positive"),
            models.CheckConstraint(condition=Q(kind="create") | Q(debit_account__isnull=False), name="transfer_debit_required"),
            models.UniqueConstraint(fields=["key"], name="transfer_key_unique"),
        ]
        indexes = [models.Index(fields=["debit_account", "seq"]), models.Index(fields=["credit_account", "seq"])]


class Proposal(models.Model):
    """A registry operation that takes effect only when a second, authorised person approves it (four eyes).

    ``payload`` holds the operation's arguments; ``result`` what executing it did.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", "待审批 proposed"
        EXECUTED = "executed", "已执行 approved and executed"
        REJECTED = "rejected", "已驳回 rejected"

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("proposed_by")), name="proposal_four_eyes"),
        ]


class HolderChange(models.Model):
    """A change of holder on a merger or split (Measures Art. 18): approved by the province, then
    registered (units moved by journal entries) and published."""

    class Kind(models.TextChoices):
        MERGER = "merger", "合并 merger"
        SPLIT = "split", "分立 split"

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    from_holder = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    to_holder = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    lines = models.JSONField(default=list)  # [{"unit_type": code, "quantity": t}]
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision_ref = models.CharField(max_length=200)
    published_at = models.DateTimeField()


class AccountApplication(models.Model):
    """An application to open a holder account by a natural person or an institution (draft Measures Art. 14:
    the registry opens accounts for "符合规定的机构和个人"; Art. 18: they are trading subjects).

    ``holder_kind`` ``individual`` (``resident_id``, GB 11643-1999, stored whole for search, shown masked) or
    ``institution`` (``uscc``, GB 32100). ``kyc`` holds the declared know-your-customer fields
    (:data:`cets.registry.services.applications.KYC_FIELDS`); ``password_hash`` the login the applicant chose
    (a Django password hash, never the password). The registry reviews it; approval is a four-eyes proposal
    (kind ``account_application``) whose execution creates the holder, opens the account and the login.
    """

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "已提交 submitted"
        PROPOSED = "proposed", "待复核 proposed for approval"
        APPROVED = "approved", "已开户 approved: account opened"
        REJECTED = "rejected", "已驳回 rejected"

    reference = models.CharField(max_length=24, unique=True)
    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    holder_kind = models.CharField(max_length=12)
    name = models.CharField(max_length=200)
    resident_id = models.CharField(max_length=18, null=True, blank=True, db_index=True)
    uscc = models.CharField(max_length=18, null=True, blank=True, db_index=True)
    kyc = models.JSONField(default=dict)
    username = models.CharField(max_length=150)
    password_hash = models.CharField(max_length=256)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    proposal = models.ForeignKey("Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    holder = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decision_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(condition=(Q(holder_kind="individual") & Q(resident_id__isnull=False) & Q(uscc__isnull=True))
                                   | (Q(holder_kind="institution") & Q(uscc__isnull=False) & Q(resident_id__isnull=True)),
                                   name="application_identity_by_kind"),
        ]

    @property
    def identifier(self) -> str:
        """The credit code, or the person's identity number masked (``110105********123X``)."""
        if self.resident_id:
            from cets.core.resident_id import mask

            return mask(self.resident_id)
        return self.uscc or ""


class ApplicationDocument(models.Model):
    """A document uploaded with an application (identity card, business licence, ...): PDF, JPEG or PNG, bounded
    in size and count (:mod:`cets.core.uploads`), kept in the database; only registry operators read it."""

    application = models.ForeignKey(AccountApplication, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=24)
    file_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()
    uploaded_at = models.DateTimeField(auto_now_add=True)


class SerialBlock(models.Model):
    """A block of serial numbers ``start``–``end`` (inclusive, one tonne each) of a unit type, where one journal
    entry put it (``entry``): minted by a ``create`` entry, then moved whole or split by every later entry between
    accounts (first in, first out by serial within the account, :mod:`cets.registry.serials`). A block is never
    changed: the entry that moves it on sets ``closed_by`` and creates its successors (``parent`` = this block).
    The open blocks of an account cover its holdings of the unit type exactly (all positions); blocks in a
    retirement account are retired serials. History of a serial: every block containing it, in entry order."""

    unit_type = models.ForeignKey(UnitType, on_delete=models.PROTECT, related_name="serial_blocks")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="serial_blocks")
    start = models.BigIntegerField()
    end = models.BigIntegerField()
    entry = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    closed_by = models.ForeignKey(Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["unit_type", "start", "entry"]
        constraints = [models.CheckConstraint(condition=Q(start__gte=1) & Q(end__gte=models.F("start")), name="serial_block_range")]
        indexes = [models.Index(fields=["account", "unit_type", "closed_by"]), models.Index(fields=["unit_type", "start"])]

    @property
    def quantity(self) -> int:
        return self.end - self.start + 1


class TrustedAccount(models.Model):
    """An entry of a holding account's trusted account list (可信账户列表; EU Registry Regulation (EU) 2019/1122
    Art. 24): the holder's transfers may go only to accounts on the list whose ``active_from`` has passed
    (R0801). The holder's user adds an entry; it becomes active after the rule pack's activation delay
    (:mod:`cets.registry.protection`); removal is at once (``removed_at``)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="trusted", db_index=False)
    trusted = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()
    active_from = models.DateTimeField()
    pack_id = models.CharField(max_length=80)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["account_id", "added_at"]
        constraints = [
            models.UniqueConstraint(fields=["account", "trusted"], condition=Q(removed_at__isnull=True), name="trusted_account_once"),
            models.CheckConstraint(condition=~Q(account=models.F("trusted")), name="trusted_account_not_itself"),
        ]


class DelayedTransfer(models.Model):
    """A holder's transfer instruction outside the exchange, held until ``due_at`` (the rule pack's delay within
    working hours, :mod:`cets.registry.protection`; EU Registry Regulation (EU) 2019/1122's 26-hour delay):
    the units wait in the debit account's pending position (journal entry ``{key}:hold``); the holder's users
    may cancel before execution (``{key}:back``); when due, the registry executes it (``{key}`` itself, a
    ``transfer`` pending → the credit account's registry position). Quantity in tonnes CO2e (int)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待执行 pending"
        EXECUTED = "executed", "已执行 executed"
        CANCELLED = "cancelled", "已撤销 cancelled"

    key = models.CharField(max_length=100, unique=True)
    from_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    to_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    unit_type = models.ForeignKey(UnitType, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    reference = models.CharField(max_length=200, blank=True)
    instructed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    instructed_at = models.DateTimeField()
    due_at = models.DateTimeField(db_index=True)
    pack_id = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    hold = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-instructed_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="delayed_transfer_quantity_positive")]
