"""Trading: market data (end-of-day statistics), and — below — the command log, orders, trades and funds.

Prices are fen per tonne (int), quantities tonnes (int), amounts fen (int). Trade methods follow the
exchange's codes: ``listing`` 挂牌协议 (10), ``block`` 大宗协议 (20), ``auction`` 单向竞价 (21),
``continuous`` (pilot markets' price-time matching).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


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

    market = models.CharField(max_length=16, default="national")
    date = models.DateField()
    instrument = models.CharField(max_length=16, help_text="subject code: CEA, CEA21 … CEA25, BEA")
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
    were none (national trading rules, reference §3.1). All prices fen per tonne (int); ``open``/``high``/
    ``low`` are 0 on a day without listing trades, as the exchange publishes them."""

    market = models.CharField(max_length=16, default="national")
    date = models.DateField()
    instrument = models.CharField(max_length=16)
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
