"""PostgreSQL: leave half of each page of the entity allocations free (``fillfactor = 50``, was 80 in 0008). Each
update of an issuance touches every row of its scope once per step (proposed, confirmed: a national year's 5,500 rows,
four times a year); a heap-only (HOT) update needs room on the page for a new version of the row, and with a fifth free
half of them were not (11,284 of 22,000 measured, bench/allocation_national.py, issue 19). The versions an update
leaves are pruned on the page's next visit. Pages filled from now on keep the space. A no-op on SQLite."""

from django.db import migrations

from cets.core.migration_ops import PostgresOnlySQL


class Migration(migrations.Migration):

    dependencies = [
        ('allocation', '0008_allocation_fillfactor'),
    ]

    operations = [
        PostgresOnlySQL("ALTER TABLE allocation_entityallocation SET (fillfactor = 50)",
                        "ALTER TABLE allocation_entityallocation SET (fillfactor = 80)"),
    ]
