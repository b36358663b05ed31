"""The group commit's sequencer alone, single process, on PostgreSQL: CPU per applied command (issue 19).

One invocation:
1. (re)creates a dedicated database (default ``bench_sequencer``; ``--reuse`` keeps one a previous run left) with the
   participants of ``trading_e2e.py`` (40 key emitting entities with allowances and funds, the CEA23 day open);
2. per round, appends N commands with ``order_place_queued`` / ``order_take_queued`` that do not race: listing quotes
   (sells and buys), most of them taken in full by another participant's take appended right after (each take names
   its own quote, so the book refuses none), the rest left resting at prices outside the taken level;
3. times ``sequencer_drain(batch=...)`` alone: the process's CPU (``time.process_time``: the Python side), the server
   backend's CPU (``/proc/<pid>/stat`` of ``pg_backend_pid()``, when readable) and the statements sent (psycopg's
   ``execute`` / ``executemany`` / ``copy`` calls, counted on the client);
4. prints commands applied per CPU-second (Python, and Python + server), statements per batch, trades, and with
   ``--profile FILE`` dumps a cProfile of the drains (``--top K`` prints the K costliest functions); ``--phases``
   prints the Python CPU and wall time per command of each part of a batch (reading the orders, the checks and book
   in memory, each write of the flush, the commit) — cheaper and less distorting than cProfile.

A benchmark, not a test: it measures and reports; it asserts nothing about speed. Numbers from one round swing
with the machine's load; the CPU per command is the steadier figure.

Run:  .venv/bin/python bench/sequencer_profile.py --commands 1000 --rounds 3
      .venv/bin/python bench/sequencer_profile.py --reuse --profile /tmp/seq.prof --top 30
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import pg_unreachable, skip  # noqa: E402
from registry_transfers import check_db_name, recreate_db  # noqa: E402
from trading_e2e import django_setup, setup  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of the PostgreSQL backend ``pid``, None when /proc does not show it."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


class Statements:
    """Counts the statements psycopg sends (every cursor's execute, executemany and copy), while on."""

    def __init__(self) -> None:
        import psycopg

        self.n = 0
        self.on = False
        counter = self
        for name in ("execute", "executemany", "copy"):
            real = getattr(psycopg.Cursor, name)

            def wrap(self, *a, _real=real, **kw):
                if counter.on:
                    counter.n += 1
                return _real(self, *a, **kw)

            setattr(psycopg.Cursor, name, wrap)


PHASES = [  # (module, attribute, label): the parts of a batch timed by --phases
    ("cets.trading.services.orders", "_drain_batch", "batch (all)"),
    ("cets.trading.services.orders", "_market_lock", "  market lock"),
    ("cets.trading.services.orders._DrainCache", "with_parties", "  orders read"),
    ("cets.trading.services.orders", "_deferred_start", "  positions read"),
    ("cets.trading.services.orders", "_apply_one", "  checks, book, settlement in memory"),
    ("cets.trading.services.groupcommit", "orders_save", "  flush: orders"),
    ("cets.trading.services.groupcommit", "trades_write", "  flush: trades"),
    ("cets.trading.services.groupcommit", "transfer_batch_post", "  flush: registry lines"),
    ("cets.registry.services.batch_transfers", "_notices_write", "    of which notices"),
    ("cets.trading.services.funds", "post_batch", "  flush: fund entries"),
    ("psycopg", "Connection.commit", "  commit"),
]


def phases_on(acc: dict) -> None:
    """Wrap the functions of :data:`PHASES` to add their (CPU, wall) seconds to ``acc[label]``."""
    import importlib

    for module, attr, label in PHASES:
        owner_name, _, name = attr.rpartition(".")
        try:
            owner = importlib.import_module(module)
        except ImportError:  # a class path: module.Class
            mod, _, cls = module.rpartition(".")
            owner = getattr(importlib.import_module(mod), cls)
        if owner_name:
            owner = getattr(owner, owner_name)
        real = getattr(owner, name, None)
        if real is None:
            continue

        def timed(*a, _real=real, _label=label, **kw):
            c, w = time.process_time(), time.perf_counter()
            try:
                return _real(*a, **kw)
            finally:
                cw = acc.setdefault(_label, [0.0, 0.0])
                cw[0] += time.process_time() - c
                cw[1] += time.perf_counter() - w

        setattr(owner, name, timed)


def append_round(run: str, n: int, orgs: list, at) -> int:
    """Append about ``n`` commands that do not race: a quote, then (three times in four) a take of that quote in full by
    the next participant; an untaken quote rests outside the taken price (sells 9,600+, buys 9,400-)."""
    from cets.trading.services import order_place_queued, order_take_queued

    k = 0
    i = 0
    while k < n:
        me, other = orgs[i % len(orgs)], orgs[(i + 1) % len(orgs)]
        side = "S" if i % 2 else "B"
        taken = i % 4 != 3
        price = 9_500 if taken else (9_600 + i % 50 if side == "S" else 9_400 - i % 50)
        qty = 1 + i % 50
        q = order_place_queued(key=f"{run}-q{i}", participant=me, instrument="CEA23", method="listing", side=side, price_fen=price,
                               quantity_t=qty, actor=None, at=at)
        k += 1
        if taken and k < n:
            order_take_queued(key=f"{run}-t{i}", participant=other, quote_seq=q.seq, quantity_t=qty, actor=None, at=at)
            k += 1
        i += 1
    return k


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="bench_sequencer")
    ap.add_argument("--reuse", action="store_true", help="use the database a previous run left (no drop, no setup)")
    ap.add_argument("--commands", type=int, default=1000, help="commands appended per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--profile", default="", help="dump a cProfile of the drains to this file")
    ap.add_argument("--top", type=int, default=0, help="print the K costliest functions of the profile (cumulative and own time)")
    ap.add_argument("--phases", action="store_true", help="print the CPU and wall time per command of each part of a batch")
    args = ap.parse_args()
    dbname = check_db_name(args.db)
    if (why := pg_unreachable()) is not None:
        skip(why)
        return 0
    if not args.reuse:
        recreate_db(dbname)
    django_setup(dbname)
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.db import connection

    from cets.parties.models import Organisation
    from cets.trading.models import Order, Trade
    from cets.trading.services import FALLBACKS, sequencer_drain

    if not args.reuse:
        setup(dbname)
    sequencer_drain(market="national", batch=args.batch)  # whatever the setup or an earlier run left
    at = dt.datetime(2024, 11, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    orgs = list(Organisation.objects.filter(name__startswith="基准交易").order_by("pk"))
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    stmts = Statements()
    phases: dict[str, list[float]] = {}
    if args.phases:
        phases_on(phases)
    prof = None
    if args.profile or args.top:
        import cProfile

        prof = cProfile.Profile()
    tot_cmd = tot_cpu = tot_srv = tot_wall = 0.0
    tot_stmt = tot_batches = 0
    for r in range(args.rounds):
        run = f"p{os.getpid()}-{time.time_ns()}-{r}"
        appended = append_round(run, args.commands, orgs, at)
        trades0 = Trade.objects.count()
        batches = -(-appended // args.batch)
        s0, c0, w0 = backend_cpu(pid), time.process_time(), time.perf_counter()
        stmts.n, stmts.on = 0, True
        if prof is not None:
            prof.enable()
        applied = sequencer_drain(market="national", batch=args.batch)
        if prof is not None:
            prof.disable()
        stmts.on = False
        cpu, wall, s1 = time.process_time() - c0, time.perf_counter() - w0, backend_cpu(pid)
        srv = (s1 - s0) if s0 is not None and s1 is not None else float("nan")
        trades = Trade.objects.count() - trades0
        rejected = Order.objects.filter(key__startswith=run, status=Order.Status.REJECTED).count()
        print(f"round {r + 1}: appended {appended}, applied {applied} in {batches} batch(es), trades {trades}, rejected {rejected}, "
              f"wall {wall:.3f} s, Python CPU {cpu:.3f} s, server CPU {srv:.3f} s, statements {stmts.n} "
              f"({stmts.n / batches:.1f} per batch); {applied / cpu:,.0f} commands per Python CPU-second, "
              f"{applied / (cpu + srv):,.0f} per CPU-second with the server", flush=True)
        tot_cmd += applied
        tot_cpu += cpu
        tot_srv += srv
        tot_wall += wall
        tot_stmt += stmts.n
        tot_batches += batches
    print(f"total: {tot_cmd:.0f} commands, {tot_cmd / tot_cpu:,.0f} per Python CPU-second ({1000 * tot_cpu / tot_cmd:.3f} ms each), "
          f"{tot_cmd / (tot_cpu + tot_srv):,.0f} per CPU-second with the server ({1000 * tot_srv / tot_cmd:.3f} ms server each), "
          f"{tot_cmd / tot_wall:,.0f} per wall second, {tot_stmt / tot_batches:.1f} statements per batch, fallbacks {FALLBACKS.get('national', 0)}")
    if args.phases:
        for label, (c, w) in phases.items():
            print(f"{label:40s} CPU {1000 * c / tot_cmd:.4f} ms, wall {1000 * w / tot_cmd:.4f} ms per command")
    if prof is not None:
        if args.profile:
            prof.dump_stats(args.profile)
        if args.top:
            import pstats

            st = pstats.Stats(prof)
            st.sort_stats("cumulative").print_stats(args.top)
            st.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
