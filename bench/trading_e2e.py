"""End-to-end exchange throughput on PostgreSQL: order entry → sequencer → matching → DVP settlement.

One invocation:
1. (re)creates a dedicated database (default ``cets_bench_trading``) and runs pgbench's TPC-B-like workload in it
   with the same number of clients for the same time (``pgbench -i -s SCALE``, then ``-c C -j C -T S``): the baseline;
2. migrates, opens P participants with allowances in their trading position and funds, opens the CEA23 trading day;
3. runs C client processes for S seconds; client n has two participants of its own (a lister and a taker): it
   places a listing quote (sells and buys alternate, at one of five price levels, 1–50 t) and then takes that quote
   in full, through the real ``order_place`` / ``order_take`` services (each call writes the order with its freeze
   and applies it — book, trades, settlement in the registry and the fund ledger — in one transaction whose commit
   is the acknowledgement); the participants are key emitting entities (only they may trade CEA on the national
   market). No client takes another's quotes, so no take races another's: a command the book refuses is refused
   for a reason, and is not counted as work done;
4. reports accepted commands per second (every logged command the exchange did not reject), rejected ones, trades
   per second and the p50 / p99 latency of a call (entry to settled), then proves both journals (``audit_verify``,
   ``funds_verify``) and writes ``bench/results/trading_e2e.json`` (``--quick``: ``bench/results/quick/``);
5. prints last ``ratio: <accepted commands/s ÷ pgbench tps> (aim ≥ 0.5)``.

``--mode batched`` (issue 19, the group commit): the same workload appended through ``order_place_queued`` /
``order_take_queued`` (each append one statement on PostgreSQL, its own transaction; its commit is the
acknowledgement of receipt; the take names the quote still in the queue), each client keeping at most ``--window``
commands not yet applied (it sleeps on the applied position's notifications, ``wait_applied``, no polling); the
clients are threads of one process, each with its own connection, as pgbench hosts its own (``--processes P`` spreads
them over P processes); one
sequencer process drains the log in batches of up to ``--batch`` (``sequencer_drain``: pre-trade checks in memory,
the book, settlement of the batch's trades set-based, one commit per batch). Accepted commands per second count
from the start until the sequencer has applied the last; the latency of a command runs from its append's start to
the commit of the batch that applied it. ``--mode direct`` (the default: the path the pages and the API take) is the
one above.

Without PostgreSQL or pgbench it prints ``skipped: <reason>``.

Run:  .venv/bin/python bench/trading_e2e.py --clients 4 --seconds 20
      .venv/bin/python bench/trading_e2e.py --mode batched --clients 8 --seconds 20
      .venv/bin/python bench/trading_e2e.py --quick      (2 clients, 3 s, pgbench scale 1: validation only)
A benchmark, not a test: it measures and reports; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import find_pgbench, machine_facts, pg_unreachable, ratio_line, results_path, skip, summary, write_json  # noqa: E402
from registry_transfers import check_db_name, drop_db, recreate_db, run_pgbench  # noqa: E402

AIM = 0.5  # issue 19: accepted commands/s ≥ 0.5 × pgbench TPC-B tps at the same client count
PARTICIPANTS, UNITS, CASH = 40, 200_000, 10_000_000_000


def setup(dbname: str) -> None:
    import datetime as dt

    from django.core.management import call_command

    from cets.core.uscc import check_character
    from cets.parties.models import Organisation
    from cets.registry.models import AccountKind, Instrument, Position, TransferKind
    from cets.registry.services import Leg, account_open, system_account, system_accounts_ensure, transfer_post, vintage_create
    from cets.trading.funds import funds_deposit
    from cets.trading.services import day_open

    call_command("migrate", verbosity=0)
    system_accounts_ensure(market="national")
    ut = vintage_create(instrument=Instrument.CEA, vintage="2023", cap_t=PARTICIPANTS * UNITS, key="bench-cap")
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    for i in range(PARTICIPANTS):
        body = f"9137000{i:010d}"
        # key emitting entities: only they trade CEA on the national market (trading pack [trading_rights])
        org = Organisation.objects.create(uscc=body + check_character(body), name=f"基准交易{i}", kind=Organisation.Kind.ENTITY, province="37",
                                          region_code="370000")
        acc = account_open(holder=org, kind=AccountKind.ENTITY)
        transfer_post(key=f"seed-{i}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY), credit=Leg(acc, Position.TRADING),
                      quantity=UNITS)
        funds_deposit(key=f"dep-{i}", holder=org, amount_fen=CASH, actor=None)
    day_open(market="national", instrument="CEA23", day=dt.date(2024, 11, 4), prev_close_fen=9_500)


def counts() -> tuple[int, int, int]:
    """(commands, accepted, rejected) in the log: every order but the days' open and close; accepted = not rejected
    (by the book or the pre-trade checks); commands refused at entry were never logged and are counted by the clients."""
    from cets.trading.models import Order

    orders = Order.objects.exclude(kind__in=("open_day", "close_day"))
    rejected = orders.filter(status=Order.Status.REJECTED).count()
    n = orders.count()
    return n, n - rejected, rejected


def django_setup(dbname: str) -> None:
    os.environ["CETS_DATABASE_URL"] = f"postgresql://cets:cets@127.0.0.1:5432/{dbname}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "cets.settings"
    os.environ.setdefault("CETS_SECRET_KEY", "bench-only-not-secret")
    import django

    django.setup()


LEVELS = (9_480, 9_490, 9_500, 9_510, 9_520)  # fen per tonne: five price levels, so every quote is among the best five a take may reach (T0106)


def pair(n: int, orgs: list) -> tuple:
    """Client ``n``'s two participants: the one that lists quotes and the one that takes them. No other client takes
    this client's quotes, so no take races another client's (a take the book refuses is refused for a reason)."""
    return orgs[(2 * n) % len(orgs)], orgs[(2 * n + 1) % len(orgs)]


def quote_terms(i: int, rng) -> tuple[str, int, int]:
    """The ``i``-th quote of a client: side (sells and buys alternate, so positions stay balanced), price (one of
    :data:`LEVELS`), quantity (1–50 t)."""
    return ("S" if i % 2 else "B"), rng.choice(LEVELS), rng.randint(1, 50)


def worker(n: int, dbname: str, seconds: float, barrier, queue) -> None:
    """A client of the direct path: a listing quote by its lister, then a take of that quote in full by its taker
    (``order_place`` / ``order_take``: each call one transaction, entry to settled); reports each call's latency."""
    import datetime as dt
    import random
    from zoneinfo import ZoneInfo

    django_setup(dbname)
    from cets.core.errors import CetsError
    from cets.parties.models import Organisation
    from cets.trading.services import order_place, order_take

    at = dt.datetime(2024, 11, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    lister, taker = pair(n, list(Organisation.objects.filter(name__startswith="基准交易").order_by("pk")))
    rng = random.Random(n)
    lat: list[float] = []
    refused = 0
    run = f"{os.getpid()}-{time.time_ns()}"
    barrier.wait()
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        i += 1
        side, price, qty = quote_terms(i, rng)
        t0 = time.perf_counter()
        try:
            q = order_place(key=f"{run}-q{i}", participant=lister, instrument="CEA23", method="listing", side=side, price_fen=price, quantity_t=qty,
                            actor=None, at=at)
            t1 = time.perf_counter()
            lat.append(t1 - t0)
            order_take(key=f"{run}-t{i}", participant=taker, quote_seq=q.seq, quantity_t=qty, actor=None, at=at)
            lat.append(time.perf_counter() - t1)
        except CetsError:
            refused += 1
    queue.put((lat, refused))


def batched_worker(ns: list[int], dbname: str, seconds: float, window: int, barrier, queue) -> None:
    """One client process of the group commit: each client ``n`` of ``ns`` is a thread with its own connection
    (Django's connections are per thread), as pgbench's ``-j`` runs its clients as threads of one process."""
    import threading

    django_setup(dbname)
    from django.db import connection

    from cets.parties.models import Organisation

    orgs = list(Organisation.objects.filter(name__startswith="基准交易").order_by("pk"))
    connection.close()
    ready, go = threading.Barrier(len(ns) + 1), threading.Event()
    threads = [threading.Thread(target=batched_client, args=(n, orgs, seconds, window, ready, go, queue, len(ns) > 1)) for n in ns]
    for t in threads:
        t.start()
    try:
        ready.wait(timeout=300)
    except threading.BrokenBarrierError:
        barrier.abort()  # a client could not start: the run stops here instead of waiting for it
        raise
    barrier.wait()
    go.set()
    for t in threads:
        t.join()


def batched_client(n: int, orgs: list, seconds: float, window: int, ready, go, queue, threaded: bool) -> None:
    """A client of the group commit: appends a listing quote by its lister, then a take of that quote in full by its
    taker (the quote is taken while still in the queue), keeping at most ``window`` of its commands not yet applied —
    it sleeps on the applied position's notifications (``wait_applied``), it does not poll; reports (seq, append
    start) of each command and its CPU seconds."""
    import datetime as dt
    import random
    from zoneinfo import ZoneInfo

    from django.db import connection

    from cets.core.errors import CetsError
    from cets.trading.services import order_place_queued, order_take_queued, wait_applied

    at = dt.datetime(2024, 11, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    lister, taker = pair(n, orgs)
    rng = random.Random(n)
    sent: list[tuple[int, float]] = []
    refused = 0
    run = f"{os.getpid()}-{n}-{time.time_ns()}"
    prof = None
    if os.environ.get("CETS_BENCH_PROFILE") and n == 0:  # a cProfile of client 0 too, next to the sequencer's
        import cProfile

        prof = cProfile.Profile()
    try:
        connection.ensure_connection()
    except Exception:
        ready.abort()
        raise
    clock = time.thread_time if threaded else time.process_time
    ready.wait(timeout=300)
    go.wait(timeout=300)
    end = time.perf_counter() + seconds
    cpu0 = clock()
    if prof is not None:
        prof.enable()
    i = 0
    applied = 0
    while time.perf_counter() < end:
        if len(sent) >= window and sent[-window][0] > applied:
            applied = wait_applied(market="national", seq=sent[-window][0], timeout_ms=max(0, min(1_000, int((end - time.perf_counter()) * 1000))))
            continue
        i += 1
        side, price, qty = quote_terms(i, rng)
        t0 = time.time()
        try:
            q = order_place_queued(key=f"{run}-q{i}", participant=lister, instrument="CEA23", method="listing", side=side, price_fen=price,
                                   quantity_t=qty, actor=None, at=at)
            sent.append((q.seq, t0))
            t1 = time.time()
            o = order_take_queued(key=f"{run}-t{i}", participant=taker, quote_seq=q.seq, quantity_t=qty, actor=None, at=at)
            sent.append((o.seq, t1))
        except CetsError:
            refused += 1
    cpu = clock() - cpu0
    if prof is not None:
        prof.disable()
        prof.dump_stats(os.environ["CETS_BENCH_PROFILE"] + ".client0")
    connection.close()
    queue.put((sent, refused, cpu))


def sequencer(dbname: str, batch: int, stop, barrier, queue) -> None:
    """The group commit's sequencer: drains the log in batches until told to stop and the log is applied; reports
    (applied seq, commit time) after each drain, batch sizes and fallbacks."""
    django_setup(dbname)
    from django.db.models import Max

    from cets.trading.models import Order
    from cets.trading.services import FALLBACKS, sequencer_drain

    commits: list[tuple[int, float]] = []
    sizes: list[int] = []
    from cets.trading.services import orders as _orders

    real = _orders._drain_batch

    def timed(*a, **kw):
        out = real(*a, **kw)
        if out:
            commits.append((out[-1].seq, time.time()))
            sizes.append(len(out))
        return out

    _orders._drain_batch = timed
    prof = None
    if os.environ.get("CETS_BENCH_PROFILE"):  # a cProfile of the sequencer, written next to the results
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    barrier.wait()
    cpu0 = time.process_time()
    while True:
        done = stop.is_set()
        n = sequencer_drain(market="national", batch=batch)
        if done:
            last = Order.objects.filter(market="national").aggregate(m=Max("seq"))["m"] or 0
            if not commits or commits[-1][0] >= last:
                break
        if not n:
            time.sleep(0.005)
    if prof is not None:
        prof.disable()
        prof.dump_stats(os.environ["CETS_BENCH_PROFILE"])
    queue.put(("sequencer", commits, sizes, FALLBACKS.get("national", 0), time.process_time() - cpu0))


def run_batched(args, dbname: str, pg: dict, facts: dict) -> int:
    import bisect

    from django.db import connections

    connections.close_all()
    ctx = mp.get_context("spawn")
    nproc = min(args.processes or args.clients, args.clients)
    groups = [list(range(args.clients))[i::nproc] for i in range(nproc)]  # the clients as threads, spread over the processes
    barrier, queue, stop = ctx.Barrier(nproc + 2), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=batched_worker, args=(ns, dbname, args.seconds, args.window, barrier, queue)) for ns in groups]
    seqp = ctx.Process(target=sequencer, args=(dbname, args.batch, stop, barrier, queue))
    for p in [*procs, seqp]:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    results = [queue.get() for _ in range(args.clients)]
    stop.set()
    seq_out = queue.get()
    elapsed = time.perf_counter() - t0
    for p in [*procs, seqp]:
        p.join()
    _, commits, sizes, fallbacks, seq_cpu = seq_out
    from cets.registry.audit import audit_verify
    from cets.trading.funds import funds_verify
    from cets.trading.models import Order, Trade

    applied_at = [c[0] for c in commits]
    lat = []
    for sent, _, _ in results:
        for seq, t_start in sent:
            i = bisect.bisect_left(applied_at, seq)
            if i < len(commits):
                lat.append(commits[i][1] - t_start)
    lat.sort()
    orders, accepted, rejected = counts()
    unapplied = Order.objects.filter(status=Order.Status.RECEIVED).count()
    trades = Trade.objects.count()
    audit = audit_verify()
    fund_problems = funds_verify()
    cps = round(accepted / elapsed, 1)
    ratio = round(cps / pg["tps"], 3) if pg["tps"] else None
    ok = audit.ok and not fund_problems and not unapplied
    out = {
        "benchmark": "trading_e2e", "mode": "batched", "quick": args.quick,
        "clients": args.clients, "client_processes": nproc,
        "window": args.window, "batch": args.batch, "seconds": round(elapsed, 1), "commands": orders, "accepted": accepted,
        "rejected": rejected, "trades": trades, "accepted_per_s": cps, "trades_per_s": round(trades / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(lat), 2) if lat else None,
        "p99_ms": round(1000 * lat[int(0.99 * (len(lat) - 1))], 2) if lat else None,
        "batches": len(sizes), "batch_mean": round(statistics.mean(sizes), 1) if sizes else None, "fallbacks": fallbacks,
        "unapplied": unapplied,
        "refused_at_entry": sum(r[1] for r in results), "audit_ok": audit.ok, "funds_ok": not fund_problems,
        "client_cpu_ms_per_command": round(1000 * sum(r[2] for r in results) / max(orders, 1), 3),
        "sequencer_cpu_ms_per_command": round(1000 * seq_cpu / max(orders, 1), 3),
        "pgbench": {k: pg[k] for k in ("command", "tps", "transactions", "latency_avg_ms", "failed")}, "scale": args.scale,
        "ratio": ratio,
        "summary": summary(ours=cps, ours_unit="accepted commands/s (append to settled, group commit)", baseline=pg["tps"],
                           baseline_label=f"pgbench TPC-B tps, {args.clients} clients", ratio=ratio, aim=AIM,
                           ratio_means="accepted commands/s ÷ pgbench tps at the same client count",
                           note="" if ok else "audit_verify or funds_verify FAILED, or commands left unapplied"),
        "machine": facts,
    }
    print(json.dumps({k: v for k, v in out.items() if k not in ("machine", "summary")}, indent=2, ensure_ascii=False))
    if not args.no_json:
        write_json(results_path("trading_e2e", args.quick), out)
    connections.close_all()
    if ratio is not None:
        ratio_line(ratio, AIM)
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--db", default="cets_bench_trading")
    ap.add_argument("--scale", type=int, default=10, help="pgbench scale factor of the baseline (default 10)")
    ap.add_argument("--pgbench-mode", choices=("simple", "extended", "prepared"), default="simple")
    ap.add_argument("--quick", action="store_true", help="2 clients, 3 s, pgbench scale 1: validation only, not comparable to a full run")
    ap.add_argument("--mode", choices=("direct", "batched"), default="direct",
                    help="direct (default): order_place/order_take, one transaction per command (the pages' and the API's path); "
                         "batched: the group commit — clients append, one sequencer process drains in batches")
    ap.add_argument("--batch", type=int, default=500, help="batched: most commands per sequencer transaction")
    ap.add_argument("--window", type=int, default=64, help="batched: most commands of one client appended and not yet applied")
    ap.add_argument("--processes", type=int, default=1,
                    help="batched: host the clients as threads of this many processes (default 1, as pgbench -j runs its clients "
                         "as threads of one process; = --clients: one process per client)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.seconds, args.scale = 2, 3, 1
    dbname = check_db_name(args.db)
    if find_pgbench() is None:
        skip("pgbench not found on the PATH nor in /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql-contrib)")
    why = pg_unreachable()
    if why:
        skip(why)
    recreate_db(dbname)
    try:
        return run(args, dbname)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_db(dbname)


def run(args, dbname: str) -> int:
    facts = machine_facts(dbname)
    print(f"pgbench: init -s {args.scale}, then {args.clients} clients for {args.seconds:g} s", file=sys.stderr)
    pg = run_pgbench(dbname, args.clients, args.seconds, args.scale, args.pgbench_mode)
    print(f"pgbench: {pg['tps']:.1f} tps; migrating cets and opening {PARTICIPANTS} participants", file=sys.stderr)
    django_setup(dbname)
    setup(dbname)
    if args.mode == "batched":
        return run_batched(args, dbname, pg, facts)
    from django.db import connections

    connections.close_all()
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(args.clients + 1), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(n, dbname, args.seconds, barrier, queue)) for n in range(args.clients)]
    for p in procs:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    results = [queue.get() for _ in procs]
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    from cets.registry.audit import audit_verify
    from cets.trading.funds import funds_verify
    from cets.trading.models import Trade

    lat = sorted(x for r in results for x in r[0])
    orders, accepted, rejected = counts()
    trades = Trade.objects.count()
    audit = audit_verify()
    fund_problems = funds_verify()
    cps = round(accepted / elapsed, 1)
    ratio = round(cps / pg["tps"], 3) if pg["tps"] else None
    out = {
        "benchmark": "trading_e2e", "mode": "direct", "quick": args.quick,
        "clients": args.clients, "seconds": round(elapsed, 1), "commands": orders, "accepted": accepted, "rejected": rejected, "trades": trades,
        "accepted_per_s": cps, "trades_per_s": round(trades / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(lat), 2) if lat else None,
        "p99_ms": round(1000 * lat[int(0.99 * (len(lat) - 1))], 2) if lat else None,
        "refused": sum(r[1] for r in results), "audit_ok": audit.ok, "funds_ok": not fund_problems,
        "pgbench": {k: pg[k] for k in ("command", "tps", "transactions", "latency_avg_ms", "failed")}, "scale": args.scale,
        "ratio": ratio,
        "summary": summary(ours=cps, ours_unit="accepted commands/s (entry to settled)", baseline=pg["tps"],
                           baseline_label=f"pgbench TPC-B tps, {args.clients} clients", ratio=ratio, aim=AIM,
                           ratio_means="accepted commands/s ÷ pgbench tps at the same client count",
                           note="" if audit.ok and not fund_problems else "audit_verify or funds_verify FAILED"),
        "machine": facts,
    }
    print(json.dumps({k: v for k, v in out.items() if k not in ("machine", "summary")}, indent=2, ensure_ascii=False))
    if not args.no_json:
        write_json(results_path("trading_e2e", args.quick), out)
    connections.close_all()
    if ratio is not None:
        ratio_line(ratio, AIM)
    return 0 if audit.ok and not fund_problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
