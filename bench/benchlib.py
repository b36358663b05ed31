"""What every bench shares: the machine's facts, where its JSON goes, its last line, and how it says it is skipped.

The contract `bench/run_all.py` (``make bench``) reads:

- the last line a bench prints is either ``ratio: <number> (aim ≥ <number>)`` (higher is always better) or
  ``skipped: <reason>`` (a prerequisite is missing: no PostgreSQL, no pgbench, no peer; exit code ``SKIP``);
- its JSON (``results_path(name, quick)``) has a ``summary`` (``summary()`` below) and a ``machine`` (``machine_facts()``).

Quick runs (``--quick``, ``BENCH_QUICK=1``) write under ``bench/results/quick/`` so that they never overwrite the
figures of a full run, which bench/README.md quotes.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
SKIP = 77  # exit code of a skipped bench (the automake convention)
HOST, PORT, USER, PASSWORD = "127.0.0.1", 5432, "cets", "cets"


def pg_url(dbname: str = "postgres") -> str:
    return f"postgresql://{USER}:{PASSWORD}@{HOST}:{PORT}/{dbname}"


def quick_from_env() -> bool:
    return os.environ.get("BENCH_QUICK", "").strip().lower() not in ("", "0", "no", "false")


def results_path(name: str, quick: bool) -> Path:
    return (RESULTS / "quick" if quick else RESULTS) / f"{name}.json"


def find_pgbench() -> str | None:
    """$PGBENCH if set (None if it names no file), else pgbench on the PATH, else the newest one of Debian's PostgreSQL
    packages (/usr/lib/postgresql/N/bin)."""
    if "PGBENCH" in os.environ:
        return os.environ["PGBENCH"] if os.path.isfile(os.environ["PGBENCH"]) else None
    found = shutil.which("pgbench")
    if found:
        return found
    cands = glob.glob("/usr/lib/postgresql/*/bin/pgbench")
    cands.sort(key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return cands[-1] if cands else None


def pg_unreachable(dbname: str = "postgres") -> str | None:
    """None if PostgreSQL at 127.0.0.1:5432 (role cets) accepts a connection, else the reason."""
    try:
        import psycopg

        with psycopg.connect(pg_url(dbname), connect_timeout=5) as c:
            c.execute("SELECT 1")
        return None
    except Exception as e:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {HOST}:{PORT} as {USER} ({type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''})"


def skip(reason: str) -> None:
    """Say why the bench cannot run here, as its last line, and exit with ``SKIP``."""
    print(f"skipped: {reason}", flush=True)
    raise SystemExit(SKIP)


def machine_facts(dbname: str | None = None) -> dict:
    """nproc, load average, Python, PostgreSQL and pgbench versions, date. Missing pieces are None, never an error."""
    facts: dict = {
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "nproc_available": len(os.sched_getaffinity(0)),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "pg_server_version": None,
        "pgbench": None,
    }
    try:
        import psycopg

        with psycopg.connect(pg_url(dbname or "postgres"), autocommit=True, connect_timeout=5) as c:
            for name in ("server_version", "synchronous_commit", "fsync", "wal_sync_method", "shared_buffers", "max_connections"):
                facts[f"pg_{name}"] = c.execute(f"SHOW {name}").fetchone()[0]
    except Exception as e:  # noqa: BLE001 - a bench without PostgreSQL still records the rest
        facts["pg_unreachable"] = f"{type(e).__name__}"
    pgb = find_pgbench()
    if pgb:
        out = subprocess.run([pgb, "--version"], capture_output=True, text=True)
        facts["pgbench"] = out.stdout.strip() or None
    return facts


def summary(*, ours: float | None, ours_unit: str, baseline: float | None, baseline_label: str, ratio: float | None, aim: float,
            ratio_means: str, note: str = "") -> dict:
    """The part of a bench's JSON that ``make bench`` puts in its table. ``ratio`` is higher-is-better."""
    return {"ours": ours, "ours_unit": ours_unit, "baseline": baseline, "baseline_label": baseline_label, "ratio": ratio, "aim": aim,
            "met": None if ratio is None else ratio >= aim, "ratio_means": ratio_means, "note": note}


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    try:
        shown = path.relative_to(REPO)
    except ValueError:
        shown = path
    print(f"wrote {shown}", file=sys.stderr)


def ratio_line(ratio: float, aim: float) -> None:
    """The bench's last line."""
    print(f"ratio: {ratio:.3f} (aim ≥ {aim:g})", flush=True)
