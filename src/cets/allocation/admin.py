from django.contrib import admin

from cets.core.admin import ReadOnlyAdmin

from .models import AllocationAdjustment, AllocationObjection, DynamicAdjustment, EntityAllocation, SpecialTreatment, UnitAllocation


@admin.register(EntityAllocation)
class EntityAllocationAdmin(ReadOnlyAdmin):
    list_display = ("entity", "year", "verified_emissions_t", "pre_allocation_t", "final_allocation_t", "issue_delta_t", "stage")
    list_filter = ("year", "stage")
    search_fields = ("entity__name", "entity__uscc")


@admin.register(UnitAllocation)
class UnitAllocationAdmin(ReadOnlyAdmin):
    list_display = ("unit", "year", "category", "ff", "unit_allowance_t", "pre_allocation_t")
    list_filter = ("year", "category")


@admin.register(DynamicAdjustment)
class DynamicAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ("entity", "year", "source", "redetermined_on", "deadline", "recorded_on", "delta_t", "status")
    list_filter = ("year", "status")


@admin.register(AllocationObjection)
class AllocationObjectionAdmin(ReadOnlyAdmin):
    list_display = ("entity", "year", "stage", "filed_on", "decide_by", "decision", "decided_on")
    list_filter = ("year", "decision")


@admin.register(AllocationAdjustment)
class AllocationAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ("entity", "year", "kind", "quantity_t", "source", "decided_at", "voided_at")
    list_filter = ("year", "kind")


@admin.register(SpecialTreatment)
class SpecialTreatmentAdmin(ReadOnlyAdmin):
    list_display = ("entity", "year", "kind", "decided_at", "voided_at")
    list_filter = ("year", "kind")
