"""The journal's key unique by a named constraint (``transfer_key_unique``) instead of ``unique=True``: on PostgreSQL
``unique=True`` on a character column also builds a ``varchar_pattern_ops`` index for prefix ``LIKE``, which no read of
the journal uses (keys are looked up whole: retries, idempotency) and which every journal row written had to maintain —
a national issuance stage writes 5,500 (issue 19, bench/allocation_national.py). The constraint is added before the
field's own uniqueness is dropped, so the key is unique at every step. The same uniqueness on SQLite."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('parties', '0013_parties_named_jurisdiction'),
        ('registry', '0013_registry_fillfactor_half'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='transfer',
            constraint=models.UniqueConstraint(fields=('key',), name='transfer_key_unique'),
        ),
        migrations.AlterField(
            model_name='transfer',
            name='key',
            field=models.CharField(max_length=120),
        ),
    ]
