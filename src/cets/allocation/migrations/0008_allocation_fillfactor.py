"""PostgreSQL: leave a fifth of each page of the entity allocations free (``fillfactor = 80``), so that the updates an
issuance makes to every row of its scope — ``proposal_key`` when proposed, ``stage``, ``issued_t`` when confirmed, none
of them indexed — are heap-only (HOT): no index is written (a national year: 5,500 rows, twice per stage;
bench/allocation_national.py, issue 19). A no-op on SQLite."""

from django.db import migrations

from cets.core.migration_ops import PostgresOnlySQL


class Migration(migrations.Migration):

    dependencies = [
        ('allocation', '0007_allocation_preissue'),
    ]

    operations = [
        PostgresOnlySQL("ALTER TABLE allocation_entityallocation SET (fillfactor = 80)", "ALTER TABLE allocation_entityallocation RESET (fillfactor)"),
    ]
