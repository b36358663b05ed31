#!/usr/bin/env bash
# Start the machine's PostgreSQL 15 cluster (if installed) and make sure the test role exists:
# role `cets` (password `cets`, CREATEDB) and database `cets`. Safe to run again. Needs root or the
# postgres user for the role step; otherwise it does nothing and the tests say PostgreSQL is missing.
set -u
if command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster 15 main start 2>/dev/null || true
fi
if [ "$(id -u)" = "0" ] && id postgres >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; then
  for i in 1 2 3 4 5 6 7 8 9 10; do
    su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
    sleep 1
  done
  su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='cets'\"" 2>/dev/null | grep -q 1 || \
    su postgres -c "psql -qc \"create role cets login password 'cets' createdb\"" >/dev/null 2>&1
  su postgres -c "psql -qtAc \"select 1 from pg_database where datname='cets'\"" 2>/dev/null | grep -q 1 || \
    su postgres -c "createdb -O cets cets" >/dev/null 2>&1
fi
exit 0
