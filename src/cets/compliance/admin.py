from django.contrib import admin

from cets.core.admin import ReadOnlyAdmin

from .models import Borrowing, ComplianceCertificate, ComplianceNotice, Obligation, PenaltyDecision, RectificationOrder, ReliefApplication, SurrenderApplication


@admin.register(Obligation)
class ObligationAdmin(ReadOnlyAdmin):
    list_display = ("entity", "year", "obligation_t", "offset_cap_t", "deadline")
    list_filter = ("year",)
    search_fields = ("entity__name", "entity__uscc")


@admin.register(SurrenderApplication)
class SurrenderApplicationAdmin(ReadOnlyAdmin):
    list_display = ("key", "obligation", "unit_type", "quantity", "status", "decided_at")
    list_filter = ("status",)


@admin.register(RectificationOrder)
class RectificationOrderAdmin(ReadOnlyAdmin):
    list_display = ("reference", "obligation", "deadline", "unsurrendered_t", "authority", "issued_at")


@admin.register(PenaltyDecision)
class PenaltyDecisionAdmin(ReadOnlyAdmin):
    list_display = ("reference", "obligation", "basis", "unsurrendered_t", "price_fen", "multiple", "fine_fen", "authority", "published_at")
    list_filter = ("basis",)


@admin.register(ComplianceNotice)
class ComplianceNoticeAdmin(ReadOnlyAdmin):
    list_display = ("number", "obligation_t", "offset_cap_t", "deadline", "delivered_to", "issued_at", "forwarded_at")
    list_filter = ("delivered_to",)


@admin.register(ComplianceCertificate)
class ComplianceCertificateAdmin(ReadOnlyAdmin):
    list_display = ("number", "outcome", "surrendered_t", "issued_at")


@admin.register(Borrowing)
class BorrowingAdmin(ReadOnlyAdmin):
    list_display = ("entity", "year", "from_vintage", "gap_t", "limit_t", "quantity_t", "submitted_at")


@admin.register(ReliefApplication)
class ReliefApplicationAdmin(ReadOnlyAdmin):
    list_display = ("obligation", "effect", "status", "new_deadline", "quantity_t", "decided_at")
    list_filter = ("status", "effect")
