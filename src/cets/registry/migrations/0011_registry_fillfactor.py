"""PostgreSQL: leave a fifth of each page of the accounts and holdings free (``fillfactor = 80``), so that the updates
the ledger makes to every row it touches — an account's head (``head_hash``, ``head_seq``), a holding's quantity, none of
them indexed — are heap-only (HOT): the new row version goes on the same page and no index is written. A national
year's issuance updates 5,500 accounts and holdings per stage (bench/allocation_national.py, issue 19). Pages filled
from now on keep the space (existing pages as they are until rewritten). A no-op on SQLite."""

from django.db import migrations

from cets.core.migration_ops import PostgresOnlySQL

TABLES = ("registry_account", "registry_holding")


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0010_registry_ledger_post_notices'),
    ]

    operations = [
        PostgresOnlySQL(
            [f"ALTER TABLE {t} SET (fillfactor = 80)" for t in TABLES],
            [f"ALTER TABLE {t} RESET (fillfactor)" for t in TABLES],
        ),
    ]
