"""Costs that stay flat (issue 19): a registry transfer's latency and ``cets audit verify``'s throughput and memory as
the journal grows, on PostgreSQL.

One invocation drops and recreates a scratch database (``cets_bench_scale`` by default; ``make bench`` names it
``bench_scale_<pid>``; it refuses ``cets``, ``postgres``, ``template*``, ``test_*``), migrates it, opens 50 entity
accounts with 1,000,000 t each and the 31 provincial accounts, then grows the journal with the registry's **batch
path** (``issuance_batch_post``, proposals of 20,000 lines: national total → provincial accounts, which have no holder
and so no notices) to each size in turn (default 10^4, 10^5, 10^6 entries; ``--sizes``). At each size it measures:

- a transfer's latency: ``--transfers`` (400) single ``transfer_post``s (``TRANSFER`` between random entity accounts,
  1–10 t, one process, after 50 for warm-up): p50 and p99 in ms;
- ``cets audit verify`` run as its own process (the real command): seconds, entries per second and its peak resident
  memory (``ru_maxrss`` of that process alone, from ``os.wait4``): flat memory means it streams.

Last line: ``ratio: <p50 at the smallest size ÷ p50 at the largest> (aim ≥ 0.833)`` — the issue's aim that the p50
grows by at most 20 % from the smallest to the largest journal, higher is better. JSON: ``bench/results/ledger_scale.json``.

```sh
.venv/bin/python bench/ledger_scale.py                       # 10^4, 10^5, 10^6
.venv/bin/python bench/ledger_scale.py --sizes 10000,1000000,10000000
.venv/bin/python bench/ledger_scale.py --quick               # 10^3 and 10^4, 100 transfers
```
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))
from benchlib import machine_facts, pg_unreachable, ratio_line, results_path, skip, summary, write_json  # noqa: E402
from registry_transfers import check_db_name, db_url, django_setup, drop_db, recreate_db, uscc  # noqa: E402

AIM = round(1 / 1.2, 3)  # the p50 may grow by 20 % at most: small ÷ large ≥ 1/1.2
PROVINCES = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "46",
             "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"]
ENTITIES, START, BATCH = 50, 1_000_000, 20_000


def setup() -> None:
    from cets.parties.models import Organisation
    from cets.registry.models import AccountKind, Instrument, Position, TransferKind
    from cets.registry.services import Leg, account_open, system_account, system_accounts_ensure, transfer_post, vintage_create

    system_accounts_ensure(market="national", provinces=PROVINCES)
    ut = vintage_create(instrument=Instrument.CEA, vintage="2025", cap_t=10**15, key="cap-scale")
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    for i in range(ENTITIES):
        org = Organisation.objects.create(uscc=uscc(i), name=f"规模测试{i}", kind=Organisation.Kind.ENTITY, province="37")
        acc = account_open(holder=org)
        transfer_post(key=f"scale-seed-{i}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                      credit=Leg(acc, Position.REGISTRY), quantity=START)


def journal_size() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM registry_transfer")
        return cur.fetchone()[0]


def grow(target: int, batch_no: list[int]) -> float:
    """Batch issuances of up to BATCH lines until the journal holds ``target`` entries; seconds taken."""
    from cets.registry.models import Account, AccountKind, UnitType
    from cets.registry.services import IssuanceLine, issuance_batch_post

    ut = UnitType.objects.get(code="CEA-2025")
    provinces = list(Account.objects.filter(kind=AccountKind.PROVINCIAL).values_list("number", flat=True))
    t0 = time.perf_counter()
    have = journal_size()
    while have < target:
        n = min(BATCH, target - have)
        lines = [IssuanceLine(account=provinces[i % len(provinces)], quantity=1 + i % 7) for i in range(n)]
        issuance_batch_post(key=f"grow-{batch_no[0]}", unit_type=ut, lines=lines, actor=None, approver=None)
        batch_no[0] += 1
        have += n
        print(f"  journal {have:,} entries ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    return time.perf_counter() - t0


def transfers(n: int, warmup: int, tag: str) -> dict:
    from cets.registry.models import Account, AccountKind, Position, TransferKind, UnitType
    from cets.registry.services import Leg, transfer_post

    ut = UnitType.objects.get(code="CEA-2025")
    accounts = list(Account.objects.filter(kind=AccountKind.ENTITY).order_by("pk"))
    rng = random.Random(20261204)
    lat: list[float] = []
    for i in range(warmup + n):
        a, b = rng.sample(accounts, 2)
        t = time.perf_counter()
        transfer_post(key=f"scale-{tag}-{i}", kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(a, Position.REGISTRY),
                      credit=Leg(b, Position.REGISTRY), quantity=rng.randint(1, 10))
        if i >= warmup:
            lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    return {"n": n, "p50_ms": round(statistics.median(lat), 3), "p99_ms": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))], 3),
            "mean_ms": round(statistics.fmean(lat), 3)}


def audit(dbname: str) -> dict:
    """``cets audit verify`` as its own process: wall seconds, exit code and that process's peak RSS."""
    env = {**os.environ, "CETS_DATABASE_URL": db_url(dbname), "PYTHONPATH": str(HERE.parent / "src")}
    cmd = [sys.executable, "-c", "import sys; from cets.cli import main; sys.exit(main(['audit', 'verify']))"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    secs = time.perf_counter() - t0
    return {"seconds": round(secs, 2), "exit": proc.returncode, "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "tail": out.strip().splitlines()[-1] if out.strip() else ""}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10000,100000,1000000", help="journal sizes, ascending, comma-separated")
    p.add_argument("--transfers", type=int, default=400)
    p.add_argument("--database", default="cets_bench_scale")
    p.add_argument("--quick", action="store_true", help="10^3 and 10^4 entries, 100 transfers")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--no-json", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.sizes, args.transfers = "1000,10000", 100
    sizes = sorted(int(s) for s in args.sizes.split(","))
    dbname = check_db_name(args.database)
    reason = pg_unreachable()
    if reason:
        skip(reason)
    facts = machine_facts()
    print(f"load average at start: {facts['loadavg_at_start']}", file=sys.stderr)
    recreate_db(dbname)
    try:
        django_setup(dbname)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        setup()
        rows = []
        batch_no = [0]
        for size in sizes:
            grown = grow(size, batch_no)
            entries = journal_size()
            tr = transfers(args.transfers, 50, str(size))
            au = audit(dbname)
            entries_audited = journal_size()
            row = {"size": size, "entries": entries, "grow_s": round(grown, 1), "transfer": tr, "audit": au,
                   "audit_entries_per_s": round(entries_audited / au["seconds"]) if au["seconds"] else None,
                   "loadavg": [round(x, 2) for x in os.getloadavg()]}
            rows.append(row)
            print(f"{size:>12,} entries: transfer p50 {tr['p50_ms']:.2f} ms p99 {tr['p99_ms']:.2f} ms | audit verify "
                  f"{au['seconds']:.1f} s, {row['audit_entries_per_s']:,} entries/s, peak {au['peak_rss_mb']:.0f} MB, exit {au['exit']} "
                  f"| grown in {grown:.0f} s | load {row['loadavg']}", flush=True)
        from django.db import connections

        connections.close_all()
    finally:
        if not args.keep:
            drop_db(dbname)
    ratio = rows[0]["transfer"]["p50_ms"] / rows[-1]["transfer"]["p50_ms"]
    ok = all(r["audit"]["exit"] == 0 for r in rows)
    if not args.no_json:
        write_json(results_path("ledger_scale", args.quick), {
            "summary": summary(ours=rows[-1]["transfer"]["p50_ms"], ours_unit=f"transfer p50 ms at {sizes[-1]:,} entries",
                               baseline=rows[0]["transfer"]["p50_ms"], baseline_label=f"transfer p50 ms at {sizes[0]:,} entries",
                               ratio=round(ratio, 3), aim=AIM, ratio_means="p50 small ÷ p50 large (≥ 0.833: grows ≤ 20 %)",
                               note="" if ok else "audit verify failed"),
            "rows": rows, "machine": facts, "self_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})
    if not ok:
        print("audit verify failed", file=sys.stderr)
        raise SystemExit(1)
    ratio_line(ratio, AIM)


if __name__ == "__main__":
    main()
