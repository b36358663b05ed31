"""Pure order book throughput: our ``cets.trading.book.Book`` (continuous method) next to peer Python
matching engines from PyPI, on one seeded workload, in the same run.

The workload (``--commands``, default 200,000; ``--seed``): limit buys and sells of one instrument around a
mid price of 51.23 CNY (5123 fen), inside the ±10 % band, prices drawn so that about half of the orders
cross the opposite side, quantities 1 … 1,000 t; about 20 % of the commands cancel one of the last 2,000
orders (which may be filled already: every engine then does nothing). Every order has its own participant,
so our self-trade prevention never fires and every engine must report the same traded volume and turnover.

Each engine gets the same primitive tuples and turns them into its own API calls inside the timed loop
(building our ``Place``/``Cancel`` commands counts for us, building a peer's order object counts for it).
Each engine runs ``--repeat`` times on a fresh book, in rounds (every engine once per round, so a burst of
load on the shared machine hits all of them); the best run is reported. Orders per second = commands ÷ CPU
seconds of the process (``time.process_time``), the wall-clock rate is kept beside it. Peers are imported from the
environment: ``pip install -e '.[bench]'`` installs them at the pinned versions; ``--peers DIR`` adds a ``pip install
--target`` directory (appended to ``sys.path``, so the environment's packages win); a peer that is not installed is
skipped and said so. Peers:

- ``lightmatchingengine`` (pure Python, price-time, trades at the resting price);
- ``pyorderbook`` (pure Python, heap of price levels, trades at the resting price, ``Decimal`` prices);
- ``manticore-orderbook`` (pure Python, dict-based book with events, fees, stops and expiry thread);
- ``limit-order-book`` (C++ with a ctypes wrapper; a *native reference*, not a Python peer: it reports no
  trades, so its check is the volume left resting; it is left out of the ratio).

Prints a table, writes ``bench/results/orderbook.json`` (``--quick``: ``bench/results/quick/``) and, last,
``ratio: <ours ÷ fastest Python peer> (aim ≥ 2)``. ``--profile`` runs our book once under cProfile and prints the hot
spots. A benchmark, not a test: it asserts nothing about speed.

Run:  .venv/bin/python bench/orderbook.py            (peers: .venv/bin/pip install -e '.[bench]')
      .venv/bin/python bench/orderbook.py --quick    (20,000 commands, one round: a few seconds)
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import logging
import platform
import pstats
import random
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(HERE))
from benchlib import SKIP, machine_facts, ratio_line, results_path, summary, write_json  # noqa: E402

AIM = 2.0

MID, BAND = 5123, 512  # fen; ±10 % of 5123 is 4611 … 5635 (our listing/continuous band)
INSTRUMENT = "CEA"


# --- workload --------------------------------------------------------------------------------------


def workload(n: int, seed: int) -> list[tuple]:
    """``n`` commands: ("P", i, side "B"/"S", price fen, qty t, participant) or ("C", i, target i, participant)."""
    rng = random.Random(seed)
    out: list[tuple] = []
    placed: list[tuple[int, str]] = []
    for i in range(1, n + 1):
        if placed and rng.random() < 0.2:
            target, who = placed[-1 - rng.randrange(min(len(placed), 2000))]
            out.append(("C", i, target, who))
            continue
        side = "B" if rng.random() < 0.5 else "S"
        # buys centred a little below the mid, sells a little above: about half the orders cross
        price = MID + int(rng.gauss(-4 if side == "B" else 4, 12))
        price = min(MID + BAND, max(MID - BAND, price))
        qty = 1 + int(rng.expovariate(1 / 120)) % 1000
        who = f"P{i}"
        out.append(("P", i, side, price, qty, who))
        placed.append((i, who))
    return out


# --- engines: each returns ((cpu s, wall s), traded volume t, turnover fen, trades, extra) --------


def _now() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def _since(t0: tuple[float, float]) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) since ``t0``. CPU time is the figure compared: the machine is
    shared, and another process taking the CPU lengthens the wall time but not this process's CPU time."""
    return time.process_time() - t0[0], time.perf_counter() - t0[1]


def run_ours(cmds):
    from cets.trading.book import Book, Cancel, OpenDay, Place, Traded

    book = Book()
    book.apply(OpenDay(0, INSTRUMENT, MID))
    vol = amount = ntr = 0
    t0 = _now()
    for c in cmds:
        if c[0] == "P":
            ev = book.apply(Place(c[1], c[5], INSTRUMENT, "continuous", c[2], c[3], c[4]))
        else:
            ev = book.apply(Cancel(c[1], c[3], c[2]))
        if len(ev) > 1:
            for e in ev:
                if type(e) is Traded:
                    vol += e.quantity_t
                    amount += e.quantity_t * e.price_fen
                    ntr += 1
    secs = _since(t0)
    return (
        secs,
        vol,
        amount,
        ntr,
        {
            "resting_t": resting_ours(book),
            "resting_orders": len(book.orders),
            "price_levels": sum(len(s.prices) for s in book.instruments[INSTRUMENT].sides.values()),
        },
    )


def resting_ours(book) -> dict:
    return {s: sum(q for _, q, _ in book.depth(INSTRUMENT, "continuous", s, 10_000)) for s in ("B", "S")}


def run_lightmatchingengine(cmds):
    from lightmatchingengine.lightmatchingengine import LightMatchingEngine, Side

    lme = LightMatchingEngine()
    ids: dict[int, object] = {}
    vol = amount = ntr = 0
    buy, sell = Side.BUY, Side.SELL
    t0 = _now()
    for c in cmds:
        if c[0] == "P":
            order, trades = lme.add_order(INSTRUMENT, c[3], c[4], buy if c[2] == "B" else sell)
            ids[c[1]] = order
            for t in trades:
                if t.order_id != order.order_id:  # passive fills (the aggressive one is their sum per level)
                    vol += t.trade_qty
                    amount += t.trade_qty * t.trade_price
                    ntr += 1
        else:
            o = ids[c[2]]
            if o.leaves_qty:  # it keeps passively filled orders in its id map and asserts on their cancel
                lme.cancel_order(o.order_id, INSTRUMENT)
    secs = _since(t0)
    ob = lme.order_books[INSTRUMENT]
    rest = {"B": sum(o.leaves_qty for lv in ob.bids.values() for o in lv), "S": sum(o.leaves_qty for lv in ob.asks.values() for o in lv)}
    return secs, vol, amount, ntr, {"resting_t": rest}


def run_pyorderbook(cmds):
    logging.getLogger("pyorderbook.book").setLevel(logging.WARNING)
    from pyorderbook import Book, Order, Side

    book = Book()
    orders: dict[int, object] = {}
    vol = amount = ntr = 0
    bid, ask = Side.BID, Side.ASK
    live = book.order_map
    t0 = _now()
    for c in cmds:
        if c[0] == "P":
            o = Order(bid if c[2] == "B" else ask, INSTRUMENT, c[3], c[4])
            orders[c[1]] = o
            blotter = book.match(o)
            for t in blotter.trades:
                vol += t.fill_quantity
                amount += t.fill_quantity * int(t.fill_price)
                ntr += 1
        else:
            o = orders[c[2]]
            if o.id in live:  # its cancel raises KeyError (and logs) for an order no longer in the book
                book.cancel(o)
    secs = _since(t0)
    rest = {"B": sum(o.quantity for o in live.values() if o.side == bid), "S": sum(o.quantity for o in live.values() if o.side == ask)}
    return secs, vol, amount, ntr, {"resting_t": rest}


def run_manticore(cmds):
    from manticore_orderbook import OrderBook
    from manticore_orderbook.event_manager import EventType

    logging.getLogger("manticore_orderbook").setLevel(logging.ERROR)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("manticore"):
            logging.getLogger(name).setLevel(logging.ERROR)
    book = OrderBook(INSTRUMENT, enable_logging=False, log_level=logging.ERROR, max_trade_history=10, check_expiry_interval=3600.0)
    acc = {"vol": 0, "amount": 0, "n": 0}

    def on_trade(event_type, d):
        acc["vol"] += d["quantity"]
        acc["amount"] += d["quantity"] * d["price"]
        acc["n"] += 1

    book.event_manager.subscribe(EventType.TRADE, on_trade)
    t0 = _now()
    for c in cmds:
        if c[0] == "P":
            book.add_order("buy" if c[2] == "B" else "sell", c[3], c[4], order_id=str(c[1]), user_id=c[5])
        else:
            book.cancel_order(str(c[2]))
    secs = _since(t0)
    snap = book.get_snapshot(depth=100_000)
    rest = {"B": sum(lv["quantity"] for lv in snap["bids"]), "S": sum(lv["quantity"] for lv in snap["asks"])}
    try:
        book.expiry_manager.stop()
    except Exception:  # noqa: BLE001 - the peer's own shutdown; nothing of ours depends on it
        pass
    return secs, int(acc["vol"]), int(round(acc["amount"])), acc["n"], {"resting_t": rest}


def run_limit_order_book(cmds):
    from limit_order_book import LimitOrderBook

    lob = LimitOrderBook()
    t0 = _now()
    for c in cmds:
        if c[0] == "P":
            lob.limit(c[2] == "B", c[1], c[4], c[3])
        elif lob.has(c[2]):
            lob.cancel(c[2])
    secs = _since(t0)
    rest = {"B": lob.volume_buy(), "S": lob.volume_sell()}
    return secs, None, None, None, {"resting_t": rest}


ENGINES = [
    # name (with the installed version, if any), module to probe, runner, role
    ("cets Book (continuous)", "cets.trading.book", run_ours, "ours"),
    ("lightmatchingengine", "lightmatchingengine", run_lightmatchingengine, "peer"),
    ("pyorderbook", "pyorderbook", run_pyorderbook, "peer"),
    ("manticore-orderbook", "manticore_orderbook", run_manticore, "peer"),
    ("limit-order-book (C++)", "limit_order_book", run_limit_order_book, "native reference"),
]


def label(name: str, role: str) -> str:
    if role == "ours":
        return name
    dist = name.split(" ")[0]
    try:
        return name.replace(dist, f"{dist} {metadata.version(dist)}", 1)
    except Exception:  # noqa: BLE001 - the version is only a label (a --peers directory may hold no metadata)
        return name


def installed(module: str) -> str | None:
    """None if importable, else the reason it is not."""
    try:
        __import__(module)
        return None
    except Exception as e:  # noqa: BLE001 - any import failure means: skip this peer and say why
        return f"{type(e).__name__}: {e}"


def profile_ours(cmds, top: int = 15) -> str:
    pr = cProfile.Profile()
    pr.enable()
    run_ours(cmds)
    pr.disable()
    s = io.StringIO()
    pstats.Stats(pr, stream=s).strip_dirs().sort_stats("tottime").print_stats(top)
    return s.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commands", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=20261121)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="20,000 commands, one round (validation; not comparable to a full run)")
    ap.add_argument("--peers", default=None, help="an extra pip --target directory with peer engines (they normally come from .[bench])")
    ap.add_argument("--only", default="", help="comma-separated substrings of engine names to run")
    ap.add_argument("--profile", action="store_true", help="run our book under cProfile and print the hot spots")
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.commands, args.repeat = min(args.commands, 20_000), 1
    facts = machine_facts()

    if args.peers:
        if not Path(args.peers).is_dir():
            print(f"--peers {args.peers}: no such directory", file=sys.stderr)
            return 2
        sys.path.append(args.peers)
    cmds = workload(args.commands, args.seed)
    n_place = sum(1 for c in cmds if c[0] == "P")
    print(
        f"workload: {len(cmds):,} commands ({n_place:,} limit orders, {len(cmds) - n_place:,} cancels), seed {args.seed}, mid {MID} fen, repeat {args.repeat}"
    )

    chosen = []
    results = []
    for name, module, runner, role in ENGINES:
        if args.only and not any(x.strip().lower() in name.lower() for x in args.only.split(",")):
            continue
        why = installed(module)
        if why:
            print(f"  skipped {name}: not installed ({why})")
            results.append({"engine": name, "role": role, "status": "skipped", "reason": f"not installed: {why}"})
            continue
        chosen.append((label(name, role), runner, role, []))
    # rounds: every engine once per round, so a burst of load on the shared machine hits all of them
    for k in range(args.repeat):
        for name, runner, role, runs in chosen:
            gc.collect()
            runs.append(runner(cmds))
            cpu, wall = runs[-1][0]
            print(f"  round {k + 1}: {name:32s} {len(cmds) / cpu:>12,.0f} orders/s CPU  ({cpu:.3f} s CPU, {wall:.3f} s wall)")
    for name, runner, role, runs in chosen:
        (cpu, wall), vol, amount, ntr, extra = min(runs, key=lambda r: r[0][0])
        results.append(
            {
                "engine": name,
                "role": role,
                "status": "ok",
                "cpu_seconds": round(cpu, 4),
                "wall_seconds": round(wall, 4),
                "runs_cpu_seconds": [round(r[0][0], 4) for r in runs],
                "orders_per_s": round(len(cmds) / cpu),
                "orders_per_s_wall": round(len(cmds) / wall),
                "traded_t": vol,
                "turnover_fen": amount,
                "trades": ntr,
                **extra,
            }
        )
    results.sort(key=lambda r: ["ours", "peer", "native reference"].index(r["role"]))  # stable: ENGINES order

    ours = next((r for r in results if r["role"] == "ours" and r["status"] == "ok"), None)
    peers = [r for r in results if r["role"] == "peer" and r["status"] == "ok"]
    fastest = max(peers, key=lambda r: r["orders_per_s"]) if peers else None
    ratio = round(ours["orders_per_s"] / fastest["orders_per_s"], 3) if ours and fastest else None

    # sanity: the same traded volume and turnover (and the same volume left resting) as ours
    checks = []
    for r in results:
        if r["status"] != "ok" or r is ours or not ours:
            continue
        same_trades = None if r["traded_t"] is None else (r["traded_t"], r["turnover_fen"]) == (ours["traded_t"], ours["turnover_fen"])
        same_rest = r["resting_t"] == ours["resting_t"]
        r["same_as_ours"] = {"traded_volume_and_turnover": same_trades, "resting_volume": same_rest}
        checks.append((r["engine"], same_trades, same_rest))

    print()
    print(f"{'engine':34s} {'orders/s':>12s} {'× ours':>8s} {'traded t':>14s} {'turnover fen':>18s} {'same trades':>11s} {'same resting':>12s}")
    for r in results:
        if r["status"] != "ok":
            print(f"{r['engine']:34s} {'skipped':>12s}   {r['reason'][:60]}")
            continue
        rel = f"{ours['orders_per_s'] / r['orders_per_s']:.2f}" if ours and r is not ours else "—"
        same = r.get("same_as_ours", {})
        st = {True: "yes", False: "NO", None: "n/a"}
        print(
            f"{r['engine']:34s} {r['orders_per_s']:>12,} {rel:>8s} "
            f"{r['traded_t'] if r['traded_t'] is not None else 'n/a':>14} {r['turnover_fen'] if r['turnover_fen'] is not None else 'n/a':>18} "
            f"{st[same.get('traded_volume_and_turnover')] if r is not ours else '—':>11s} "
            f"{st[same.get('resting_volume')] if r is not ours else '—':>12s}"
        )
    if ours:
        print(f"\nbook at the end: {ours['resting_orders']:,} resting orders on {ours['price_levels']:,} price levels")
    if ratio is not None:
        print(f"ours / fastest Python peer ({fastest['engine']}): {ratio}  (aim: ≥ {AIM:g})")
    else:
        print("\nno Python peer ran: no ratio")

    prof = None
    if args.profile and ours:
        prof = profile_ours(cmds)
        print("\ncProfile of our book (tottime):\n" + prof)

    if not args.no_json:
        out = {
            "benchmark": "orderbook",
            "quick": args.quick,
            "when_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": {**facts, "processor": platform.processor() or platform.machine()},
            "summary": summary(ours=ours["orders_per_s"] if ours else None, ours_unit="orders/s CPU",
                               baseline=fastest["orders_per_s"] if fastest else None,
                               baseline_label=f"fastest Python peer ({fastest['engine']})" if fastest else "fastest Python peer",
                               ratio=ratio, aim=AIM, ratio_means="ours ÷ fastest Python peer, orders per CPU second"),
            "workload": {
                "commands": len(cmds),
                "limit_orders": n_place,
                "cancels": len(cmds) - n_place,
                "seed": args.seed,
                "mid_fen": MID,
                "repeat": args.repeat,
            },
            "engines": results,
            "ours_over_fastest_peer": ratio,
            "fastest_peer": fastest["engine"] if fastest else None,
            "aim": "ours ≥ 2 × the fastest Python peer (issue 6, Benchmarks; issue 19)",
        }
        write_json(results_path("orderbook", args.quick), out)
    if ratio is None and args.only:
        return 0  # peers left out on purpose (--only): no ratio to give
    if ratio is None:
        missing = ", ".join(r["engine"] for r in results if r["role"] == "peer" and r["status"] != "ok")
        print(f"skipped: no Python peer could be imported ({missing}); .venv/bin/pip install -e '.[bench]'")
        return SKIP
    ratio_line(ratio, AIM)
    return 0


if __name__ == "__main__":
    sys.exit(main())
