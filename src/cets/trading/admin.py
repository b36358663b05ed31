from django.contrib import admin

from cets.core.admin import ReadOnlyAdmin

from .models import DailyQuote, DailyStat, FundAccount, FundEntry, Order, Trade


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("seq", "market", "kind", "trading_day", "instrument", "method", "side", "price_fen", "quantity_t", "participant", "status",
                    "reject_code")
    list_filter = ("market", "kind", "method", "status")
    search_fields = ("key", "participant__name", "participant__uscc")


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ("seq", "trading_day", "instrument", "method", "price_fen", "quantity_t", "amount_fen", "buyer", "seller")
    list_filter = ("market", "method", "instrument")


@admin.register(FundAccount)
class FundAccountAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "holder", "available_fen", "frozen_fen")
    list_filter = ("market", "kind")


@admin.register(FundEntry)
class FundEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "kind", "debit_account", "debit_bucket", "credit_account", "credit_bucket", "amount_fen", "recorded_at")
    list_filter = ("kind",)


@admin.register(DailyQuote)
class DailyQuoteAdmin(ReadOnlyAdmin):
    list_display = ("date", "market", "instrument", "open_fen", "high_fen", "low_fen", "close_fen", "volume_t", "amount_fen")
    list_filter = ("market", "instrument")


@admin.register(DailyStat)
class DailyStatAdmin(ReadOnlyAdmin):
    list_display = ("date", "market", "instrument", "method", "volume_t", "amount_fen", "ytd_volume_t", "cum_volume_t")
    list_filter = ("market", "instrument", "method")
