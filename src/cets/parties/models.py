"""Organisations, generating units, key-emitter lists (名录), and who acts for whom (roles)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cets.core.fields import ExactDecimalField
from cets.rules.markets import PRIMARY_MARKET


class Organisation(models.Model):
    """A holder or a body: key emitting entity, verification body, authority, registry, exchange, institution,
    or a natural person (``individual``; draft Measures Art. 14 and 18 let institutions and individuals hold and
    trade, Regulations Art. 7 lets "其他主体" take part).

    ``province`` is the GB/T 2260 province code from the credit code's region code ('' for
    national-level bodies), or from a person's address code; it decides which provincial authority has jurisdiction.
    A person has no credit code: ``resident_id`` (GB 11643-1999, validated by :mod:`cets.core.resident_id`) is
    stored whole so the registry can find the holder by it, and shown only masked (:attr:`identifier`).
    """

    class Kind(models.TextChoices):
        ENTITY = "entity", "重点排放单位 key emitting entity"
        VERIFIER = "verifier", "核查技术服务机构 verification body"
        AUTHORITY = "authority", "生态环境主管部门 authority"
        REGISTRY = "registry", "注册登记机构 registry"
        EXCHANGE = "exchange", "交易机构 exchange"
        INSTITUTION = "institution", "机构 institution"
        PROJECT_OWNER = "project_owner", "项目业主 project owner"
        INDIVIDUAL = "individual", "自然人 individual"

    uscc = models.CharField("统一社会信用代码 unified social credit code", max_length=18, unique=True, null=True, blank=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    province = models.CharField(max_length=2, blank=True, db_index=True)
    region_code = models.CharField(max_length=6, blank=True)
    # A named jurisdiction that supervises the organisation instead of the district of its GB/T 2260 region_code: a
    # code of ours from the market file's [[jurisdictions]] (e.g. "11ETDA", 北京经济技术开发区, which has no GB/T 2260
    # code of its own; 京政发〔2024〕6号 Art. 4). '' = the district of region_code. cets.parties.access.district_of.
    jurisdiction = models.CharField(max_length=6, blank=True, default="")
    resident_id = models.CharField("公民身份号码 resident identity number", max_length=18, unique=True, null=True, blank=True,
                                   help_text="GB 11643-1999; individuals only; never shown unmasked")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["province", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["project_owner", "authority", "registry", "exchange", "individual"]) | Q(uscc__isnull=False),
                name="org_uscc_required",
            ),
            models.CheckConstraint(condition=~Q(kind="individual") | (Q(resident_id__isnull=False) & Q(uscc__isnull=True)),
                                   name="org_individual_resident_id"),
            models.CheckConstraint(condition=Q(kind="individual") | Q(resident_id__isnull=True), name="org_resident_id_individual_only"),
        ]

    @property
    def identifier(self) -> str:
        """What a page may show to identify the holder: the credit code, a person's masked identity number
        (``110105********123X``), or ''."""
        if self.resident_id:
            from cets.core.resident_id import mask

            return mask(self.resident_id)
        return self.uscc or ""

    def __str__(self) -> str:
        return f"{self.name} ({self.identifier or '-'})"


class GeneratingUnit(models.Model):
    """A power generating unit (机组) of a key emitting entity, with its category (plan 附1)."""

    class Category(models.TextChoices):
        I = "I", "I 300MW等级以上常规燃煤机组"  # noqa: E741 (category I of plan 附1)
        II = "II", "II 300MW等级及以下常规燃煤机组"
        III = "III", "III 非常规燃煤机组（含燃煤循环流化床）"
        IV = "IV", "IV 燃气机组"
        NOT_COVERED = "NC", "不纳入 not covered"

    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="units")
    code = models.CharField("机组编号 unit id", max_length=40)
    category = models.CharField(max_length=3, choices=Category.choices)
    rated_capacity_mw = ExactDecimalField("额定容量 rated capacity (MW)", max_digits=12, decimal_places=3)
    cooling = models.CharField(max_length=16, blank=True, help_text="冷却方式 cooling type of the 2019–2022 plans' factor (e.g. water, air)")
    source = models.CharField(max_length=40, default="reported", help_text="reported | demo-generated")

    class Meta:
        ordering = ["entity_id", "code"]
        constraints = [models.UniqueConstraint(fields=["entity", "code"], name="unit_code_unique_per_entity")]

    def __str__(self) -> str:
        return f"{self.entity.name} {self.code}"


class Facility(models.Model):
    """A covered facility (生产设施) of a key emitting entity outside power generation: the allocation unit
    of its sector's plan — a steel enterprise or integrated works (钢铁企业法人或联合生产企业), a cement clinker
    line (熟料生产线), an aluminium electrolysis process (电解铝工序). Power generating units are
    :class:`GeneratingUnit`. ``kind`` names the facility type in the sector's accounting guideline."""

    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="facilities")
    sector = models.CharField(max_length=24)
    code = models.CharField("设施编号 facility id", max_length=40)
    kind = models.CharField(max_length=40, help_text="e.g. integrated_works, eaf_steel, clinker_line, electrolysis")
    name = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=40, default="reported", help_text="reported | demo-generated")

    class Meta:
        ordering = ["entity_id", "sector", "code"]
        constraints = [models.UniqueConstraint(fields=["entity", "code"], name="facility_code_unique_per_entity")]

    def __str__(self) -> str:
        return f"{self.entity.name} {self.code}"


class EmitterListEntry(models.Model):
    """An entity's place on a key-emitter list (重点排放单位名录) of one market, year and sector: the one
    home of the list. ``included`` says whether it is on the list and ``reason`` why (see
    :class:`cets.parties.lists.ListDecision`; ``verified`` for an entity of the official verification
    disclosures, ``imported`` for a province's uploaded list, ``national_market`` for a pilot-list
    entity already in the national market for the sector). ``basis_t`` tonnes CO2e (int) of
    ``basis_year``. Queries for "who is listed" filter ``included=True``.

    ``category``: ``key_emitter`` (重点排放单位 / 重点碳排放单位: allocation, obligation) or ``general_reporting``
    (一般报告单位, Beijing, 京环发〔2024〕8号 三(一)2: reports its year's emissions to its district bureau, no allowance,
    no obligation). Key-emitter queries (allocation, obligations, the cycle's figures) filter
    ``category=KEY_EMITTER`` too."""

    KEY_EMITTER, GENERAL_REPORTING = "key_emitter", "general_reporting"
    CATEGORIES = ((KEY_EMITTER, "重点排放单位 key emitter"), (GENERAL_REPORTING, "一般报告单位 general reporting unit"))

    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    year = models.PositiveSmallIntegerField()
    sector = models.CharField(max_length=24, help_text="a sector code of the market's sector registry (market.toml)")
    entity = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="list_entries")
    province = models.CharField(max_length=2, db_index=True)
    included = models.BooleanField(default=True)
    reason = models.CharField(max_length=24, default="verified")
    basis_year = models.PositiveSmallIntegerField(null=True, blank=True)
    basis_t = models.BigIntegerField(null=True, blank=True)
    city = models.CharField(max_length=60, blank=True)
    source = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=20, choices=CATEGORIES, default=KEY_EMITTER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["market", "year", "sector", "entity"], name="emitter_list_entry_unique")]
        indexes = [models.Index(fields=["market", "year", "sector", "province"], name="emitter_list_scope")]


class EmitterListPublication(models.Model):
    """Publication (公布) of a province's list of one market, year and sector: ``deadline`` from the
    pack (null if none is known), ``published_on`` the date it was made public, ``entries`` the number
    of included entities."""

    market = models.CharField(max_length=16)
    year = models.PositiveSmallIntegerField()
    sector = models.CharField(max_length=24)
    province = models.CharField(max_length=2)
    deadline = models.DateField(null=True, blank=True)
    published_on = models.DateField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entries = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["market", "year", "sector", "province"], name="emitter_list_publication_unique")]


class Role(models.TextChoices):
    NATIONAL_AUTHORITY = "national_authority", "生态环境部 national authority"
    PROVINCIAL_AUTHORITY = "provincial_authority", "省级生态环境主管部门 provincial authority"
    MUNICIPAL_AUTHORITY = "municipal_authority", "市级生态环境主管部门 municipal authority"
    DISTRICT_AUTHORITY = "district_authority", "区级生态环境主管部门 district authority"
    ENTITY = "entity", "重点排放单位 key emitting entity"
    VERIFIER = "verifier", "核查技术服务机构 verification body"
    REGISTRY_OPERATOR = "registry_operator", "注册登记机构 registry operator"
    EXCHANGE_OPERATOR = "exchange_operator", "交易机构 exchange operator"
    TRADER = "trader", "机构、个人 institution / individual"
    PUBLIC = "public", "社会公众 public"
    AUDITOR = "auditor", "审计 auditor"


class Membership(models.Model):
    """Who a user acts for: one organisation, one role, one jurisdiction (DESIGN.md, Who uses it).

    ``province`` is the jurisdiction of provincial, municipal and district authority users ('' = national);
    ``city`` the four-digit GB/T 2260 prefix of a municipal authority's city (an entity is in the city
    when its ``region_code`` starts with it; '' for everyone else); ``district`` the six-digit GB/T 2260
    code of a district authority's district (Beijing's 各区生态环境局, 京环发〔2024〕8号: the district checks its
    units' monthly data and reports; it sees and acts only on entities whose ``region_code`` is that district).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(max_length=24, choices=Role.choices)
    province = models.CharField(max_length=2, blank=True)
    city = models.CharField(max_length=4, blank=True, help_text="GB/T 2260 city prefix (4 digits) of a municipal authority")
    district = models.CharField(max_length=6, blank=True, help_text="GB/T 2260 district code (6 digits) of a district authority, or the code of "
                                                                    "a named jurisdiction of ours (2 digits of the province + 4 capitals, e.g. 11ETDA)")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(role__in=["provincial_authority", "municipal_authority", "district_authority"]) | ~Q(province=""),
                name="membership_authority_has_province",
            ),
            models.CheckConstraint(
                condition=~Q(role="district_authority") | (Q(district__regex=r"^([0-9]{6}|[0-9]{2}[A-Z]{4})$")),
                name="membership_district_authority_has_district",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} · {self.organisation.name}"


class ImportBatch(models.Model):
    """A record of one file import: what was read, what was created, every problem found."""

    kind = models.CharField(max_length=40)
    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    parameters = models.JSONField(default=dict)
    counts = models.JSONField(default=dict)
    problems = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)


class SecurityEvent(models.Model):
    """A security event, append-only, read by auditors (DESIGN.md, Who uses it): a failed sign-in, a lockout
    (S0301), a wrong TOTP code (S0302), a refused permission (R0502) or a registry operation without a
    verified second factor (R0505), a second factor enrolled or replaced (``totp_enrolled``; a refused enrolment
    is ``totp_failed`` with L0501/L0502). ``username`` is what was typed (the account may not exist); ``ip`` the
    client address; ``path`` the page or endpoint; ``code`` the check code when there is one."""

    class Kind(models.TextChoices):
        LOGIN_FAILED = "login_failed", "登录失败 failed sign-in"
        LOCKED_OUT = "locked_out", "账户或地址被锁定 locked out"
        TOTP_FAILED = "totp_failed", "动态口令错误 wrong TOTP code"
        PERMISSION_REFUSED = "permission_refused", "权限拒绝 permission refused"
        PASSWORD_CHANGED = "password_changed", "密码已修改 password changed"
        TOTP_ENROLLED = "totp_enrolled", "动态口令设备已绑定 second factor enrolled"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    code = models.CharField(max_length=8, blank=True)
    username = models.CharField(max_length=150, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ip = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]


class Notification(models.Model):
    """A notice to an organisation's users (:mod:`cets.parties.notifications`): every movement of a holder's
    units (the registry's ledger), and whatever another context has to tell an organisation. ``user`` names
    one user of the organisation, or null for all of them; ``kind`` says what it is about (e.g. ``ledger``,
    ``trusted_account``, ``delayed_transfer``); title and body in Chinese and English; ``link`` a path in the
    platform. ``read_at`` is set when a user of the organisation marks it read; ``emailed_at`` when the
    e-mail to the organisation's active users with an address has been handed to the mail backend."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="notifications", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=32)
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    body_zh = models.TextField(blank=True)
    body_en = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(db_index=False)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "read_at"], name="notification_org_unread")]
