"""PostgreSQL: leave half of each page of the accounts and holdings free (``fillfactor = 50``, was 80 in 0011). An
issuance stage updates every account's head and every holding once (bench/allocation_national.py: 5,500 of each per
stage); for those updates to be heap-only (HOT: the new row version on the same page, no index written — an account
row has nine indexes) each page needs room for a new version of every row on it, and a head's first update makes the
row longer (an empty ``head_hash`` becomes 64 characters). With a fifth free, measured: 3,126 of 11,003 account
updates and 1,431 of 5,502 holding updates were HOT; the rest wrote every index. The versions an update leaves are
pruned on the page's next visit, so the room is there for the next stage. The tables are small (one row per account,
per unit type and position held). Pages filled from now on keep the space. A no-op on SQLite."""

from django.db import migrations

from cets.core.migration_ops import PostgresOnlySQL

TABLES = ("registry_account", "registry_holding")


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0012_registry_post_one_key_on_need'),
    ]

    operations = [
        PostgresOnlySQL(
            [f"ALTER TABLE {t} SET (fillfactor = 50)" for t in TABLES],
            [f"ALTER TABLE {t} SET (fillfactor = 80)" for t in TABLES],
        ),
    ]
