"""Run every bench and print one table: bench, ours, baseline, ratio, aim, met?  (``make bench``)

Each bench runs as its own subprocess (``sys.executable bench/<name>.py``); its output goes to a log file and its
last line is read: ``ratio: <number> (aim ≥ <number>)`` or ``skipped: <reason>`` (see ``benchlib.py``). Ours and the
baseline come from the ``summary`` of the JSON the bench wrote. A bench whose prerequisite is missing (no PostgreSQL,
no pgbench, no peer engine) is listed as skipped with its reason; one that fails is listed as failed with the last
line of its error, and the others still run.

``--quick`` (or ``BENCH_QUICK=1``) passes ``--quick`` to every bench: the smallest sizes and durations, a few seconds
each, to check that the tooling works. Quick figures are not comparable to full runs. The table is also written as
``bench/results/summary.json`` (quick: ``bench/results/quick/summary.json``).

Run:  make bench BENCH_QUICK=1        or   .venv/bin/python bench/run_all.py --quick [--only orderbook,mrv_compute]
Ratios are higher-is-better; exit 1 only if a bench failed (an aim not met is a figure, not a failure).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import REPO, SKIP, machine_facts, quick_from_env, results_path, write_json  # noqa: E402

# name, extra arguments (unique scratch database names, so that a run never drops another engineer's bench database)
BENCHES: list[tuple[str, list[str]]] = [
    ("orderbook", []),
    ("trading_e2e", ["--db", f"bench_trading_{os.getpid()}"]),
    ("registry_transfers", ["--database", f"bench_registry_{os.getpid()}"]),
    ("allocation_national", ["--database", f"bench_alloc_{os.getpid()}"]),
    ("mrv_compute", []),
    ("load_test", ["--database", f"bench_load_{os.getpid()}"]),
    ("ledger_scale", ["--database", f"bench_scale_{os.getpid()}"]),
]
RATIO = re.compile(r"^ratio:\s*(?P<ratio>[-+0-9.eE]+)\s*\(aim\s*≥\s*(?P<aim>[-+0-9.eE]+)\)\s*$")
SKIPPED = re.compile(r"^skipped:\s*(?P<reason>.*)$")


def fmt(x) -> str:
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def run_one(name: str, extra: list[str], quick: bool, timeout: float, logs: Path) -> dict:
    script = HERE / f"{name}.py"
    cmd = [sys.executable, str(script), *extra, *(["--quick"] if quick else [])]
    log = logs / f"{name}.log"
    row: dict = {"bench": name, "command": " ".join(cmd[1:]), "log": str(log.relative_to(REPO))}
    started = time.time()
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        out, err, rc = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        rc = None
    row["seconds"] = round(time.perf_counter() - t0, 1)
    row["exit"] = rc
    log.write_text(f"$ {' '.join(cmd)}\n--- stdout\n{out}\n--- stderr\n{err}\n--- exit {rc}\n", encoding="utf-8")
    last = last_line(out)
    if rc is None:
        return {**row, "status": "failed", "reason": f"timed out after {timeout:g} s"}
    if m := SKIPPED.match(last):
        return {**row, "status": "skipped", "reason": m["reason"]}
    m = RATIO.match(last)
    if not m:
        why = last_line(err) or last or "no output"
        return {**row, "status": "failed", "reason": f"exit {rc}: {why[:200]}"}
    row.update(status="ran", ratio=float(m["ratio"]), aim=float(m["aim"]))
    row["met"] = row["ratio"] >= row["aim"]
    row["reason"] = f"exit {rc}: a check failed (see the log)" if rc else ""
    path = results_path(name, quick)
    try:
        if path.stat().st_mtime >= started - 1:
            summ = json.loads(path.read_text(encoding="utf-8")).get("summary") or {}
            row.update({k: summ.get(k) for k in ("ours", "ours_unit", "baseline", "baseline_label", "ratio_means")})
            if summ.get("note"):
                row["reason"] = "; ".join(x for x in (row["reason"], summ["note"]) if x)
    except (OSError, ValueError):
        row["reason"] = "; ".join(x for x in (row["reason"], f"no fresh {path.name}") if x)
    return row


def print_table(rows: list[dict], quick: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=max(Console().width, 150))
    title = "benches — QUICK sizes (validation only, not comparable to full runs)" if quick else "benches — full sizes"
    t = Table(title=title, title_justify="left")
    for col, just in (("bench", "left"), ("ours", "right"), ("baseline", "right"), ("ratio", "right"), ("aim", "right"), ("met?", "center"),
                      ("s", "right"), ("note", "left")):
        t.add_column(col, justify=just, overflow="fold")
    for r in rows:
        if r["status"] == "ran":
            ours = f"{fmt(r.get('ours'))} {r.get('ours_unit') or ''}".strip()
            base = f"{fmt(r.get('baseline'))} {r.get('baseline_label') or ''}".strip()
            met = "[green]yes[/green]" if r["met"] else "[red]no[/red]"
            note = r.get("ratio_means") or ""
            if r.get("reason"):
                note = f"{r['reason']}; {note}" if note else r["reason"]
            t.add_row(r["bench"], escape(ours), escape(base), f"{r['ratio']:.3f}", f"≥ {r['aim']:g}", met, f"{r['seconds']:g}", escape(note))
        else:
            style = "yellow" if r["status"] == "skipped" else "red"
            t.add_row(r["bench"], "—", "—", "—", "—", f"[{style}]{r['status']}[/{style}]", f"{r['seconds']:g}",
                      escape(r["reason"] if r["status"] == "skipped" else f"{r['reason']} (log: {r['log']})"))
    console.print(t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", default=quick_from_env(), help="smallest sizes (also BENCH_QUICK=1)")
    ap.add_argument("--only", default="", help="comma-separated bench names (default: all)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per bench (default 300 quick, 3600 full)")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(names) - {n for n, _ in BENCHES}
    if unknown:
        ap.error(f"unknown bench(es): {', '.join(sorted(unknown))}; known: {', '.join(n for n, _ in BENCHES)}")
    timeout = args.timeout or (300 if args.quick else 3600)
    logs = (HERE / "results" / ("quick" if args.quick else "") / "logs").resolve()
    logs.mkdir(parents=True, exist_ok=True)
    facts = machine_facts()
    print(f"{'QUICK' if args.quick else 'full'} run on {facts['nproc']} CPUs, load average {facts['loadavg_at_start']}, "
          f"Python {facts['python']}, PostgreSQL {facts['pg_server_version'] or 'not reachable'}; logs in {logs.relative_to(REPO)}/", flush=True)
    rows = []
    for name, extra in BENCHES:
        if names and name not in names:
            continue
        print(f"… {name}", end="", flush=True)
        row = run_one(name, extra, args.quick, timeout, logs)
        shown = f"ratio {row['ratio']:.3f}" if row["status"] == "ran" else f"{row['status']}: {row['reason']}"
        print(f"  {row['seconds']:g} s  {shown}", flush=True)
        rows.append(row)
    print_table(rows, args.quick)
    write_json(results_path("summary", args.quick), {"quick": args.quick, "machine": facts, "benches": rows,
                                                     "skip_exit_code": SKIP})
    return 1 if any(r["status"] == "failed" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
