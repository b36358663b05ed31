"""A subject's day marks found by an index (issue 19): whether its day is open (``orders._require_day_open``, every
queued entry once a second and every direct one) and whether it may open (``day_open``) read the subject's last
open or close; without an index PostgreSQL read the market's log back from its end to the day's open — 6.5 ms a
read at 27,000 orders of one day (``pg_stat_statements`` during ``bench/trading_e2e.py``), growing with the day.
A partial index over the open and close commands only: a few rows a day, and no order's update touches it."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('trading', '0007_trading_applied_notify'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('kind__in', ['open_day', 'close_day'])), fields=['market', 'instrument', 'seq'], name='order_day_marks'),
        ),
    ]
