"""The key-emitter list has one home, ``parties`` (issue 12): MRV's list records and publications are
copied into ``parties.EmitterListEntry`` / ``parties.EmitterListPublication`` and then dropped."""

from django.db import migrations


def copy_to_parties(apps, schema_editor):
    Record = apps.get_model("mrv", "EmitterListRecord")
    Publication = apps.get_model("mrv", "EmitterListPublication")
    Entry = apps.get_model("parties", "EmitterListEntry")
    NewPublication = apps.get_model("parties", "EmitterListPublication")
    for r in Record.objects.all().iterator():
        Entry.objects.update_or_create(
            market=r.market, year=r.year, sector=r.sector, entity_id=r.entity_id,
            defaults={"province": r.province, "included": r.included, "reason": r.reason, "basis_year": r.basis_year,
                      "basis_t": r.basis_t, "city": r.city, "source": r.source})
    for p in Publication.objects.all().iterator():
        NewPublication.objects.get_or_create(
            market=p.market, year=p.year, sector=p.sector, province=p.province,
            defaults={"deadline": p.deadline, "published_on": p.published_on, "published_by_id": p.published_by_id, "entries": p.entries})


class Migration(migrations.Migration):

    dependencies = [
        ("mrv", "0005_plans_monthly_reports"),
        ("parties", "0002_emitter_list_home"),
    ]

    operations = [
        migrations.RunPython(copy_to_parties, migrations.RunPython.noop),
        migrations.DeleteModel(name="EmitterListPublication"),
        migrations.DeleteModel(name="EmitterListRecord"),
    ]
