"""Reliability under load on loopback (issue 16): 50 concurrent users for 60 s against the real server on PostgreSQL.

One invocation:
1. drops and recreates a dedicated database (default ``cets_load``; it refuses ``cets``, ``postgres``, ``template*``
   and ``test_*``), migrates it and sets up a market through the platform's own services: 50 key emitting entities
   (valid credit codes), each with an entity account holding 1,000,000 t of CEA-2023 in its registry position and
   200,000 t in its trading position, 100,000,000.00 CNY in its fund account, a user signed in with a
   TOTP-verified session; CEA23 opened on 2024-11-04 at a previous close of 95.00 CNY;
2. serves cets with gunicorn on 127.0.0.1 (a free port; ``--workers`` processes × ``--threads`` threads) on the
   load test's market clock (``load_clock.py``: the server's "now" runs from 2024-11-04 10:00 Asia/Shanghai, so
   the market is open whatever hour the bench runs);
3. runs locust headless (``load_locust.py``) with ``--users`` users for ``--duration`` seconds, each user mixing
   holdings reads, registry transfers with idempotency keys (one in ten retried with the same key) and order entry
   (listing quotes and takes) through the API;
4. stops the server (no process is left running), runs ``cets audit verify`` on the database (hash chains,
   holdings replayed from the journal, conservation, the fund ledger) and writes ``bench/results/load_test.json``
   (``--soak``: ``load_test_soak.json``; ``--quick``: under ``bench/results/quick/``);
5. prints p50 / p99 per operation, the errors, the numbered refusals (a business answer such as "the quote was
   taken", not an error), and last ``ratio: <answered ÷ attempted> (aim ≥ 1)``.

The ratio: answered requests (2xx or a numbered refusal) ÷ attempted requests, and 0 if ``cets audit verify``
fails. 1.0 means zero errors and a proven ledger after the run; higher is better and 1 is the most it can be.

Run:  .venv/bin/python bench/load_test.py                   (50 users, 60 s)
      .venv/bin/python bench/load_test.py --soak            (50 users, 10 minutes; --duration to change)
      .venv/bin/python bench/load_test.py --quick           (10 users, 10 s: validation only)
A benchmark, not a test: it measures and reports; it asserts nothing about speed.
Without PostgreSQL or locust (the ``bench`` extra) it prints ``skipped: <reason>``.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import REPO, machine_facts, pg_unreachable, ratio_line, results_path, skip, summary, write_json  # noqa: E402
from registry_transfers import check_db_name, drop_db, recreate_db  # noqa: E402

AIM = 1.0
ENTITIES, REGISTRY_T, TRADING_T, CASH_FEN = 50, 1_000_000, 200_000, 10_000_000_000
OPS = ("holdings", "transfer", "transfer retry", "order", "board", "take")
SECRET = "load-test-only-not-secret"


def env_for(dbname: str) -> dict[str, str]:
    return {**os.environ, "CETS_DATABASE_URL": f"postgresql://cets:cets@127.0.0.1:5432/{dbname}", "DJANGO_SETTINGS_MODULE": "cets.settings",
            "CETS_SECRET_KEY": SECRET, "CETS_ALLOWED_HOSTS": "127.0.0.1,localhost", "CETS_DEBUG": "0",
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(HERE), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def setup(dbname: str, users: int, users_file: Path) -> None:
    """Migrate and open the market (see the module docstring); write the users' sessions to ``users_file``."""
    import load_clock

    os.environ.update(env_for(dbname))
    load_clock.install()
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from cets.core.uscc import check_character
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create, totp_device_ensure
    from cets.registry.models import AccountKind, Instrument, Position, TransferKind
    from cets.registry.services import Leg, account_open, system_account, system_accounts_ensure, transfer_post, vintage_create
    from cets.trading.funds import funds_deposit
    from cets.trading.services import day_open

    call_command("migrate", verbosity=0)
    system_accounts_ensure(market="national", provinces=["37"])
    ut = vintage_create(instrument=Instrument.CEA, vintage="2023", cap_t=users * (REGISTRY_T + TRADING_T), key="load-cap")
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    out = []
    for i in range(users):
        body = f"9137000{i:010d}"
        org = Organisation.objects.create(uscc=body + check_character(body), name=f"负载测试电厂{i}", kind=Organisation.Kind.ENTITY,
                                          region_code="370100", province="37")
        acc = account_open(holder=org)
        for pos, q in ((Position.REGISTRY, REGISTRY_T), (Position.TRADING, TRADING_T)):
            transfer_post(key=f"load-issue-{i}-{pos}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                          credit=Leg(acc, pos), quantity=q)
        funds_deposit(key=f"load-dep-{i}", holder=org, amount_fen=CASH_FEN, actor=None)
        user = member_create(username=f"load{i}", organisation=org, role=Role.ENTITY, password=None)
        device, _ = totp_device_ensure(user=user)
        c = Client()
        c.force_login(user)
        s = c.session
        s[DEVICE_ID_SESSION_KEY] = device.persistent_id
        s.save()
        out.append({"account": acc.number, "uscc": org.uscc, "session": c.cookies["sessionid"].value, "csrf": secrets.token_hex(16)})
    day_open(market="national", instrument="CEA23", day=load_clock.TRADING_DAY, prev_close_fen=9_500)
    users_file.write_text(json.dumps({"unit_type": ut.code, "instrument": "CEA23", "users": out}), encoding="utf-8")
    from django.db import connections

    connections.close_all()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer {url} within {timeout:g} s")


def stop(proc: subprocess.Popen | None) -> None:
    """Stop a process group we started (gunicorn master and workers), politely then firmly."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def read_stats(prefix: Path) -> dict[str, dict]:
    """locust's ``<prefix>_stats.csv``: per request name, count, failures, p50 and p99 (ms), mean."""
    out = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            name = row["Name"]
            out[name] = {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                         "p50_ms": float(row["50%"] or 0), "p99_ms": float(row["99%"] or 0), "mean_ms": round(float(row["Average Response Time"] or 0), 1),
                         "rps": round(float(row["Requests/s"] or 0), 2)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--duration", type=float, default=None, help="seconds of load (default 60; --soak: 600)")
    ap.add_argument("--soak", action="store_true", help="the soak: 10 minutes unless --duration says otherwise")
    ap.add_argument("--database", default="cets_load")
    ap.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (default 3)")
    ap.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    ap.add_argument("--quick", action="store_true", help="10 users, 10 s: validation only, not comparable to a full run")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args()
    if args.duration is None:
        args.duration = 600.0 if args.soak else 60.0
    if args.quick:
        args.users, args.duration = 10, 10.0
    dbname = check_db_name(args.database)
    if importlib.util.find_spec("locust") is None:
        skip("locust is not installed (pip install -e '.[bench]')")
    why = pg_unreachable()
    if why:
        skip(why)
    recreate_db(dbname)
    try:
        return run(args, dbname)
    finally:
        if not args.keep:
            drop_db(dbname)


def run(args, dbname: str) -> int:
    facts = machine_facts(dbname)
    env = env_for(dbname)
    with tempfile.TemporaryDirectory(prefix="cets-load-") as tmp:
        tmp = Path(tmp)
        users_file, counts_file, prefix = tmp / "users.json", tmp / "counts.json", tmp / "locust"
        anchor = time.time()
        env["LOAD_CLOCK_ANCHOR"] = repr(anchor)
        os.environ["LOAD_CLOCK_ANCHOR"] = repr(anchor)
        t = time.perf_counter()
        # the set-up in a child process: this one never holds Django's connections while the server runs
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(HERE)!r}); import load_test; "
                        f"load_test.setup({dbname!r}, {args.users}, __import__('pathlib').Path({str(users_file)!r}))"],
                       env=env, check=True, cwd=REPO)
        print(f"set-up: {args.users} entities in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        port = free_port()
        host = f"http://127.0.0.1:{port}"
        server = None
        try:
            server = subprocess.Popen([sys.executable, "-m", "gunicorn", "load_wsgi:application", "--bind", f"127.0.0.1:{port}",
                                       "--workers", str(args.workers), "--threads", str(args.threads), "--worker-class", "gthread",
                                       "--timeout", "120", "--graceful-timeout", "10", "--log-level", "warning"],
                                      env=env, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "w"))
            wait_up(f"{host}/api/v1/trading/instruments", server)
            print(f"server: {host} ({args.workers} workers × {args.threads} threads); locust: {args.users} users for {args.duration:g} s",
                  file=sys.stderr)
            t0 = time.perf_counter()
            loc = subprocess.run([sys.executable, "-m", "locust", "-f", str(HERE / "load_locust.py"), "--headless", "--only-summary",
                                  "--users", str(args.users), "--spawn-rate", str(args.users), "--run-time", f"{int(args.duration)}s",
                                  "--stop-timeout", "15", "--host", host, "--csv", str(prefix), "--loglevel", "WARNING"],
                                 env={**env, "LOAD_USERS_FILE": str(users_file), "LOAD_COUNTS_FILE": str(counts_file)},
                                 cwd=REPO, capture_output=True, text=True, timeout=args.duration + 180)
            elapsed = time.perf_counter() - t0
        finally:
            stop(server)
        server_log = (tmp / "server.log").read_text(encoding="utf-8", errors="replace")
        if not Path(f"{prefix}_stats.csv").exists():
            print(loc.stdout[-3000:], loc.stderr[-3000:], server_log[-3000:], sep="\n", file=sys.stderr)
            raise SystemExit("locust wrote no statistics")
        stats = read_stats(prefix)
        counts = json.loads(counts_file.read_text(encoding="utf-8")) if counts_file.exists() else {"refused": {}, "errors": {}}
        audit = subprocess.run([sys.executable, "-m", "cets.cli", "audit", "verify"], env=env, cwd=REPO, capture_output=True, text=True)
    agg = stats.get("Aggregated", {"requests": 0, "failures": 0})
    attempted, errors = agg["requests"], agg["failures"]
    refused = {op: sum(c.values()) for op, c in counts["refused"].items()}
    audit_ok = audit.returncode == 0
    answered = attempted - errors
    ratio = round(answered / attempted, 4) if attempted and audit_ok else 0.0
    name = "load_test_soak" if args.soak else "load_test"
    ops = {op: {**stats[op], "refused": refused.get(op, 0), "refused_by_code": counts["refused"].get(op, {}),
                "errors_by_status": counts["errors"].get(op, {})} for op in OPS if op in stats}
    out = {
        "benchmark": name, "quick": args.quick, "users": args.users, "duration_s": args.duration, "elapsed_s": round(elapsed, 1),
        "server": f"gunicorn gthread, {args.workers} workers × {args.threads} threads, 127.0.0.1", "attempted": attempted,
        "answered": answered, "errors": errors, "refused": sum(refused.values()), "requests_per_s": round(attempted / elapsed, 1),
        "p50_ms": agg.get("p50_ms"), "p99_ms": agg.get("p99_ms"), "operations": ops,
        "audit_verify": {"ok": audit_ok, "exit": audit.returncode, "output": (audit.stdout + audit.stderr).strip()[-2000:]},
        "locust_exit": loc.returncode, "server_log_tail": server_log.strip()[-2000:],
        "ratio": ratio,
        "summary": summary(ours=answered, ours_unit="requests answered (2xx or a numbered refusal)", baseline=attempted,
                           baseline_label=f"requests attempted, {args.users} users × {args.duration:g} s", ratio=ratio, aim=AIM,
                           ratio_means="answered ÷ attempted, 0 if cets audit verify fails (1 = no error and the ledger proven)",
                           note="" if audit_ok else "cets audit verify FAILED"),
        "machine": facts,
    }
    print(f"{'operation':<16}{'requests':>10}{'errors':>8}{'refused':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for op, s in ops.items():
        print(f"{op:<16}{s['requests']:>10,}{s['failures']:>8}{s['refused']:>9}{s['p50_ms']:>9.0f}{s['p99_ms']:>9.0f}")
    print(f"{'all':<16}{attempted:>10,}{errors:>8}{sum(refused.values()):>9}{agg.get('p50_ms', 0):>9.0f}{agg.get('p99_ms', 0):>9.0f}")
    print(f"{attempted / elapsed:.1f} requests/s over {elapsed:.1f} s; refusals by code: "
          f"{ {op: c for op, c in counts['refused'].items()} }; errors by status: { {op: c for op, c in counts['errors'].items()} }")
    print(f"cets audit verify: {'passed' if audit_ok else 'FAILED'} (exit {audit.returncode})")
    if not audit_ok:
        print(out["audit_verify"]["output"])
    if not args.no_json:
        write_json(results_path(name, args.quick), out)
    ratio_line(ratio, AIM)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
