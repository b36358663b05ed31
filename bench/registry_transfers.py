"""Registry transfer throughput on PostgreSQL, next to pgbench's TPC-B-like workload on the same server.

One invocation:
1. (re)creates a dedicated database (default ``cets_bench``; never ``cets`` or a ``test_*`` database);
2. runs ``pgbench -i -s SCALE`` and ``pgbench -c N -j N -T SECONDS`` on it and reads its tps;
3. migrates the cets schema into the same database, opens 200 entity accounts with a CEA vintage and an
   initial balance each, then runs N clients that call the real ``cets.registry.services.transfer_post``
   (TRANSFER, registry → registry, random pairs, small quantities, unique keys) for the same duration, and
   counts committed transfers. The clients are hosted as pgbench hosts its own (``-j N``: a thread per client in
   one process), each with its own connection; ``--processes P`` spreads them over P processes (spawn),
   ``--processes N`` gives each client its own process (the layout of the runs before 2026-12-05);
4. runs ``audit_verify()`` over the resulting journal;
5. prints both throughputs, the ratio ours/pgbench and machine facts, and writes them as JSON to
   ``bench/results/registry_transfers.json`` (``--quick``: ``bench/results/quick/``);
6. drops the database unless ``--keep``, and prints last ``ratio: <ours ÷ pgbench tps> (aim ≥ 0.5)``.

Without PostgreSQL or pgbench (on the PATH or in /usr/lib/postgresql/N/bin) it prints ``skipped: <reason>``.

``--profile`` additionally runs worker 0 under cProfile and times every statement and commit in all
workers, to say where a transfer's time goes.

Run:  .venv/bin/python bench/registry_transfers.py --clients 16 --seconds 20
      .venv/bin/python bench/registry_transfers.py --quick     (2 clients, 3 s, scale 1: validation only)
A benchmark, not a test: it asserts nothing about speed; it measures and reports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from benchlib import find_pgbench, machine_facts, pg_unreachable, ratio_line, results_path, skip, summary, write_json  # noqa: E402

AIM = 0.5  # issue 19: ours ≥ 0.5 × pgbench TPC-B tps at the same client count (issue 6 had asked 0.3)

HOST, PORT, USER, PASSWORD = "127.0.0.1", 5432, "cets", "cets"
ACCOUNTS, START_BALANCE, MAX_QTY = 200, 1_000_000, 10
REFUSED_DBS = {"cets", "postgres", "template0", "template1"}


def db_url(name: str) -> str:
    return f"postgresql://{USER}:{PASSWORD}@{HOST}:{PORT}/{name}"


def pg_env() -> dict[str, str]:
    return {**os.environ, "PGHOST": HOST, "PGPORT": str(PORT), "PGUSER": USER, "PGPASSWORD": PASSWORD}


def check_db_name(name: str) -> str:
    if name in REFUSED_DBS or name.startswith(("test_", "template")) or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing to use database {name!r} for a benchmark (it is dropped and recreated)")
    return name


# ---------------------------------------------------------------- machine facts

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat; idle, iowait and steal are not busy."""
    with open("/proc/stat") as fh:
        vals = [int(v) for v in fh.readline().split()[1:]]
    vals += [0] * (8 - len(vals))
    not_busy = vals[3] + vals[4] + vals[7]
    return sum(vals[:8]) - not_busy, sum(vals[:8])


def cpu_busy_since(start: tuple[int, int]) -> float:
    b0, t0 = start
    b1, t1 = cpu_times()
    return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0


class CpuSampler(threading.Thread):
    """Samples /proc every ``interval`` s and sums CPU time per category over a measured window:
    ``client`` (the given pids: pgbench or our worker processes), ``server`` (PostgreSQL backends
    connected to the bench database), ``pg_aux`` (wal writer, checkpointer, … of the cluster),
    ``harness`` (this script's own parent process) and ``other`` (everything else: other users of
    this machine and of the same cluster). The machine may be shared, so ``other`` says how much the
    measurement was disturbed. A process that exits loses at most its last interval."""

    def __init__(self, dbname: str, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.dbname, self.interval = dbname, interval
        self.client_pids: set[int] = set()
        self.first: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.kind: dict[int, str] = {}
        self.proc_names: dict[int, str] = {}
        self._halt = threading.Event()
        with open("/proc/uptime") as fh:
            self.t0_ticks = float(fh.read().split()[0]) * CLK_TCK
        self.busy0 = cpu_times()
        self._scan(initial=True)

    def _classify(self, pid: int) -> str:
        if pid in self.client_pids:
            return "client"
        if pid == os.getpid():
            return "harness"
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return "other"
        if cmd.startswith("postgres:"):
            if f" {self.dbname} " in cmd:
                return "server"
            if "(" in cmd or "[local]" in cmd:  # a backend of another database or user
                return "other"
            return "pg_aux"
        return "other"

    @staticmethod
    def _proc_name(pid: int) -> str:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                parts = [p.decode(errors="replace") for p in fh.read().split(b"\0") if p]
        except OSError:
            return "?"
        if not parts or not parts[0].strip():
            try:
                with open(f"/proc/{pid}/comm") as fh:
                    return f"[{fh.read().strip()}]"
            except OSError:
                return "?"
        if parts[0].startswith("postgres:"):
            return " ".join(parts[0].split()[:4])  # postgres: 15/main: user database
        words = [os.path.basename(parts[0])] + [w for w in parts[1:4] if not w.startswith("-")][:2]
        name = " ".join(" ".join(words).split())[:60]  # one line: `python -c "\n…"` scripts have newlines
        if not name:
            try:
                with open(f"/proc/{pid}/comm") as fh:
                    name = f"[{fh.read().strip()}]"
            except OSError:
                name = "?"
        return name

    def _scan(self, initial: bool = False) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            used, started = int(fields[11]) + int(fields[12]), int(fields[19])
            if pid not in self.first:
                # a process born inside the window counts from zero
                self.first[pid] = used if initial or started < self.t0_ticks else 0
            self.last[pid] = used
            if pid not in self.kind or (self.kind[pid] != "client" and pid in self.client_pids):
                self.kind[pid] = self._classify(pid)
                self.proc_names[pid] = self._proc_name(pid)

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self._scan()

    def finish(self) -> dict:
        self._scan()
        self._halt.set()
        if self.is_alive():
            self.join()
        busy = cpu_busy_since(self.busy0)
        out = {"client": 0.0, "server": 0.0, "pg_aux": 0.0, "other": 0.0, "harness": 0.0}
        for pid, used in self.last.items():
            k = "client" if pid in self.client_pids else self.kind.get(pid, "other")
            out[k] += (used - self.first[pid]) / CLK_TCK
        others: dict[str, float] = {}
        for pid, used in self.last.items():
            if pid not in self.client_pids and self.kind.get(pid) == "other" and used > self.first[pid]:
                name = self.proc_names.get(pid, "?")
                others[name] = others.get(name, 0.0) + (used - self.first[pid]) / CLK_TCK
        out = {k: round(v, 2) for k, v in out.items()}
        out["machine_busy"] = round(busy, 3)
        out["other_top"] = [[k, round(v, 1)] for k, v in sorted(others.items(), key=lambda kv: -kv[1])[:4] if v >= 0.1]
        return out


def admin_connect():
    import psycopg

    # The maintenance database, only to create and drop the bench database.
    return psycopg.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname="postgres", autocommit=True)


# ---------------------------------------------------------------- 1. the database

def recreate_db(name: str) -> None:
    with admin_connect() as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}" OWNER "{USER}"')


def drop_db(name: str) -> None:
    with admin_connect() as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- 2. pgbench

def run_pgbench(dbname: str, clients: int, seconds: float, scale: int, mode: str) -> dict:
    pgbench = find_pgbench() or "pgbench"
    t = time.perf_counter()
    subprocess.run([pgbench, "-i", "-q", "-s", str(scale), dbname], env=pg_env(), check=True, capture_output=True, text=True)
    init_s = time.perf_counter() - t
    cmd = [pgbench, "-c", str(clients), "-j", str(clients), "-T", str(max(1, round(seconds))), "-M", mode, dbname]
    sampler = CpuSampler(dbname)
    sampler.start()
    proc = subprocess.Popen(cmd, env=pg_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler.client_pids.add(proc.pid)
    stdout, stderr = proc.communicate()
    cpu = sampler.finish()
    if proc.returncode:
        raise SystemExit(f"pgbench failed ({proc.returncode}):\n{stdout}\n{stderr}")
    text = stdout
    m = re.search(r"tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)", text)
    if m is None:
        m = re.search(r"tps = ([\d.]+)", text)
    if m is None:
        raise SystemExit(f"could not read tps from pgbench:\n{text}\n{stderr}")
    txns = re.search(r"number of transactions actually processed: (\d+)", text)
    lat = re.search(r"latency average = ([\d.]+) ms", text)
    failed = re.search(r"number of failed transactions: (\d+)", text)
    n = int(txns.group(1)) if txns else 0
    return {
        "command": " ".join(cmd), "init_seconds": round(init_s, 1), "tps": float(m.group(1)), "transactions": n,
        "latency_avg_ms": float(lat.group(1)) if lat else None, "failed": int(failed.group(1)) if failed else 0,
        "cpu_s": cpu, **per_txn(cpu, n),
    }


# ---------------------------------------------------------------- 3. our transfers

def django_setup(dbname: str, prepared: bool = False) -> None:
    os.environ["CETS_DATABASE_URL"] = db_url(dbname)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cets.settings"
    os.environ.setdefault("CETS_SECRET_KEY", "bench-only-not-secret")
    import django

    django.setup()
    if prepared:
        # An experiment, not the shipped configuration: server-side binding and psycopg's automatic
        # prepared statements (Django turns them off by default for the sake of connection poolers).
        from django.db import connections

        connections["default"].settings_dict.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)


def uscc(i: int) -> str:
    from cets.core.uscc import check_character

    body = f"9137000{i:010d}"
    return body + check_character(body)


def setup_registry() -> None:
    from django.core.management import call_command

    from cets.parties.models import Organisation
    from cets.registry.models import AccountKind, Instrument, Position, TransferKind
    from cets.registry.services import Leg, account_open, system_account, system_accounts_ensure, transfer_post, vintage_create

    call_command("migrate", verbosity=0)
    system_accounts_ensure(market="national")
    ut = vintage_create(instrument=Instrument.CEA, vintage="2025", cap_t=ACCOUNTS * START_BALANCE, key="bench-cap")
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    for i in range(ACCOUNTS):
        org = Organisation.objects.create(uscc=uscc(i), name=f"基准测试{i}", kind=Organisation.Kind.ENTITY, province="37")
        acc = account_open(holder=org)
        transfer_post(key=f"bench-seed-{i}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                      credit=Leg(acc, Position.REGISTRY), quantity=START_BALANCE)


def _statement_label(sql: str) -> str:
    s = sql.lstrip().upper()
    if s.startswith("SELECT 1 FROM"):
        return "idempotency check (SELECT key)"
    if s.startswith("SELECT ID, NUMBER"):
        return "lock accounts (SELECT … FOR UPDATE)"
    if s.startswith("UPDATE") and "QUANTITY - " in s:
        return "debit (UPDATE holding)"
    if s.startswith("INSERT") and "ON CONFLICT" in s:
        return "credit (INSERT … ON CONFLICT)"
    if s.startswith("INSERT"):
        return "journal (INSERT … RETURNING)"
    if s.startswith("UPDATE") and "HEAD_HASH" in s:
        return "heads (UPDATE accounts)"
    return "other: " + s[:40]


def worker(ns: list[int], dbname: str, seconds: float, barrier, queue, release, profile: bool, prepared: bool) -> None:
    """One client process: its own interpreter and Django; each client ``n`` of ``ns`` is a thread with its own
    connection (Django's connections are per thread). Waits for all, then posts transfers until the deadline."""
    try:
        django_setup(dbname, prepared)
        from django.db import connection

        from cets.registry.models import Account, AccountKind, UnitType

        accounts = list(Account.objects.filter(kind=AccountKind.ENTITY).order_by("pk"))
        ut = UnitType.objects.get(code="CEA-2025")
        connection.close()
        ready, go = threading.Barrier(len(ns) + 1), threading.Event()
        threads = [threading.Thread(target=client, args=(n, accounts, ut, seconds, ready, go, queue, release, profile and n == ns[0], profile,
                                                         len(ns) > 1))
                   for n in ns]
        for t in threads:
            t.start()
        ready.wait(timeout=300)  # every client connected
        barrier.wait(timeout=300)  # every process ready
        go.set()
        for t in threads:
            t.join()
    except BaseException as e:  # noqa: BLE001 - the parent reports it
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass
        queue.put({"n": ns[0], "fatal": f"{type(e).__name__}: {e}"})


def client(n: int, accounts: list, ut, seconds: float, ready, go, queue, release, cprofile: bool, timed: bool, threaded: bool) -> None:
    """One client: its own connection, random pairs of ``accounts``, unique keys, until ``seconds`` have passed."""
    import random

    from django.db import connection

    from cets.core.errors import CetsError
    from cets.registry.models import Position, TransferKind
    from cets.registry.services import Leg, transfer_post

    rng = random.Random(n)
    run_id = f"{os.getpid()}-{time.time_ns()}"
    stmt: dict[str, list[float]] = {}
    result: dict = {"n": n}
    try:
        if timed:
            def wrapper(execute, sql, params, many, context):
                t = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    stmt.setdefault(_statement_label(sql), []).append(time.perf_counter() - t)

            connection.ensure_connection()
            orig_commit = connection._commit

            def timed_commit():
                t = time.perf_counter()
                try:
                    return orig_commit()
                finally:
                    stmt.setdefault("COMMIT", []).append(time.perf_counter() - t)

            connection._commit = timed_commit
            wrap_ctx = connection.execute_wrapper(wrapper)
            wrap_ctx.__enter__()
        connection.ensure_connection()
        prof = None
        if cprofile:
            import cProfile

            prof = cProfile.Profile()
        committed = refused = 0
        errors: list[str] = []
        latencies: list[float] = []
        ready.wait(timeout=300)
        go.wait(timeout=300)
        cpu0 = time.thread_time() if threaded else time.process_time()
        t0 = time.perf_counter()
        deadline = t0 + seconds
        if prof:
            prof.enable()
        i = 0
        while True:
            now = time.perf_counter()
            if now >= deadline:
                break
            a, b = rng.sample(accounts, 2)
            q = rng.randint(1, MAX_QTY)
            i += 1
            try:
                transfer_post(key=f"bench-{run_id}-{n}-{i}", kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(a, Position.REGISTRY),
                              credit=Leg(b, Position.REGISTRY), quantity=q)
                committed += 1
                latencies.append(time.perf_counter() - now)
            except CetsError as e:
                refused += 1
                if len(errors) < 5:
                    errors.append(f"{e.code}: {e}")
            except Exception as e:  # noqa: BLE001 - counted and reported, the run goes on
                if len(errors) < 5:
                    errors.append(f"{type(e).__name__}: {e}")
                refused += 1
        elapsed = time.perf_counter() - t0
        if prof:
            prof.disable()
        cpu = (time.thread_time() if threaded else time.process_time()) - cpu0
        result.update({"committed": committed, "refused": refused, "errors": errors, "elapsed": elapsed, "cpu": cpu,
                       "latencies": latencies, "statements": {k: (len(v), sum(v)) for k, v in stmt.items()}})
        if prof:
            import io
            import pstats

            buf = io.StringIO()
            st = pstats.Stats(prof, stream=buf)
            st.sort_stats("tottime").print_stats(25)
            buf.write("\n---- by cumulative time ----\n")
            st.sort_stats("cumulative").print_stats(30)
            result["profile"] = buf.getvalue()
    except BaseException as e:  # noqa: BLE001 - the parent reports it
        result["fatal"] = f"{type(e).__name__}: {e}"
        ready.abort()  # the process's other clients and the start do not wait for this one
    queue.put(result)
    release.wait(timeout=120)  # keep the backend until the parent has sampled its CPU
    connection.close()


def per_txn(cpu: dict, n: int) -> dict:
    """CPU milliseconds per committed transaction: client (pgbench or our processes) and server
    (the PostgreSQL backends of the bench database)."""
    if not n:
        return {"client_cpu_ms_per_txn": None, "server_cpu_ms_per_txn": None}
    client, server = 1000 * cpu["client"] / n, 1000 * cpu["server"] / n
    ncpu = len(os.sched_getaffinity(0))
    return {"client_cpu_ms_per_txn": round(client, 3), "server_cpu_ms_per_txn": round(server, 3),
            # what the machine would do if it ran nothing else and stayed CPU-bound at this cost per transaction
            "cpu_bound_ceiling_tps": round(ncpu * 1000 / (client + server), 1) if client + server else None}


def pct(sorted_vals: list[float], p: float) -> float:
    if not sorted_vals:
        return 0.0
    k = min(len(sorted_vals) - 1, max(0, round(p / 100 * (len(sorted_vals) - 1))))
    return sorted_vals[k]


def run_ours(dbname: str, clients: int, seconds: int, profile: bool, prepared: bool, processes: int | None = None) -> dict:
    ctx = mp.get_context("spawn")
    processes = min(processes or clients, clients)
    groups = [list(range(clients))[i::processes] for i in range(processes)]  # clients as threads, spread over the processes
    barrier = ctx.Barrier(processes + 1)
    queue, release = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=worker, args=(ns, dbname, seconds, barrier, queue, release, profile, prepared), daemon=True)
             for ns in groups]
    t = time.perf_counter()
    for p in procs:
        p.start()
    try:
        barrier.wait(timeout=300)
    except threading.BrokenBarrierError:
        fatal = []
        while not queue.empty() or not fatal:
            try:
                fatal.append(queue.get(timeout=10).get("fatal", "?"))
            except Exception:  # noqa: BLE001 - nothing more to read
                break
        raise SystemExit(f"a worker process failed before the start: {fatal[:3]}") from None
    startup = time.perf_counter() - t
    sampler = CpuSampler(dbname)
    sampler.client_pids.update(p.pid for p in procs)
    sampler.start()
    results = [queue.get(timeout=seconds + 300) for _ in range(clients)]
    cpu_s = sampler.finish()
    release.set()
    for p in procs:
        p.join(timeout=30)
    fatal = [r["fatal"] for r in results if "fatal" in r]
    if fatal:
        raise SystemExit(f"worker failed: {fatal[:3]}")
    committed = sum(r["committed"] for r in results)
    refused = sum(r["refused"] for r in results)
    window = max(r["elapsed"] for r in results)
    lat = sorted(x for r in results for x in r["latencies"])
    cpu = sum(r["cpu"] for r in results)
    statements: dict[str, list[float]] = {}
    for r in results:
        for k, (c, s) in r["statements"].items():
            acc = statements.setdefault(k, [0, 0.0])
            acc[0] += c
            acc[1] += s
    out = {
        "transfers_per_s": round(committed / window, 1), "committed": committed, "refused": refused,
        "errors": sorted({e for r in results for e in r["errors"]})[:5], "window_s": round(window, 2),
        "process_startup_s": round(startup, 1),
        "latency_ms": {"avg": round(1000 * sum(lat) / len(lat), 2) if lat else None, "p50": round(1000 * pct(lat, 50), 2),
                       "p95": round(1000 * pct(lat, 95), 2), "p99": round(1000 * pct(lat, 99), 2)},
        "worker_cpu_ms_per_transfer": round(1000 * cpu / committed, 3) if committed else None, "cpu_s": cpu_s,
        **per_txn(cpu_s, committed),
        "per_process": [r["committed"] for r in sorted(results, key=lambda r: r["n"])],
    }
    if profile:
        n_tx = committed + refused
        breakdown = {k: {"count": c, "ms_per_transfer": round(1000 * s / n_tx, 3), "avg_ms": round(1000 * s / c, 3)}
                     for k, (c, s) in sorted(statements.items(), key=lambda kv: -kv[1][1])}
        in_db = sum(s for c, s in statements.values())
        total = sum(r["elapsed"] for r in results)
        out["profile"] = {
            "statements": breakdown, "ms_per_transfer_total": round(1000 * total / n_tx, 3),
            "ms_per_transfer_waiting_on_db": round(1000 * in_db / n_tx, 3),
            "ms_per_transfer_python_outside_db": round(1000 * (total - in_db) / n_tx, 3),
            "cprofile_worker0": next(r["profile"] for r in results if r["n"] == 0),
        }
    return out


# ---------------------------------------------------------------- 4. audit

def run_audit() -> dict:
    from cets.registry.audit import audit_verify
    from cets.registry.models import Transfer

    t = time.perf_counter()
    report = audit_verify()
    return {"ok": report.ok, "journal_entries": report.transfers, "transfers": Transfer.objects.filter(kind="transfer").count(),
            "accounts": report.accounts, "holdings": report.holdings, "problems": report.problems[:5],
            "conservation": all(v.ok for v in report.results if v.name.startswith("conservation")), "seconds": round(time.perf_counter() - t, 1)}


# ---------------------------------------------------------------- 5. report

def cpu_row(c: dict) -> str:
    return f"{c['client']:.1f} / {c['server']:.1f} / {c['pg_aux']:.1f} / {c['other']:.1f}"


def print_report(res: dict, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    pg, ours, audit, m = res["pgbench"], res["cets"], res["audit"], res["machine"]
    title = f"registry transfers vs pgbench — {res['clients']} clients in {res['client_processes']} process(es), {res['seconds']} s"
    t = Table(title=title, title_justify="left")
    t.add_column("")
    t.add_column("pgbench TPC-B-like", justify="right")
    t.add_column("cets transfer_post", justify="right")
    t.add_row("throughput (txn/s)", f"{pg['tps']:.1f}", f"{ours['transfers_per_s']:.1f}")
    t.add_row("transactions", f"{pg['transactions']:,}", f"{ours['committed']:,} (+{ours['refused']} refused)")
    t.add_row("latency avg (ms)", f"{pg['latency_avg_ms']}", f"{ours['latency_ms']['avg']} (p99 {ours['latency_ms']['p99']})")
    t.add_row("client CPU per txn (ms)", f"{pg['client_cpu_ms_per_txn']}", f"{ours['client_cpu_ms_per_txn']}")
    t.add_row("server CPU per txn (ms)", f"{pg['server_cpu_ms_per_txn']}", f"{ours['server_cpu_ms_per_txn']}")
    t.add_row("machine CPU busy", f"{pg['cpu_s']['machine_busy']:.0%}", f"{ours['cpu_s']['machine_busy']:.0%}")
    t.add_row("CPU s: client/server/pg aux/other", cpu_row(pg["cpu_s"]), cpu_row(ours["cpu_s"]))
    t.add_row("CPU-bound ceiling (txn/s)", f"{pg['cpu_bound_ceiling_tps']}", f"{ours['cpu_bound_ceiling_tps']}")
    t.add_row("ratio ours / pgbench", "", f"[bold]{res['ratio']:.3f}[/bold] (aim ≥ {AIM:g})")
    t.add_row("ratio of CPU-bound ceilings", "", f"{res['ratio_cpu_ceiling']:.3f}")
    console.print(t)
    f = Table(show_header=False, title="machine", title_justify="left")
    for k in ("nproc", "busy_before_start", "loadavg_at_start", "pg_server_version", "pg_synchronous_commit", "pg_fsync",
              "pg_wal_sync_method", "pg_shared_buffers", "pgbench", "python"):
        f.add_row(k, escape(str(m.get(k))))
    f.add_row("pgbench command", pg["command"] + f"  (init -s {res['scale']}: {pg['init_seconds']} s)")
    f.add_row(
        "audit_verify",
        f"{'ok' if audit['ok'] else 'FAILED'}: {audit['journal_entries']:,} journal entries, "
        f"{audit['accounts']} accounts, {audit['holdings']} holdings, {audit['seconds']} s",
    )
    f.add_row("runtime", f"{res['runtime_s']} s  " + ", ".join(f"{k} {v}" for k, v in res["phases_s"].items()))
    for label, c in (("other load (pgbench run)", pg["cpu_s"]), ("other load (cets run)", ours["cpu_s"])):
        f.add_row(label, escape(", ".join(f"{n} {s_}s" for n, s_ in c["other_top"]) or "-"))  # "[kworker/…]" is not markup
    if res["prepared_statements_experiment"]:
        f.add_row("experiment", "cets processes ran with server_side_binding=True, prepare_threshold=2 (not the shipped settings)")
    console.print(f)
    if ours["errors"]:
        console.print(f"[yellow]refusals/errors seen:[/yellow] {escape(str(ours['errors']))}")
    if not audit["ok"]:
        console.print(f"[red]audit problems:[/red] {escape(str(audit['problems']))}")
    prof = ours.get("profile")
    if prof:
        p = Table(title="where a transfer's time goes (all workers, wall time per transfer)", title_justify="left")
        p.add_column("part")
        p.add_column("ms / transfer", justify="right")
        p.add_column("avg ms / call", justify="right")
        for k, v in prof["statements"].items():
            p.add_row(escape(k), f"{v['ms_per_transfer']:.3f}", f"{v['avg_ms']:.3f}")
        p.add_row("Python outside the database", f"{prof['ms_per_transfer_python_outside_db']:.3f}", "")
        p.add_row("[bold]total[/bold]", f"{prof['ms_per_transfer_total']:.3f}", "")
        console.print(p)
        console.print("[bold]cProfile of worker 0[/bold]")
        console.print(prof["cprofile_worker0"], markup=False, highlight=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--processes", type=int, default=1,
                    help="host the clients as threads of this many processes (default 1, as pgbench -j hosts its clients; "
                         "= --clients: one process per client)")
    ap.add_argument("--scale", type=int, default=10, help="pgbench scale factor (default 10)")
    ap.add_argument("--database", default="cets_bench", help="the bench database, dropped and recreated (default cets_bench)")
    ap.add_argument(
        "--pgbench-mode",
        choices=("simple", "extended", "prepared"),
        default="simple",
        help="pgbench query protocol; simple (default) matches Django's client-side binding",
    )
    ap.add_argument("--profile", action="store_true", help="cProfile worker 0 and time every statement and commit")
    ap.add_argument(
        "--wait-quiet", type=float, default=0, metavar="SECONDS", help="wait up to SECONDS for the machine to be under 15%% busy before starting (default 0)"
    )
    ap.add_argument(
        "--prepared-statements",
        action="store_true",
        help="experiment: run our processes with Django OPTIONS server_side_binding=True, prepare_threshold=2 (not the shipped configuration)",
    )
    ap.add_argument("--quick", action="store_true", help="2 clients, 3 s, pgbench scale 1: validation only, not comparable to a full run")
    ap.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    ap.add_argument("--no-json", action="store_true", help="do not write bench/results/registry_transfers.json")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.seconds, args.scale = 2, 3, 1
    dbname = check_db_name(args.database)
    if find_pgbench() is None:
        skip("pgbench not found on the PATH nor in /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql-contrib)")
    why = pg_unreachable()
    if why:
        skip(why)
    os.chdir(REPO)  # settings keep var/ under the working directory

    from rich.console import Console

    console = Console()
    when = dt.datetime.now(dt.timezone.utc).astimezone()
    wait_until = time.monotonic() + args.wait_quiet
    while True:
        quiet = CpuSampler(dbname)
        time.sleep(2)
        idle_check = quiet.finish()
        if idle_check["machine_busy"] <= 0.15 or time.monotonic() >= wait_until:
            break
        console.print(f"[dim]machine {idle_check['machine_busy']:.0%} busy; waiting for it to be quiet[/dim]")
    if idle_check["machine_busy"] > 0.15:
        console.print(
            f"[yellow]the machine is already {idle_check['machine_busy']:.0%} busy before the benchmark: "
            f"figures will be lower and noisier than on a quiet machine[/yellow]"
        )
    started = time.perf_counter()
    phases: dict[str, float] = {}
    mark = [started]

    def phase(name: str) -> None:
        now = time.perf_counter()
        phases[name] = round(now - mark[0], 1)
        mark[0] = now

    console.print(f"[dim]recreating database {dbname}[/dim]")
    recreate_db(dbname)
    try:
        facts = machine_facts(dbname)
        phase("create_db")
        console.print(f"[dim]pgbench: init -s {args.scale}, then {args.clients} clients for {args.seconds} s[/dim]")
        pg = run_pgbench(dbname, args.clients, args.seconds, args.scale, args.pgbench_mode)
        phase("pgbench_init_and_run")
        console.print(f"[dim]pgbench: {pg['tps']:.1f} tps; migrating cets and opening {ACCOUNTS} accounts[/dim]")
        django_setup(dbname)
        setup_registry()
        from django.db import connections

        connections.close_all()
        phase("migrate_and_setup")
        console.print(
            f"[dim]cets: {args.clients} processes posting transfers for {args.seconds} s{' (prepared statements)' if args.prepared_statements else ''}[/dim]"
        )
        ours = run_ours(dbname, args.clients, args.seconds, args.profile, args.prepared_statements, args.processes)
        phase("cets_spawn_and_run")
        audit = run_audit()
        connections.close_all()
        phase("audit")
    finally:
        if not args.keep:
            drop_db(dbname)
    phase("drop_db")
    res = {
        "benchmark": "registry_transfers",
        "quick": args.quick,
        "date": when.isoformat(timespec="seconds"),
        "clients": args.clients, "client_processes": min(args.processes or args.clients, args.clients),
        "seconds": args.seconds,
        "scale": args.scale,
        "profiled": args.profile,
        "prepared_statements_experiment": args.prepared_statements,
        "pgbench_mode": args.pgbench_mode,
        "machine": {**facts, "busy_before_start": idle_check["machine_busy"]},
        "pgbench": pg,
        "cets": ours,
        "audit": audit,
        "ratio": round(ours["transfers_per_s"] / pg["tps"], 3) if pg["tps"] else None,
        "ratio_cpu_ceiling": round(ours["cpu_bound_ceiling_tps"] / pg["cpu_bound_ceiling_tps"], 3)
        if ours["cpu_bound_ceiling_tps"] and pg["cpu_bound_ceiling_tps"]
        else None,
        "runtime_s": round(time.perf_counter() - started, 1),
        "phases_s": phases,
        "database_kept": args.keep,
    }
    res["summary"] = summary(ours=ours["transfers_per_s"], ours_unit="transfers/s", baseline=pg["tps"],
                             baseline_label=f"pgbench TPC-B tps, {args.clients} clients", ratio=res["ratio"], aim=AIM,
                             ratio_means="ours ÷ pgbench tps at the same client count",
                             note="" if audit["ok"] else "audit_verify FAILED")
    print_report(res, console)
    if not args.no_json:
        slim = json.loads(json.dumps(res))
        if slim["cets"].get("profile"):
            slim["cets"]["profile"].pop("cprofile_worker0", None)
        write_json(results_path("registry_transfers", args.quick), slim)
    if res["ratio"] is not None:
        ratio_line(res["ratio"], AIM)
    sys.exit(0 if audit["ok"] else 1)


if __name__ == "__main__":
    main()
