#!/usr/bin/env bash
# `make test`'s two suites side by side (the machine has two cores and each pytest uses one): SQLite in the
# background, its output kept in var/test-sqlite.log and printed after, PostgreSQL in the foreground. Each suite
# has its own CETS_VAR_DIR, so neither overwrites the other's files. Exits non-zero if either suite failed.
# CETS_TEST_SERIAL=1 runs them one after the other instead.
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
if [ "${CETS_TEST_SERIAL:-}" = "1" ]; then
  $MAKE --no-print-directory test-sqlite && $MAKE --no-print-directory test-postgres
  exit $?
fi
# the dev install once, before the two suites (two `make` runs installing at the same time break the virtualenv)
$MAKE --no-print-directory .venv/.installed-dev || exit 1
mkdir -p var
log=var/test-sqlite.log
start=$(date +%s)
CETS_VAR_DIR="$PWD/var/test-sqlite" $MAKE --no-print-directory test-sqlite >"$log" 2>&1 &
sqlite_pid=$!
CETS_VAR_DIR="$PWD/var/test-postgres" $MAKE --no-print-directory test-postgres
pg_rc=$?
wait "$sqlite_pid"
sqlite_rc=$?
echo
echo "== the SQLite suite's output (ran beside the PostgreSQL suite) =="
cat "$log"
echo "== make test: SQLite exit $sqlite_rc, PostgreSQL exit $pg_rc, $(( $(date +%s) - start )) s for both =="
[ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]
