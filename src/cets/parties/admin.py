from django.contrib import admin

from cets.core.admin import ReadOnlyAdmin

from .models import EmitterListEntry, GeneratingUnit, ImportBatch, Membership, Organisation


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    """A person's identity number is never shown here either: only ``identifier`` (masked); it is set when the
    registry approves an account application (:mod:`cets.registry.services.applications`)."""

    list_display = ("name", "identifier", "kind", "province")
    list_filter = ("kind", "province")
    search_fields = ("name", "uscc")
    exclude = ("resident_id",)
    readonly_fields = ("identifier",)


@admin.register(GeneratingUnit)
class GeneratingUnitAdmin(admin.ModelAdmin):
    list_display = ("entity", "code", "category", "rated_capacity_mw", "source")
    list_filter = ("category", "source")
    search_fields = ("entity__name", "entity__uscc")
    raw_id_fields = ("entity",)


@admin.register(EmitterListEntry)
class EmitterListEntryAdmin(admin.ModelAdmin):
    list_display = ("year", "sector", "entity", "province")
    list_filter = ("year", "sector", "province")
    raw_id_fields = ("entity",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "organisation", "province")
    list_filter = ("role", "province")
    raw_id_fields = ("organisation", "user")


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "file_name", "sha256")
