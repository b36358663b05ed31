"""No single-column index on the unit, facility and entity of the allocation rows: each table's unique constraint starts
with that column (``unit_allocation_unique`` (unit, year), ``facility_allocation_unique`` (facility, year),
``entity_allocation_unique_sector`` (entity, market, sector, year)) and serves every look-up by it, including the
foreign keys' checks. One index less to write for each of a national year's 17,500 result rows (issue 19)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('allocation', '0009_allocation_fillfactor_half'),
        ('parties', '0013_parties_named_jurisdiction'),
    ]

    operations = [
        migrations.AlterField(
            model_name='entityallocation',
            name='entity',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='parties.organisation'),
        ),
        migrations.AlterField(
            model_name='facilityallocation',
            name='facility',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='parties.facility'),
        ),
        migrations.AlterField(
            model_name='unitallocation',
            name='unit',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='parties.generatingunit'),
        ),
    ]
