"""Trading: market data (end-of-day statistics), and — below — the command log, orders, trades and funds.

Prices are fen per tonne (int), quantities tonnes (int), amounts fen (int). Trade methods follow the
exchange's codes: ``listing`` 挂牌协议 (10), ``block`` 大宗协议 (20), ``auction`` 单向竞价 (21),
``continuous`` (pilot markets' price-time matching).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from cets.rules.markets import PRIMARY_MARKET


class Method(models.TextChoices):
    LISTING = "listing", "挂牌协议 listing agreement"
    BLOCK = "block", "大宗协议 block agreement"
    AUCTION = "auction", "单向竞价 one-way auction"
    CONTINUOUS = "continuous", "连续竞价 continuous matching"


class DailyStat(models.Model):
    """End-of-day figures of one instrument and trade method on one trading day, as the exchange
    publishes them (全国碳排放权交易信息发布: 成交量, 成交额, 年度累计, 总累计).

    ``volume_t`` tonnes (int), ``amount_fen`` fen (int); ``ytd_*`` from the first trading day of the
    calendar year, ``cum_*`` from the market's opening. Written only by ``trading.services.day_close``.
    """

    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    date = models.DateField()
    instrument = models.CharField(max_length=80, help_text="subject code: CEA, CEA21 … CEA25, BEA, CCER-<project>-<vintage>")
    method = models.CharField(max_length=12, choices=Method.choices)
    volume_t = models.BigIntegerField()
    amount_fen = models.BigIntegerField()
    trades = models.IntegerField(default=0)
    ytd_volume_t = models.BigIntegerField()
    ytd_amount_fen = models.BigIntegerField()
    cum_volume_t = models.BigIntegerField()
    cum_amount_fen = models.BigIntegerField()

    class Meta:
        ordering = ["market", "date", "instrument", "method"]
        constraints = [
            models.UniqueConstraint(fields=["market", "date", "instrument", "method"], name="daily_stat_unique"),
            models.CheckConstraint(condition=Q(volume_t__gte=0) & Q(amount_fen__gte=0), name="daily_stat_nonneg"),
        ]


class DailyQuote(models.Model):
    """The day's quote of one instrument: open/high/low from listing trades, close = volume-weighted
    average of the day's listing trades rounded half-up to the fen, or the previous close when there
    were none (national trading rules, reference §3.1). All prices fen per tonne (int); on a day without
    listing trades open = close = the previous close and ``high``/``low`` are 0, as the exchange
    publishes them."""

    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    date = models.DateField()
    instrument = models.CharField(max_length=80)
    open_fen = models.BigIntegerField()
    high_fen = models.BigIntegerField()
    low_fen = models.BigIntegerField()
    close_fen = models.BigIntegerField()
    prev_close_fen = models.BigIntegerField(null=True, blank=True)
    volume_t = models.BigIntegerField(help_text="listing-agreement volume")
    amount_fen = models.BigIntegerField(help_text="listing-agreement amount")

    class Meta:
        ordering = ["market", "date", "instrument"]
        constraints = [models.UniqueConstraint(fields=["market", "date", "instrument"], name="daily_quote_unique")]


class Side(models.TextChoices):
    BUY = "B", "买入 buy"
    SELL = "S", "卖出 sell"


class FundAccount(models.Model):
    """A participant's settlement funds (资金账户) in fen: ``available_fen`` and ``frozen_fen`` (held for
    open buy orders), both ≥ 0. System accounts: ``bank`` mirrors money held at the settlement bank
    (deposits and withdrawals; its balance is minus the sum of all others), ``fees`` the exchange's fee
    income, ``treasury`` proceeds of paid allocation. Balances change only through ``FundEntry`` rows
    written by ``trading.services.funds``; Σ over all accounts of (available + frozen) is always 0."""

    class Kind(models.TextChoices):
        PARTICIPANT = "participant", "交易参与人 participant"
        BANK = "bank", "结算银行 settlement bank"
        FEES = "fees", "手续费收入 fee income"
        TREASURY = "treasury", "国库 treasury (paid allocation)"

    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    number = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    holder = models.ForeignKey("parties.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="fund_accounts")
    available_fen = models.BigIntegerField(default=0)
    frozen_fen = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["market", "holder"], name="fund_account_one_per_holder"),
            models.CheckConstraint(condition=Q(kind="bank") | (Q(available_fen__gte=0) & Q(frozen_fen__gte=0)), name="fund_account_nonneg"),
        ]

    def __str__(self) -> str:
        return self.number


class FundEntry(models.Model):
    """One immutable double entry in the fund ledger: ``amount_fen`` (int, > 0) leaves the debit
    bucket and enters the credit bucket (``available`` / ``frozen``). ``key`` is the idempotency key."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "入金 deposit"
        WITHDRAWAL = "withdrawal", "出金 withdrawal"
        FREEZE = "freeze", "冻结 freeze"
        RELEASE = "release", "解冻 release"
        SETTLE = "settle", "交收 settlement"
        FEE = "fee", "手续费 fee"

    seq = models.BigAutoField(primary_key=True)
    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    debit_account = models.ForeignKey(FundAccount, on_delete=models.PROTECT, related_name="+")
    debit_bucket = models.CharField(max_length=10)
    credit_account = models.ForeignKey(FundAccount, on_delete=models.PROTECT, related_name="+")
    credit_bucket = models.CharField(max_length=10)
    amount_fen = models.BigIntegerField()
    reference = models.CharField(max_length=200, blank=True)
    trade = models.ForeignKey("Trade", null=True, blank=True, on_delete=models.PROTECT, related_name="fund_entries")
    order = models.ForeignKey("Order", null=True, blank=True, on_delete=models.PROTECT, related_name="fund_entries")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="fund_entry_positive")]


class MarketState(models.Model):
    """The sequencer's position in one market's command log: every ``Order`` with ``seq`` ≤
    ``applied_seq`` has been applied to the book and its events written. The row is the sequencer's
    lock (SELECT … FOR UPDATE): one sequencer applies a market's commands at a time."""

    market = models.CharField(max_length=16, primary_key=True)
    applied_seq = models.BigIntegerField(default=0)


class Order(models.Model):
    """The command log of the exchange (委托): every command is written here *before* it is
    acknowledged, with the funds or units frozen for it; the sequencer applies the log in ``seq``
    order to the in-memory book (``trading.book``) and records the outcome on the same row.

    ``kind``: open_day / place / take / cancel / close_day. For ``take`` and ``cancel``, ``target`` is
    the quote or order acted on. ``price_fen`` fen per tonne, ``quantity_t`` tonnes; ``frozen_fen`` and
    ``frozen_t`` what is still held for the order (released when it is done)."""

    class Kind(models.TextChoices):
        OPEN_DAY = "open_day", "开市 open day"
        PLACE = "place", "申报 place"
        TAKE = "take", "摘牌/确认 take"
        CANCEL = "cancel", "撤单 cancel"
        CLOSE_DAY = "close_day", "闭市 close day"
        AUCTION_OFFER = "offer", "竞价发起 auction offer"
        AUCTION_BID = "bid", "竞买申报 auction bid"
        AUCTION_CLEAR = "clear", "竞价出清 auction clearing"

    class Status(models.TextChoices):
        RECEIVED = "received", "已接收 received"
        RESTING = "resting", "挂单中 resting"
        FILLED = "filled", "全部成交 filled"
        CANCELLED = "cancelled", "已撤销 cancelled"
        EXPIRED = "expired", "已过期 expired"
        REJECTED = "rejected", "已拒绝 rejected"
        DONE = "done", "已处理 done"

    seq = models.BigAutoField(primary_key=True)
    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    trading_day = models.DateField()
    instrument = models.CharField(max_length=80, blank=True)
    method = models.CharField(max_length=12, choices=Method.choices, blank=True)
    side = models.CharField(max_length=1, choices=Side.choices, blank=True)
    price_fen = models.BigIntegerField(default=0)
    quantity_t = models.BigIntegerField(default=0)
    participant = models.ForeignKey("parties.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    counterparty = models.ForeignKey("parties.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("registry.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                help_text="the registry account whose units the order sells or receives")
    terms = models.JSONField(default=dict, blank=True, help_text="auction terms: pricing, min_bid_t, max_bid_t")
    actor = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    filled_t = models.BigIntegerField(default=0)
    filled_amount_fen = models.BigIntegerField(default=0)
    remaining_t = models.BigIntegerField(default=0)
    frozen_fen = models.BigIntegerField(default=0)
    frozen_t = models.BigIntegerField(default=0)
    reject_code = models.CharField(max_length=8, blank=True)
    reject_detail = models.CharField(max_length=300, blank=True)
    voided = models.BooleanField(default=False, help_text="settlement refused it after entry; the book skips it on replay")
    queued = models.BooleanField(default=False, help_text="appended by the group-commit entry (order_place_queued / order_take_queued) without "
                                 "its freeze: the sequencer's batch checks and freezes it (issue 19)")

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["market", "status"], name="order_market_status"),
            models.Index(fields=["participant", "trading_day"], name="order_participant_day"),
            # a subject's last open or close (is its day open? may it open?) found at once, not by reading the day's log back
            models.Index(fields=["market", "instrument", "seq"], condition=Q(kind__in=["open_day", "close_day"]), name="order_day_marks"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(frozen_fen__gte=0) & Q(frozen_t__gte=0) & Q(filled_t__gte=0) & Q(remaining_t__gte=0),
                                   name="order_nonneg"),
        ]


class Trade(models.Model):
    """One trade (成交), settled by itself, delivery versus payment (逐笔全额, 货银对付): the units move
    in the registry and the funds in the fund ledger in the same transaction as this row.
    ``amount_fen`` = ``price_fen`` × ``quantity_t``; fees per side from the pack."""

    seq = models.BigAutoField(primary_key=True)
    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    trading_day = models.DateField()
    instrument = models.CharField(max_length=80)
    method = models.CharField(max_length=12, choices=Method.choices)
    price_fen = models.BigIntegerField()
    quantity_t = models.BigIntegerField()
    amount_fen = models.BigIntegerField()
    buy_order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="buys")
    sell_order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="sells")
    buyer = models.ForeignKey("parties.Organisation", on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey("parties.Organisation", on_delete=models.PROTECT, related_name="+")
    buyer_fee_fen = models.BigIntegerField(default=0)
    seller_fee_fen = models.BigIntegerField(default=0)
    executed_at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["market", "trading_day", "instrument"], name="trade_day_instrument"),
            models.Index(fields=["buyer", "trading_day"], name="trade_buyer_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen=models.F("price_fen") * models.F("quantity_t")), name="trade_amount"),
            models.CheckConstraint(condition=Q(quantity_t__gt=0) & Q(price_fen__gt=0), name="trade_positive"),
        ]


class ExchangeMember(models.Model):
    """A member or service institution of the exchange in one market (draft Measures Art. 19: the exchange "可设立
    服务机构和会员制服务交易市场活动"). ``kind`` is one of the trading pack's ``[members] kinds``; the kinds in
    ``acts_for_clients`` may enter orders for their clients (:class:`MemberClient`). A suspended member's clients
    cannot enter orders (T0502; Measures Art. 47 (七) "责令停止会员资格"); their registry accounts are not touched (no
    text in the shared references says a member's suspension changes its clients' account status)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "正常 active"
        SUSPENDED = "suspended", "暂停 suspended"

    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    organisation = models.ForeignKey("parties.Organisation", on_delete=models.PROTECT, related_name="exchange_memberships")
    kind = models.CharField(max_length=24)
    code = models.CharField("会员编号 member code", max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True)
    admitted_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["market", "code"]
        constraints = [
            models.UniqueConstraint(fields=["market", "organisation"], name="one_membership_per_market"),
            models.UniqueConstraint(fields=["market", "code"], name="member_code_unique"),
        ]


class MemberClient(models.Model):
    """A participant a member acts for (代理客户): one member per participant and market."""

    member = models.ForeignKey(ExchangeMember, on_delete=models.PROTECT, related_name="clients")
    market = models.CharField(max_length=16, default=PRIMARY_MARKET)
    participant = models.ForeignKey("parties.Organisation", on_delete=models.PROTECT, related_name="exchange_member_links")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["market", "participant"], name="one_member_per_participant")]
