from django.contrib import admin

from cets.core.admin import ReadOnlyAdmin

from .models import EntityAllocation, UnitAllocation


@admin.register(EntityAllocation)
class EntityAllocationAdmin(ReadOnlyAdmin):
    list_display = ("entity", "year", "verified_emissions_t", "pre_allocation_t", "final_allocation_t", "issue_delta_t", "stage")
    list_filter = ("year", "stage")
    search_fields = ("entity__name", "entity__uscc")


@admin.register(UnitAllocation)
class UnitAllocationAdmin(ReadOnlyAdmin):
    list_display = ("unit", "year", "category", "ff", "unit_allowance_t", "pre_allocation_t")
    list_filter = ("year", "category")
