"""The applied position pushed to waiting clients (issue 19): on PostgreSQL a trigger on ``trading_marketstate``
notifies channel ``cets_applied`` with ``"<market> <applied_seq>"`` whenever the sequencer moves a market's applied
position. A notification is delivered when the transaction that moved it commits — after the batch it applied is
durable — so a client woken by it (:func:`cets.trading.services.notify.wait_applied`) reads its command's result
from a committed row; nothing polls. SQLite keeps the portable wait (a read every 10 ms)."""

from django.db import migrations

from cets.core.migration_ops import PostgresOnlySQL

FORWARD = r"""
CREATE OR REPLACE FUNCTION cets_applied_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cets_applied', NEW.market || ' ' || NEW.applied_seq);
    RETURN NULL;
END
$$;
CREATE TRIGGER trading_marketstate_applied AFTER UPDATE OF applied_seq ON trading_marketstate
    FOR EACH ROW WHEN (NEW.applied_seq IS DISTINCT FROM OLD.applied_seq) EXECUTE FUNCTION cets_applied_notify();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS trading_marketstate_applied ON trading_marketstate;
DROP FUNCTION IF EXISTS cets_applied_notify();
"""


class Migration(migrations.Migration):

    dependencies = [
        ("trading", "0006_trading_order_queued"),
    ]

    operations = [
        PostgresOnlySQL(FORWARD, BACKWARD),
    ]
