"""Exit 0 if the PostgreSQL at the URL given as argv[1] accepts a connection, else 1 (with the reason)."""

import sys

import psycopg

try:
    with psycopg.connect(sys.argv[1], connect_timeout=5) as conn:
        conn.execute("select 1")
except Exception as e:  # noqa: BLE001 - any failure means "not reachable"
    print(f"PostgreSQL not reachable: {e}", file=sys.stderr)
    sys.exit(1)
