from django.contrib import admin

from cets.core.admin import ReadOnlyAdmin

from .models import UnitYearData, VerificationRecord


@admin.register(UnitYearData)
class UnitYearDataAdmin(ReadOnlyAdmin):
    list_display = ("unit", "year", "generation_mwh", "heat_supplied_gj", "load_factor", "verified_emissions_t", "source")
    list_filter = ("year", "source")


@admin.register(VerificationRecord)
class VerificationRecordAdmin(ReadOnlyAdmin):
    list_display = ("year", "sector", "entity", "verifier", "on_time", "conforming")
    list_filter = ("year", "sector", "conforming", "on_time")
    search_fields = ("entity__name", "entity__uscc")


from .models import ReportPreparer, VerificationAssignment, VerifierEvaluation  # noqa: E402


@admin.register(VerificationAssignment)
class VerificationAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("year", "kind", "market", "entity", "body", "completed_on", "notify_by", "notified_on", "conforming", "flagged")
    list_filter = ("year", "kind", "market", "conforming")


@admin.register(ReportPreparer)
class ReportPreparerAdmin(ReadOnlyAdmin):
    list_display = ("year", "entity", "body")


@admin.register(VerifierEvaluation)
class VerifierEvaluationAdmin(ReadOnlyAdmin):
    list_display = ("year", "province", "body", "verifications", "timeliness", "compliance", "quality", "flagged")
    list_filter = ("year", "province")
