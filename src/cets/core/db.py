"""Statements prepared on the PostgreSQL server, for the hot paths that write (the ledger's one call, the exchange's
appends): the server parses and plans the statement once per connection, and the client sends only the parameters.

Django opens psycopg connections with ``prepare_threshold=None``, under which psycopg prepares nothing, not even a
statement executed with ``prepare=True``; :func:`prepared_cursor` sets a threshold no statement reaches on the
connection (Django's own cursors bind on the client and never prepare), so only what asks for it is prepared.
"""

from __future__ import annotations

from contextlib import contextmanager

NEVER = 2**31 - 1  # a prepare threshold no statement reaches: only ``prepare=True`` prepares


@contextmanager
def prepared_cursor(conn):
    """A psycopg cursor on ``conn`` (a Django PostgreSQL connection, opened here if needed) whose
    ``execute(sql, params, prepare=True)`` is prepared once per connection; database errors come out as Django's
    (``conn.wrap_database_errors``)."""
    import psycopg

    conn.ensure_connection()
    raw = conn.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = NEVER
    with conn.wrap_database_errors, psycopg.Cursor(raw) as cur:
        yield cur
