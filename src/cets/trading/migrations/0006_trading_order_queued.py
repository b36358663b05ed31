from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('trading', '0005_trading_instrument_code'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='queued',
            field=models.BooleanField(default=False, help_text="appended by the group-commit entry (order_place_queued / order_take_queued) without "
                                      "its freeze: the sequencer's batch checks and freezes it (issue 19)"),
        ),
    ]
